"""Strategies: a protocol, a registry selectable by setting, and the built-ins."""

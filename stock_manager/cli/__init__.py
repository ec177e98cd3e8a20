"""The ``stock-manager`` command."""

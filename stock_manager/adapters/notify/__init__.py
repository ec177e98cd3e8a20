"""Notifiers: Slack (slack-sdk) and a log-only fallback."""

"""Rendering reports: text tables for the terminal and PNG charts for people and Slack."""

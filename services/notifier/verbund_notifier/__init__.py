"""Verbund notifier service."""

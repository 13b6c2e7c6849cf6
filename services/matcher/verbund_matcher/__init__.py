"""Verbund matcher service."""

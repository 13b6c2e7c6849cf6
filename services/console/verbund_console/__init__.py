"""Verbund console: the coordinators' live web view of a network's plan, built from its own read model."""

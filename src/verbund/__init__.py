"""Verbund: the command line, the local stack and the demo."""

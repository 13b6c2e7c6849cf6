"""Operability: metrics, health endpoint, structured logs."""

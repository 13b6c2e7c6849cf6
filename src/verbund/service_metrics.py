"""Reads a running service's Prometheus metrics over HTTP, from the /metrics of its health endpoint."""

from __future__ import annotations

import socket

import httpx
from prometheus_client.parser import text_string_to_metric_families


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now, for a service's health endpoint (0 would turn the endpoint off)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def metric_totals(exposition: str) -> dict[str, float]:
    """Sample name -> sum of its values over every label set, from Prometheus' text format."""
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


async def scrape(client: httpx.AsyncClient, base_url: str) -> dict[str, float]:
    """The service's metrics, summed over labels; a service that does not answer raises httpx.HTTPError."""
    response = await client.get(f"{base_url}/metrics")
    response.raise_for_status()
    return metric_totals(response.text)

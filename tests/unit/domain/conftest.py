"""Fixtures of the domain tests: an event factory and a network that already has firms and an offer."""

from __future__ import annotations

import pytest
from domain_events import NETWORK, Events
from verbund_matcher.domain.network import NetworkState


@pytest.fixture
def ev() -> Events:
    return Events()


@pytest.fixture
def state(ev: Events) -> NetworkState:
    """A network with policy, curriculum `cur`, firms firm-a and firm-b, and offer o-1 at firm-a."""
    s = NetworkState(NETWORK)
    for event in (ev.network_configured(), ev.curriculum(), ev.firm("firm-a"), ev.firm("firm-b"), ev.offer("o-1")):
        s.apply(event)
    return s

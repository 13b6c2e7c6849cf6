"""Stable ids of published things: the same learner and module keep one assignment id across plan versions."""

from __future__ import annotations

import hashlib

_MAX = 128


def _stable(prefix: str, *parts: str) -> str:
    readable = ":".join(parts)
    if len(readable) <= _MAX:
        return readable
    # Long ids still need to fit the contract's 128 characters: keep them stable by hashing.
    return f"{prefix}-" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def assignment_id(network_id: str, learner_id: str, module_id: str) -> str:
    return _stable("a", network_id, learner_id, module_id)


def shortfall_id(network_id: str, learner_id: str, group_id: str, module_id: str | None) -> str:
    return _stable("s", network_id, learner_id, group_id, module_id or "-")


def seat_deficit_id(network_id: str, firm_id: str, module_id: str) -> str:
    return _stable("d", network_id, firm_id, module_id)

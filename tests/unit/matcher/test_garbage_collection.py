"""The matcher's collector policy: survivors of a batch frozen, cyclic garbage among them reclaimed periodically."""

from __future__ import annotations

import gc
import weakref

from verbund_matcher.ops.collector import CollectorPolicy


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector can free it


def test_survivors_are_frozen_and_the_periodic_full_collection_reclaims_frozen_cyclic_garbage() -> None:
    now = 0.0
    policy = CollectorPolicy(600, clock=lambda: now)
    try:
        node = Node()
        alive = weakref.ref(node)
        policy.after_batch()
        assert gc.get_freeze_count() > 0

        del node  # garbage now, but frozen: Python's own collections leave it alone
        gc.collect()
        assert alive() is not None

        now = 599.0
        policy.after_batch()
        assert alive() is not None

        now = 600.0
        policy.after_batch()  # the periodic full collection
        assert alive() is None
        assert gc.get_freeze_count() > 0, "what survived is frozen again"
    finally:
        gc.unfreeze()


def test_a_batch_own_cyclic_garbage_is_collected_before_the_freeze() -> None:
    policy = CollectorPolicy(600, clock=lambda: 0.0)
    try:
        alive = weakref.ref(Node())  # garbage from the start, as most of a batch's objects are afterwards
        policy.after_batch()
        assert alive() is None
    finally:
        gc.unfreeze()

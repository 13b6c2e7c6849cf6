"""Event ids: random version-4 UUIDs written as UUIDs are, never the same twice, also across a fork."""

from __future__ import annotations

import os
import uuid

from verbund_schemas.envelope import new_event_id


def test_event_ids_are_version_4_uuids_in_their_usual_form() -> None:
    for _ in range(2000):
        text = new_event_id()
        parsed = uuid.UUID(text)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == text


def test_event_ids_do_not_repeat_and_use_every_digit() -> None:
    ids = [new_event_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    # Random digits where the form leaves them free: each position other than the fixed ones varies.
    free = [i for i in range(36) if i not in (8, 13, 14, 18, 23)]
    for i in free:
        assert len({text[i] for text in ids}) == (4 if i == 19 else 16)


def test_a_forked_child_does_not_hand_out_the_parents_next_ids() -> None:
    new_event_id()  # the pool is filled
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        os.write(write, "\n".join(new_event_id() for _ in range(50)).encode())
        os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    child = set(b"".join(chunks).decode().split("\n"))
    parent = {new_event_id() for _ in range(50)}
    assert len(child) == 50
    assert not child & parent

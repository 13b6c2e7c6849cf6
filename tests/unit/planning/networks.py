"""Small hand-made networks for planning tests: one curriculum, modules by duration, offers as tuples."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from verbund_matcher.planning.model import (
    Assignment,
    Curriculum,
    Firm,
    Group,
    Learner,
    Module,
    Offer,
    Problem,
    Settings,
    Weights,
)


def learner(
    sid: str,
    *,
    first: int = 0,
    last: int = 9,
    required: Mapping[str, int] | None = None,
    allowed: Sequence[str] = (),
    weights: Weights = Weights(module=1, firm=1, change=0, idle=0),
    **kw: Any,
) -> Learner:
    """A learner of curriculum "c"; `allowed` empty means every module; `required` None means group defaults."""
    return Learner(
        id=sid,
        name=sid.upper(),
        curriculum_id="c",
        first_week=first,
        last_week=last,
        required=dict(required or {}),
        allowed_modules=frozenset(allowed) if allowed else frozenset("ABCDEFGH"),
        weights=weights,
        **kw,
    )


def network(
    *,
    modules: Mapping[str, int],
    groups: Mapping[str, Sequence[str]] | None = None,
    offers: Sequence[tuple[str, str, int, int, int] | tuple[str, str, int, int, int, int]],
    learners: Sequence[Learner],
    precedence: Sequence[tuple[str, str]] = (),
    priority: Mapping[str, int] | None = None,
    previous: Sequence[Assignment] = (),
    frozen: Sequence[Assignment] = (),
    **settings: Any,
) -> Problem:
    """Offers are (firm, module, first_week, last_week, max_seats[, min_seats]); groups default to one
    group "core" with every module, each required."""
    groups = groups or {"core": tuple(modules)}
    prio = priority or {}
    firms = sorted({o[0] for o in offers} | {"F1", "F2"})
    return Problem(
        settings=Settings(**settings),
        modules={m: Module(m, f"Module {m}", d, prio.get(m, 0)) for m, d in modules.items()},
        curricula={
            "c": Curriculum(
                "c",
                tuple(modules),
                tuple(Group(g, tuple(ms), default_required=len(ms)) for g, ms in groups.items()),
                tuple(precedence),
            )
        },
        firms={f: Firm(f, f"Firm {f}") for f in firms},
        offers=tuple(
            Offer(f"o{i}", o[0], o[1], o[2], o[3], o[4], o[5] if len(o) > 5 else 0) for i, o in enumerate(offers)
        ),
        learners=tuple(learners),
        previous=tuple(previous),
        frozen=tuple(frozen),
    )

"""Random planning problems: a seeded generator for any size and a hypothesis strategy for small ones."""

from __future__ import annotations

import random

from hypothesis import strategies as st
from verbund_matcher.planning.model import (
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


def random_problem(
    seed: int,
    *,
    learners: int = 6,
    modules: int = 5,
    firms: int = 3,
    weeks: int = 24,
    min_seats: bool = True,
    precedence: bool = True,
    firm_limit: bool = True,
    tight: float = 1.0,
    max_duration: int | None = None,
    firms_per_module: int | None = None,
) -> Problem:
    """A network with one curriculum: a compulsory group and an elective group, offers spread over firms."""
    rng = random.Random(seed)
    mods = {
        f"m{i}": Module(
            f"m{i}",
            f"Module {i}",
            duration=rng.randint(1, max_duration or max(1, weeks // 8)),
            priority=rng.randint(0, 3),
        )
        for i in range(modules)
    }
    ids = list(mods)
    n_compulsory = max(1, modules // 2)
    compulsory = tuple(ids[:n_compulsory])
    electives = tuple(ids[n_compulsory:])
    groups = [Group("core", compulsory, default_required=len(compulsory))]
    if electives:
        groups.append(Group("elective", electives, default_required=min(1, len(electives))))
    prec: list[tuple[str, str]] = []
    if precedence and n_compulsory >= 2 and rng.random() < 0.7:
        prec.append((compulsory[1], compulsory[0]))
    curriculum = Curriculum("c1", tuple(ids), tuple(groups), tuple(prec))
    firm_map = {f"f{j}": Firm(f"f{j}", f"Firm {j}") for j in range(firms)}
    offers: list[Offer] = []
    for m in ids:
        for f in rng.sample(list(firm_map), k=rng.randint(1, firms_per_module or firms)):
            first = rng.randint(0, weeks // 2)
            last = rng.randint(first, weeks - 1)
            seats = max(1, round(rng.randint(1, max(1, learners // 2)) * tight))
            low = rng.randint(1, 2) if min_seats and rng.random() < 0.15 else 0
            offers.append(Offer(f"o{len(offers)}", f, m, first, last, seats, min(low, seats)))
    firm_ids = list(firm_map)
    people: list[Learner] = []
    for k in range(learners):
        first = rng.randint(0, weeks // 4)
        last = rng.randint(max(first, weeks // 2), weeks - 1)
        allowed = frozenset(m for m in ids if rng.random() < 0.95 or m in compulsory)
        required = {"core": len(compulsory)}
        if electives:
            required["elective"] = rng.randint(0, min(2, len(electives)))
        people.append(
            Learner(
                id=f"s{k}",
                name=f"Learner {k}",
                curriculum_id="c1",
                first_week=first,
                last_week=last,
                required=required,
                allowed_modules=allowed,
                unavailable=frozenset(w for w in range(first, last + 1) if rng.random() < 0.08),
                excluded_firms=frozenset(rng.sample(firm_ids, k=min(len(firm_ids), rng.randint(0, 1 + firms // 50)))),
                excluded_firm_modules=frozenset(
                    (rng.choice(firm_ids), rng.choice(ids)) for _ in range(rng.randint(0, 2))
                ),
                module_pref={m: rng.randint(-2, 3) for m in ids if rng.random() < 0.5},
                firm_pref={f: rng.randint(-2, 3) for f in rng.sample(firm_ids, k=min(len(firm_ids), 5))},
                weights=Weights(
                    module=rng.randint(0, 2),
                    firm=rng.randint(0, 2),
                    change=-rng.randint(0, 3),
                    idle=-rng.randint(0, 2),
                ),
            )
        )
    limit = rng.choice([None, 1, 2]) if firm_limit else None
    return Problem(
        settings=Settings(change_penalty=rng.randint(0, 20), max_modules_per_firm=limit),
        modules=mods,
        curricula={"c1": curriculum},
        firms=firm_map,
        offers=tuple(offers),
        learners=tuple(people),
    )


@st.composite
def small_problems(draw: st.DrawFn) -> Problem:
    """Small networks (2–6 learners, 2–5 modules, 1–3 firms, 8–20 weeks) with every kind of constraint."""
    seed = draw(st.integers(0, 2**31 - 1))
    return random_problem(
        seed,
        learners=draw(st.integers(2, 6)),
        modules=draw(st.integers(2, 5)),
        firms=draw(st.integers(1, 3)),
        weeks=draw(st.integers(8, 20)),
        min_seats=draw(st.booleans()),
        tight=draw(st.sampled_from([0.5, 1.0, 2.0])),
    )

"""Finding the weeks a contract names: fields that cannot hold one are skipped, the rest are all found."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel
from verbund_schemas import IsoWeek, WeekHorizon, weeks_outside
from verbund_schemas.weeks import weeks_named


class Span(BaseModel):
    first_week: IsoWeek
    last_week: IsoWeek
    note: str = ""


class Block(BaseModel):
    label: str
    spans: list[Span]


class Tree(BaseModel):
    week: IsoWeek | None = None
    children: list[Tree] = []


class Data(BaseModel):
    name: str
    count: int = 0
    start: IsoWeek
    blocks: list[Block] = []
    maybe: Span | None = None
    tags: list[str] = []
    tree: Tree | None = None


class Event(BaseModel):
    data: Data


def _event() -> Event:
    return Event(
        data=Data(
            name="x",
            start="2027-W10",
            blocks=[Block(label="a", spans=[Span(first_week="2027-W11", last_week="2027-W12")])],
            maybe=Span(first_week="2027-W13", last_week="2027-W14"),
            tags=["2027-W15"],  # a text, not a week field
            tree=Tree(week="2027-W16", children=[Tree(week="2027-W17", children=[Tree(week="2027-W18")])]),
        )
    )


def test_every_week_is_found_with_its_path_however_deep_and_none_else() -> None:
    assert list(weeks_named(_event().data)) == [
        ("data.start", "2027-W10"),
        ("data.blocks.0.spans.0.first_week", "2027-W11"),
        ("data.blocks.0.spans.0.last_week", "2027-W12"),
        ("data.maybe.first_week", "2027-W13"),
        ("data.maybe.last_week", "2027-W14"),
        ("data.tree.week", "2027-W16"),
        ("data.tree.children.0.week", "2027-W17"),
        ("data.tree.children.0.children.0.week", "2027-W18"),
    ]
    assert [w for _, w in weeks_named(_event().data, None)] == [f"2027-W{n}" for n in (10, 11, 12, 13, 14, 16, 17, 18)]


def test_a_week_outside_the_horizon_is_named_by_its_path_deep_inside() -> None:
    horizon = WeekHorizon.around(dt.date(2027, 6, 1), 0, 1)  # from 2027-W22
    lines = weeks_outside(_event(), horizon)
    assert [line.split(":")[0] for line in lines] == [
        "data.start",
        "data.blocks.0.spans.0.first_week",
        "data.blocks.0.spans.0.last_week",
        "data.maybe.first_week",
        "data.maybe.last_week",
        "data.tree.week",
        "data.tree.children.0.week",
        "data.tree.children.0.children.0.week",
    ]
    assert weeks_outside(_event(), WeekHorizon.around(dt.date(2027, 6, 1), 1, 1)) == []

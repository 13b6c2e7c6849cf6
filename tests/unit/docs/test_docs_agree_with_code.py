"""The documents say what the code does: numbers, topic and event names, links, and the README's shape."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from verbund_matcher.planning.cpsat import MAX_LITERALS
from verbund_matcher.planning.lns import RECREATE_WORK
from verbund_matcher.planning.solve import MONOLITHIC_OPTIONS

from verbund.settings_doc import END, START

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs"
README = ROOT / "README.md"


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_planning_doc_gives_the_auto_threshold_the_solver_uses() -> None:
    row = next(line for line in _read(DOCS / "planning.md").splitlines() if line.startswith("| `auto`"))
    assert f"at most {MONOLITHIC_OPTIONS:,} start literals" in row, row
    assert f"Above\n  {MONOLITHIC_OPTIONS:,} literals `auto` uses LNS" in _read(DOCS / "planning.md")


def test_planning_doc_gives_the_model_size_limit_and_recreate_work_the_solvers_use() -> None:
    text = _read(DOCS / "planning.md")
    assert f"when more than\n{MAX_LITERALS:,} start literals are needed" in text
    assert f"and {RECREATE_WORK} per learner a\nruin-and-recreate step re-plans" in text


def test_every_topic_and_event_type_of_topics_toml_is_in_the_events_doc_and_the_map() -> None:
    topics = tomllib.loads(_read(ROOT / "infra" / "topics.toml"))["topics"]
    events_doc, architecture = _read(DOCS / "events.md"), _read(DOCS / "architecture.md")
    for spec in topics.values():
        assert f"`{spec['name']}`" in events_doc, spec["name"]
        assert spec["name"] in architecture, spec["name"]
        row = next(line for line in events_doc.splitlines() if line.startswith(f"| `{spec['name']}`"))
        for event in spec["events"]:
            assert re.search(rf"\b{event}\b", row), f"{event} missing from the row of {spec['name']}"


def test_readme_fits_a_page_and_starts_with_make_demo_then_make_test() -> None:
    text = _read(README)
    assert len(text.splitlines()) <= 60
    assert 0 < text.index("make demo") < text.index("make test")
    assert START not in text, "the settings table belongs in docs/operations.md"


def test_the_generated_settings_table_lives_in_the_operations_guide() -> None:
    text = _read(DOCS / "operations.md")
    assert text.count(START) == 1 and text.count(END) == 1
    assert "`VERBUND_DATABASE_URL`" in text.partition(START)[2].partition(END)[0]


def test_relative_links_of_the_readme_and_the_guides_point_at_files_that_exist() -> None:
    broken = []
    for document in [README, *DOCS.glob("*.md")]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", _read(document)):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (document.parent / target).exists():
                broken.append(f"{document.relative_to(ROOT)} -> {target}")
    assert not broken, broken

"""`verbund plan` as a user runs it: generated scenarios in, plan files out that the independent validator
accepts; bad input reported line by line with a non-zero exit."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from verbund_matcher import planning
from verbund_matcher.domain.problem_builder import build_problem, week_label
from verbund_matcher.planning.model import Assignment, Plan, Shortfall, ShortfallReason

from verbund.plan_cli import fold_networks, read_events
from verbund.plan_file import PlanFile, read_plan_file

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
VERBUND = ROOT / ".venv" / "bin" / "verbund"
TODAY = "2026-11-02"


def verbund(*args: str | Path) -> subprocess.CompletedProcess[str]:
    # A wide terminal, so rich does not wrap the messages the tests look for.
    env = os.environ | {"COLUMNS": "400", "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.run(
        [str(VERBUND), *map(str, args)], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def scenario(name: str, path: Path, seed: int = 3) -> Path:
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scenarios.py"), name, "--seed", str(seed), "-o", str(path)],
        check=True,
        capture_output=True,
    )
    return path


def assert_plans_pass_the_validator(events: Path, plan_file: PlanFile) -> None:
    """Rebuild each network's Problem from the events and check the written assignments against it."""
    with events.open(encoding="utf-8") as handle:
        decoded, invalid = read_events(handle)
    assert not invalid
    states = fold_networks(decoded).states
    assert {n.network_id for n in plan_file.networks} == {k for k, s in states.items() if s.learners}
    for network in plan_file.networks:
        problem = build_problem(states[network.network_id], today=plan_file.today)
        assignments = tuple(
            Assignment(a.learner_id, a.module_id, a.firm_id, a.start_index) for a in network.assignments
        )
        assert assignments, "a generated scenario must yield assignments"
        for a in network.assignments:
            assert a.start_week == week_label(problem, a.start_index)
            assert a.end_index - a.start_index + 1 == problem.modules[a.module_id].duration
            assert a.start_date.isoweekday() == 1 and a.end_date.isoweekday() == 7
        shortfalls = tuple(
            Shortfall(s.learner_id, s.group_id, s.missing, ShortfallReason(s.reason), s.message, s.module_id)
            for s in network.shortfalls
        )
        plan = Plan(assignments=assignments, sat=network.sat, objective=network.objective, shortfalls=shortfalls)
        assert planning.validate(problem, plan) == []
        assert network.violations == []
        evaluation = planning.evaluate(problem, assignments)
        assert evaluation.objective == network.objective


def test_a_generated_network_is_planned_and_the_plan_passes_the_validator(tmp_path: Path) -> None:
    events = scenario("tiny", tmp_path / "tiny.jsonl")
    out = tmp_path / "plan.json"
    done = verbund("plan", events, "--time-limit", "5", "--workers", "1", "--today", TODAY, "-o", out)
    assert done.returncode == 0, done.stderr
    plan_file = read_plan_file(out)
    assert plan_file.today == dt.date(2026, 11, 2)
    assert_plans_pass_the_validator(events, plan_file)
    assert "synthetic-8" in done.stdout and "learners" in done.stdout


def test_the_plastics_scenario_leaves_exactly_its_two_explained_shortfalls(tmp_path: Path) -> None:
    events = ROOT / "scenarios" / "plastics.jsonl"
    out = tmp_path / "plan.json"
    done = verbund("plan", events, "--time-limit", "10", "--workers", "1", "--today", TODAY, "-o", out)
    assert done.returncode == 0, done.stderr
    plan_file = read_plan_file(out)
    assert_plans_pass_the_validator(events, plan_file)
    (network,) = plan_file.networks
    assert network.learners == 24
    found = sorted((s.learner_id, s.module_id, s.reason) for s in network.shortfalls)
    assert found == [("azubi-009", "thermoformen", "no_offer"), ("azubi-017", "extrusion", "eligibility")]
    assert all(s.message for s in network.shortfalls)
    assert "Shortfalls" in done.stdout


def test_planning_again_with_the_previous_plan_repairs_it_and_moves_nobody(tmp_path: Path) -> None:
    events = scenario("tiny", tmp_path / "tiny.jsonl")
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    assert verbund("plan", events, "--workers", "1", "--time-limit", "5", "--today", TODAY, "-o", first).returncode == 0
    done = verbund("plan", events, "--previous", first, "--today", TODAY, "-o", second)
    assert done.returncode == 0, done.stderr
    again = read_plan_file(second)
    (network,) = again.networks
    assert network.solver == "repair"
    assert network.moved == 0
    assert_plans_pass_the_validator(events, again)


def test_schema_errors_are_reported_with_line_numbers_and_nothing_is_planned(tmp_path: Path) -> None:
    good = scenario("tiny", tmp_path / "tiny.jsonl").read_text(encoding="utf-8").splitlines()
    offer = json.loads(next(line for line in good if '"CapacityOffered"' in line))
    offer["data"]["max_seats"] = 0
    lines = [
        good[0],
        "{not json",
        json.dumps({"type": "CapacityOffered", "subject": "synthetic-8", "data": {"offer_id": "x"}}),
        "",
        json.dumps(offer),
        json.dumps({"type": "AssignmentMade", "subject": "synthetic-8", "data": {}}),
        *good[1:],
    ]
    events = tmp_path / "bad.jsonl"
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "plan.json"
    done = verbund("plan", events, "--today", TODAY, "-o", out)
    assert done.returncode == 2
    err = done.stderr
    assert f"{events}:2: the message is not valid JSON" in err
    assert f"{events}:3: CapacityOffered event does not match its contract" in err
    assert "data.firm_id: Field required" in err
    assert f"{events}:5: CapacityOffered event does not match its contract" in err
    assert "data.max_seats: Input should be greater than or equal to 1 (got 0)" in err
    assert f"{events}:6: unknown event type 'AssignmentMade'" in err
    assert f"{events}:1:" not in err and f"{events}:4:" not in err
    assert "nothing was planned" in err
    assert not out.exists()


def test_rejected_events_name_their_line_and_the_rest_is_planned(tmp_path: Path) -> None:
    good = scenario("tiny", tmp_path / "tiny.jsonl").read_text(encoding="utf-8").splitlines()
    stray = {
        "type": "CapacityOffered",
        "subject": "synthetic-8",
        "id": "stray-offer",
        "data": {
            "offer_id": "o-stray",
            "firm_id": "f9999",
            "module_id": "m01",
            "first_week": "2027-W02",
            "last_week": "2027-W05",
            "max_seats": 1,
        },
    }
    events = tmp_path / "rejected.jsonl"
    events.write_text("\n".join([*good[:3], json.dumps(stray), *good[3:]]) + "\n", encoding="utf-8")
    out = tmp_path / "plan.json"
    done = verbund("plan", events, "--workers", "1", "--time-limit", "5", "--today", TODAY, "-o", out)
    assert done.returncode == 1
    assert f"{events}:4: CapacityOffered stray-offer rejected: cannot offer capacity for unknown firm 'f9999'" in (
        done.stderr
    )
    assert_plans_pass_the_validator(events, read_plan_file(out))


def test_a_previous_file_that_is_not_a_plan_is_refused(tmp_path: Path) -> None:
    events = scenario("tiny", tmp_path / "tiny.jsonl")
    previous = tmp_path / "previous.json"
    previous.write_text(json.dumps({"format": "verbund-plan", "version": 1, "networks": []}), encoding="utf-8")
    done = verbund("plan", events, "--previous", previous, "--today", TODAY, "-o", tmp_path / "plan.json")
    assert done.returncode == 2
    assert f"{previous} is not a plan file written by `verbund plan`" in done.stderr
    assert "created: Field required" in done.stderr

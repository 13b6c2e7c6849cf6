"""`verbund plan` as a user runs it: generated scenarios in, plan files out that the independent validator
accepts; deficits and unplaced requirements named in the plan file and the summary; an exit status that says
whether the plan meets every hard rule; bad input reported line by line."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tiny_network
from verbund_matcher import planning
from verbund_matcher.domain.problem_builder import build_problem, week_label
from verbund_matcher.planning.model import Assignment, Plan, Shortfall, ShortfallReason

from verbund.plan_cli import PlanExit, fold_networks, read_events
from verbund.plan_file import PlanFile, read_plan_file

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
VERBUND = ROOT / ".venv" / "bin" / "verbund"
TODAY = "2026-11-02"


def verbund(*args: str | Path, columns: int = 400) -> subprocess.CompletedProcess[str]:
    # A wide terminal by default, so rich does not wrap the messages the tests look for.
    env = os.environ | {"COLUMNS": str(columns), "NO_COLOR": "1", "TERM": "dumb"}
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


def write_events(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def one_learner_network(tmp_path: Path, label: str, **offer: Any) -> tuple[str, Path]:
    """The one-learner network of tiny_network, its offer changed by `offer` (the module takes 4 weeks)."""
    network = tiny_network.network_id(label)
    capacity = tiny_network.capacity_record(network)
    capacity["data"] |= offer
    return network, write_events(tmp_path / f"{label}.jsonl", [*tiny_network.setup_records(network), capacity])


def test_a_generated_network_is_planned_and_the_plan_passes_the_validator(tmp_path: Path) -> None:
    events = scenario("tiny", tmp_path / "tiny.jsonl")
    out = tmp_path / "plan.json"
    done = verbund("plan", events, "--time-limit", "5", "--workers", "1", "--today", TODAY, "-o", out)
    assert done.returncode == PlanExit.COMPLETE, done.stdout + done.stderr
    plan_file = read_plan_file(out)
    assert plan_file.today == dt.date(2026, 11, 2)
    assert plan_file.version == 2 and plan_file.complete is True
    assert_plans_pass_the_validator(events, plan_file)
    assert "synthetic-8" in done.stdout and "learners" in done.stdout
    assert "Every plan meets every hard rule." in done.stdout


def test_a_network_that_meets_every_rule_exits_0_and_its_plan_file_says_complete(tmp_path: Path) -> None:
    _, events = one_learner_network(tmp_path, "complete")
    out = tmp_path / "plan.json"
    done = verbund("plan", events, "--solver", "construct", "--time-limit", "2", "--today", TODAY, "-o", out)
    assert done.returncode == 0, done.stdout + done.stderr
    written = json.loads(out.read_text(encoding="utf-8"))
    assert (written["complete"], written["missing_learner_weeks"], written["unplaced_modules"]) == (True, 0, 0)
    (network,) = written["networks"]
    assert (network["complete"], network["deficits"], network["shortfalls"]) == (True, [], [])
    assert len(network["assignments"]) == 1
    assert "The plan meets every hard rule." in done.stdout


def test_a_minimum_one_learner_cannot_fill_is_a_deficit_span_and_exit_3(tmp_path: Path) -> None:
    # The offer runs exactly as long as the module, so the only learner can only take it in these four weeks.
    network, events = one_learner_network(
        tmp_path, "deficit", first_week="2031-W02", last_week="2031-W05", max_seats=3, min_seats=3
    )
    out = tmp_path / "plan.json"
    done = verbund("plan", events, "--solver", "cpsat", "--time-limit", "2", "--today", TODAY, "-o", out, columns=80)
    assert done.returncode == PlanExit.PARTIAL == 3, done.stdout + done.stderr
    plan_file = read_plan_file(out)
    assert plan_file.complete is False
    (plan,) = plan_file.networks
    assert plan.complete is False and plan.shortfalls == [] and plan.violations == []
    assert [(a.learner_id, a.start_week) for a in plan.assignments] == [(tiny_network.LEARNER_ID, "2031-W02")]
    (deficit,) = plan.deficits
    assert deficit.model_dump() == {
        "firm_id": tiny_network.FIRM_ID,
        "firm_name": "Kunststofftechnik Aachen",
        "module_id": tiny_network.MODULE_ID,
        "module_name": "Spritzgießen",
        "first_index": 0,
        "last_index": 3,
        "first_week": "2031-W02",
        "last_week": "2031-W05",
        "weeks": 4,
        "minimum": 3,
        "planned": 1,
        "missing": 2,
        "missing_learner_weeks": 8,
    }
    assert plan.missing_learner_weeks == plan_file.missing_learner_weeks == 8
    # At 80 columns the summary wraps; the words stay in order.
    summary = " ".join(done.stdout.split())
    assert "The plan does NOT meet every hard rule: 1 span of weeks below a firm's minimum" in summary
    assert "- Kunststofftechnik Aachen, Spritzgießen: 2031-W02..W05 planned 1 of minimum 3" in summary
    # Piped at 80 columns: nothing wider, and no lines padded with blanks.
    assert all(len(line) <= 80 and line == line.rstrip() for line in done.stdout.splitlines())
    assert network in done.stdout


def test_an_unplaced_requirement_is_listed_with_its_reason_and_exits_3(tmp_path: Path) -> None:
    # Two weeks of capacity for a module of four: no plan can place it.
    _, events = one_learner_network(tmp_path, "unplaced", first_week="2031-W02", last_week="2031-W03")
    out = tmp_path / "plan.json"
    done = verbund("plan", events, "--solver", "construct", "--time-limit", "2", "--today", TODAY, "-o", out)
    assert done.returncode == PlanExit.PARTIAL, done.stdout + done.stderr
    plan_file = read_plan_file(out)
    (plan,) = plan_file.networks
    assert (plan_file.complete, plan.complete, plan.assignments, plan.deficits) == (False, False, [], [])
    (shortfall,) = plan.shortfalls
    assert (shortfall.learner_id, shortfall.learner_name, shortfall.group_id, shortfall.missing) == (
        tiny_network.LEARNER_ID,
        "Mara Keller",
        "G-PF",
        1,
    )
    assert (shortfall.module_id, shortfall.module_name, shortfall.reason) == (
        tiny_network.MODULE_ID,
        "Spritzgießen",
        "no_offer",
    )
    assert "Spritzgießen" in shortfall.message
    assert plan.unplaced_modules == plan_file.unplaced_modules == 1
    assert "1 requirement unplaced (1 module missing)" in done.stdout
    assert f"- {tiny_network.LEARNER_ID} (no_offer): {shortfall.message}" in done.stdout


def test_a_started_assignment_whose_seats_were_withdrawn_is_an_undeclared_violation_and_exits_4(
    tmp_path: Path,
) -> None:
    network, events = one_learner_network(tmp_path, "frozen")
    first = tmp_path / "first.json"
    assert verbund("plan", events, "--solver", "construct", "--today", TODAY, "-o", first).returncode == 0
    withdrawn = {
        "type": "CapacityWithdrawn",
        "subject": network,
        "id": f"{network}-w",
        "time": "2031-01-19T08:00:00Z",
        "data": {"offer_id": "O-1"},
    }
    records = [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()]
    later = write_events(tmp_path / "withdrawn.jsonl", [*records, withdrawn])
    out = tmp_path / "plan.json"
    # By 2031-01-20 the phase starting 2031-W02 is within the notice period: frozen, yet it has no seat left.
    done = verbund("plan", later, "--previous", first, "--today", "2031-01-20", "-o", out)
    assert done.returncode == PlanExit.UNDECLARED_VIOLATION == 4, done.stdout + done.stderr
    (plan,) = read_plan_file(out).networks
    assert plan.complete is False and plan.violations
    assert "Broken rules the plan does not declare" in done.stdout


def test_the_plastics_scenario_leaves_exactly_its_two_explained_shortfalls(tmp_path: Path) -> None:
    events = ROOT / "scenarios" / "plastics.jsonl"
    out = tmp_path / "plan.json"
    done = verbund("plan", events, "--time-limit", "10", "--workers", "1", "--today", TODAY, "-o", out)
    assert done.returncode == PlanExit.PARTIAL, done.stdout + done.stderr
    plan_file = read_plan_file(out)
    assert_plans_pass_the_validator(events, plan_file)
    (network,) = plan_file.networks
    assert network.learners == 24
    assert network.complete is False and network.deficits == []
    found = sorted((s.learner_id, s.module_id, s.reason) for s in network.shortfalls)
    assert found == [("azubi-009", "thermoformen", "no_offer"), ("azubi-017", "extrusion", "eligibility")]
    assert all(s.message for s in network.shortfalls)
    assert "Unplaced requirements:" in done.stdout
    assert "- azubi-009 (no_offer): " in done.stdout and "- azubi-017 (eligibility): " in done.stdout


def test_planning_again_with_the_previous_plan_repairs_it_and_moves_nobody(tmp_path: Path) -> None:
    events = scenario("tiny", tmp_path / "tiny.jsonl")
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    assert verbund("plan", events, "--workers", "1", "--time-limit", "5", "--today", TODAY, "-o", first).returncode == 0
    done = verbund("plan", events, "--previous", first, "--today", TODAY, "-o", second)
    assert done.returncode == 0, done.stdout + done.stderr
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
    assert done.returncode == PlanExit.BAD_INPUT == 2
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
        "time": "2026-11-02T08:00:00Z",
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
    assert done.returncode == PlanExit.REJECTED_EVENTS == 5, done.stdout + done.stderr
    message = "CapacityOffered stray-offer rejected: cannot offer capacity for unknown firm 'f9999'"
    assert f"{events}:4: {message}" in done.stderr
    assert "1 event was rejected and left out" in done.stdout
    plan_file = read_plan_file(out)
    assert plan_file.complete is True
    (rejected,) = plan_file.rejected_events
    assert rejected.line == 4 and rejected.message.startswith(message)
    assert_plans_pass_the_validator(events, plan_file)


def test_a_missing_events_file_or_a_bad_option_is_bad_input_and_exits_2(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    missing = verbund("plan", tmp_path / "nowhere.jsonl", "-o", out)
    assert missing.returncode == PlanExit.BAD_INPUT, missing.stdout + missing.stderr
    assert f"cannot read events file {tmp_path / 'nowhere.jsonl'}" in missing.stderr
    _, events = one_learner_network(tmp_path, "options")
    for option in (("--workers", "0"), ("--solver", "fastest"), ("--today", "tomorrow")):
        refused = verbund("plan", events, *option, "-o", out)
        assert refused.returncode == PlanExit.BAD_INPUT, (option, refused.stdout + refused.stderr)
    assert not out.exists()


def test_help_lists_every_exit_status(tmp_path: Path) -> None:
    done = verbund("plan", "--help", columns=80)
    assert done.returncode == 0
    for line in (
        "0  complete: every plan meets every hard rule",
        "2  bad input: invalid events file, options or --previous; nothing planned",
        "3  partial: weeks below a minimum or unplaced requirements (see the summary)",
        "4  the validator finds a broken rule the plan does not declare",
        "5  complete, but some events were rejected and left out",
    ):
        assert line in done.stdout


def test_a_previous_file_that_is_not_a_plan_is_refused(tmp_path: Path) -> None:
    events = scenario("tiny", tmp_path / "tiny.jsonl")
    previous = tmp_path / "previous.json"
    previous.write_text(json.dumps({"format": "verbund-plan", "version": 1, "networks": []}), encoding="utf-8")
    done = verbund("plan", events, "--previous", previous, "--today", TODAY, "-o", tmp_path / "plan.json")
    assert done.returncode == 2
    assert f"{previous} is not a plan file written by `verbund plan`" in done.stderr
    assert "created: Field required" in done.stderr


def test_deterministic_mode_writes_the_same_plan_file_twice_to_the_byte(tmp_path: Path) -> None:
    # A network with demanding minimums, so feasibility search, CP-SAT and LNS all run; two processes with
    # different hash seeds, so nothing may depend on the order of a set.
    events = scenario("tight-40-12-3-12-1", tmp_path / "tight.jsonl")
    files = []
    for run, hash_seed in enumerate(("1", "2")):
        out = tmp_path / f"plan-{run}.json"
        env = os.environ | {"COLUMNS": "400", "NO_COLOR": "1", "TERM": "dumb", "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [
                *(str(VERBUND), "plan", str(events), "-o", str(out), "--deterministic", "--time-limit", "3"),
                *("--workers", "2", "--seed", "7", "--today", TODAY),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        assert done.returncode in (PlanExit.COMPLETE, PlanExit.PARTIAL), done.stderr
        files.append(out.read_bytes())
    assert files[0] == files[1]
    plan_file = read_plan_file(tmp_path / "plan-0.json")
    assert plan_file.networks[0].assignments

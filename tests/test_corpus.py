"""The bad-input corpus (tests/corpus/cases.py): each broken input is one test id.

For each case the clean baseline cycle (tests/corpus/baseline/) gets one input
replaced; the matching reader and validator run as the stages call them; the test
checks the exact problems reported for that input (source_file, source_row,
record_id, field, rule) or the FileProblem that stops the stage, that every other
row of that input goes through, that every reported rule has a message, and that
validation/rejected.csv written from those problems is safe to open in a spreadsheet.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from builders import RUBRIC, make_config, toml_text
from corpus.cases import ACCEPTED, ASSIGNED, BASELINE, CASES, CORPUS, GB_EXAMPLE, O5, Case
from fund.cli import app
from fund.schemas.config import ConfigError, load_config
from fund.settings import SettingsError, load_settings
from fund.tasks.assignment import read_reviewers, validate_reviewers
from fund.tasks.intake import BUDGET_LINES, ORGANIZATIONS, PROPOSALS, read_intake, validate_intake
from fund.tasks.needs import NEEDS, RESOURCES, read_needs_lists
from fund.tasks.messages import MESSAGES, render
from fund.tasks.outputs import safe_cell
from fund.tasks.reading import FileProblem, Problem
from fund.tasks.scoring import read_ratings, read_score_sheets, validate_ratings, validate_reviews
from fund.tasks.writers import write_rejected, write_review_files

CONFIG = make_config(rules={"max_proposals_per_org": 100})
INTAKE = (ORGANIZATIONS, PROPOSALS, BUDGET_LINES, NEEDS, RESOURCES)


@dataclass
class Outcome:
    problems: list[Problem]  # problems of the case's file(s)
    rows: dict[str, set[int]]  # file → lines read as records
    accepted: dict[str, set[int]]  # file → lines that went through
    result: object = None  # what the validator returned, for CHECKS


def build_cycle(folder: Path, case: Case) -> Path:
    cycle = folder / "cycle"
    shutil.copytree(BASELINE, cycle)
    target = cycle / case.target
    if case.target == "environment":
        return cycle
    if case.target == "scores":
        shutil.rmtree(target)
        target.mkdir()
        for name, data in case.files().items():
            place(target / name, data)
    elif len(files := case.files()) > 1:  # a case about two files: each under its own name
        for name, data in files.items():
            place(cycle / name, data)
    else:
        (data,) = files.values()
        place(target, data)
    if case.toml:  # the sections the case sets, for `fund run` (tests/corpus/sweep.py) as for the validators
        with (cycle / "cycle.toml").open("a", encoding="utf-8") as handle:
            handle.write("\n" + toml_text(case.toml))
    return cycle


def place(path: Path, data) -> None:
    """Bytes become the file; an entry that is not a file (folder, broken link, pipe) is made by its function."""
    if callable(data):
        data(path)
    else:
        path.write_bytes(data)


def run_input(target: str, cycle: Path, cfg=CONFIG) -> Outcome:
    """Read and validate the input `target` of `cycle` the way its stage does."""
    if target in INTAKE:
        tables = (*read_intake(cycle), *read_needs_lists(cycle))
        result = validate_intake(cfg, *tables[:3], None, *tables[3:])
        table = tables[INTAKE.index(target)]
        accepted = {
            ORGANIZATIONS: {o["source_row"] for o in result.organizations},
            PROPOSALS: {p["source_row"] for p in result.proposals if p["eligible"]},
            BUDGET_LINES: {b["source_row"] for b in result.budget_lines},
            NEEDS: {n["source_row"] for n in result.needs},
            RESOURCES: {r["source_row"] for r in result.resources},
        }[target]
        assert table.rows_in == result.rows_in[target] == len(table.rows)
        return Outcome(
            [p for p in result.problems if p.source_file == target],
            {target: {r["_line"] for r in table.rows}},
            {target: accepted},
            result,
        )
    if target == "reviewers.csv":
        table = read_reviewers(cycle)
        reviewers, problems = validate_reviewers(table)
        return Outcome(
            problems, {target: {r["_line"] for r in table.rows}}, {target: {r["source_row"] for r in reviewers}}, reviewers
        )
    if target == "community_ratings.csv":
        table = read_ratings(cycle)
        ratings, problems = validate_ratings(table, ACCEPTED)
        return Outcome(
            problems, {target: {r["_line"] for r in table.rows}}, {target: {r["source_row"] for r in ratings}}, ratings
        )
    assert target == "scores"
    tables = read_score_sheets(cycle, RUBRIC)
    imported = validate_reviews(tables, RUBRIC, ACCEPTED, ASSIGNED)
    assert imported.rows_in == sum(len(t.rows) for t in tables)
    rejected = {(p.source_file, p.source_row) for p in imported.problems}
    through = {(r["proposal_id"], r["reviewer_id"]) for r in imported.reviews} | imported.pending
    accepted = {
        t.source_file: {
            r["_line"]
            for r in t.rows
            if (t.source_file, r["_line"]) not in rejected and (r["proposal_id"], r["reviewer_id"]) in through
        }
        for t in tables
    }
    return Outcome(imported.problems, {t.source_file: {r["_line"] for r in t.rows} for t in tables}, accepted, imported)


def found(problems: list[Problem], expected: tuple) -> list[tuple]:
    """The problems as tuples; where the case expects rule '*' on a (file, row, record, field), any rule matches."""
    wild = {e[:4] for e in expected if e[4] == "*"}
    return sorted(
        (
            (
                p.source_file,
                p.source_row,
                p.record_id,
                p.field,
                "*" if (p.source_file, p.source_row, p.record_id, p.field) in wild else p.rule,
            )
            for p in problems
        ),
        key=repr,
    )


def assert_message(rule: str, params: dict) -> None:
    assert rule in MESSAGES, f"rule {rule!r} has no message"
    for lang in ("zh", "en"):
        text = render(rule, params, lang)
        assert "{" not in text, (rule, lang, text)


def assert_rejected_csv_is_safe(out: Path, problems: list[Problem]) -> None:
    rows = [
        {
            "source_file": p.source_file,
            "source_row": p.source_row,
            "record_id": p.record_id,
            "field": p.field,
            "value": p.value,
            "rule": p.rule,
            "params": json.dumps(p.params, default=str),
        }
        for p in problems
    ]
    write_rejected(out, rows, "zh")
    data = (out / "validation" / "rejected.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    written = list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))
    assert len(written) == len(problems) + 1
    for row in written:
        for cell in row:
            assert safe_cell(cell) == cell, f"a spreadsheet would run this rejected.csv cell: {cell!r}"


# ---------------------------------------------------------------- extra checks named by cases


def orgs_lowercase_accepted(outcome: Outcome, out: Path) -> None:
    codes = {o["credit_code"] for o in outcome.result.organizations}
    assert {O5, GB_EXAMPLE} <= codes  # stored upper-cased


def p003_not_eligible(outcome: Outcome, out: Path) -> None:
    records = [p for p in outcome.result.proposals if p["proposal_id"] == "P-003"]
    assert len(records) == 1 and records[0]["eligible"] is False


def formula_text_neutralised(outcome: Outcome, out: Path) -> None:
    """A formula in a text cell is kept as text, and neutralised where the product writes it (the reviewer sheet)."""
    proposal = next(p for p in outcome.result.proposals if p["proposal_id"] == "P-002")
    assert proposal["eligible"]
    assert proposal["title"] == '=HYPERLINK("http://example.org","四点半课堂")' and proposal["summary"] == "=1+1"
    write_review_files(out, [{"proposal_id": "P-002", "reviewer_id": "R02", "round": 1}], {"P-002": proposal}, CONFIG)
    data = (out / "review" / "sheets" / "R02.csv").read_bytes()
    header, row = list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))
    sheet = dict(zip(header, row))
    assert sheet["title 项目名称"] == "'" + proposal["title"] and sheet["summary 项目简介"] == "'=1+1"
    from openpyxl import load_workbook

    workbook = load_workbook(out / "review" / "sheets" / "R02.xlsx")
    title, summary = workbook.worksheets[0]["B2"], workbook.worksheets[0]["F2"]
    assert (title.value, title.data_type, summary.value, summary.data_type) == (proposal["title"], "s", "=1+1", "s")


def conflicts_recorded(outcome: Outcome, out: Path) -> None:
    reviews = {(r["proposal_id"], r["reviewer_id"]): r for r in outcome.result.reviews}
    assert reviews[("P-005", "R01")]["conflict"] is True
    conflicts = {k for k, r in reviews.items() if r["conflict"]}
    assert all(reviews[k]["total_half"] == 0 and reviews[k]["scores_half"] == "{}" for k in conflicts)
    assert ("P-005", "R01") not in outcome.result.pending


def blank_rows_pending(outcome: Outcome, out: Path) -> None:
    assert outcome.result.pending == {("P-005", "R01"), ("P-006", "R01")}
    assert {(r["proposal_id"], r["reviewer_id"]) for r in outcome.result.reviews} == {("P-001", "R01")}


def identical_accepted_once(outcome: Outcome, out: Path) -> None:
    keys = Counter((r["proposal_id"], r["reviewer_id"]) for r in outcome.result.reviews)
    assert keys == Counter({("P-001", "R01"): 1, ("P-005", "R01"): 1, ("P-006", "R01"): 1})


CHECKS = {
    f.__name__: f
    for f in (
        orgs_lowercase_accepted,
        p003_not_eligible,
        formula_text_neutralised,
        conflicts_recorded,
        blank_rows_pending,
        identical_accepted_once,
    )
}


def assert_named_with_exit_2(case: Case, cycle: Path, tmp_path: Path, monkeypatch) -> None:
    """A bad cycle.toml key or FUND_* variable: the check names it, and `fund run` exits 2 naming it
    (before any stage or Prefect starts), never with an internal error."""
    for name, value in (case.env or {}).items():
        monkeypatch.setenv(name, value)
    if case.target == "cycle.toml":
        with pytest.raises(ConfigError) as info:
            load_config(cycle)
        assert info.value.key == case.key, info.value
    else:
        with pytest.raises(SettingsError) as info:
            load_settings()
        assert info.value.variable == case.key, info.value
    result = CliRunner().invoke(app, ["run", str(cycle), "--out", str(tmp_path / "out")])
    assert result.exit_code == case.exit_code == 2, result.output
    assert case.key in result.output and "internal error" not in result.output, result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception


# ---------------------------------------------------------------- the tests


def test_corpus_manifest_is_sound():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)) and len(CASES) >= 60
    assert {c.target for c in CASES} == {*INTAKE, "reviewers.csv", "scores", "community_ratings.csv", "cycle.toml", "environment"}
    for c in CASES:
        assert not (c.expect and c.fails), c.name
        assert all(e[4] != "*" for e in c.expect) or c.bug, f"{c.name}: rule '*' only in a case marked bug"
        assert c.check is None or c.check in CHECKS, c.name
    stored = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*.csv") if BASELINE not in p.parents}
    used = set()
    for c in CASES:
        folder = CORPUS / c.name
        used |= {p.relative_to(CORPUS).as_posix() for p in folder.iterdir()} if folder.is_dir() else {f"{c.name}.csv"}
    assert stored <= used, f"corpus files no case uses: {sorted(stored - used)}"


def test_baseline_is_clean(tmp_path):
    """The baseline cycle has no problem at all, so each case's problems are its own."""
    for target in (*INTAKE, "reviewers.csv", "scores", "community_ratings.csv"):
        outcome = run_input(target, BASELINE)
        assert outcome.problems == [], target
        assert outcome.accepted == outcome.rows, target
    assert {p["proposal_id"] for p in validate_intake(CONFIG, *read_intake(BASELINE)).proposals if p["eligible"]} == ACCEPTED
    assert load_config(BASELINE) == CONFIG


def _param(c: Case):
    marks = [pytest.mark.xfail(reason=f"BUG: {c.bug}", strict=True)] if c.bug else []
    return pytest.param(c, id=c.name, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_case(case: Case, tmp_path, monkeypatch):
    cycle = build_cycle(tmp_path, case)
    if case.key:
        assert_named_with_exit_2(case, cycle, tmp_path, monkeypatch)
        return
    cfg = make_config(rules={"max_proposals_per_org": 100}, **(case.toml or {}))
    if case.fails:
        source_file, rule, params = case.fails
        with pytest.raises(FileProblem) as info:
            run_input(case.target, cycle, cfg)
        problem = info.value
        assert (problem.source_file, problem.rule) == (source_file, rule), problem
        assert {k: problem.params.get(k) for k in params} == params, problem.params
        assert_message(problem.rule, problem.params)
        return
    outcome = run_input(case.target, cycle, cfg)
    assert found(outcome.problems, case.expect) == sorted(case.expect, key=repr)
    for name, rows in outcome.rows.items():
        rejected = {p.source_row for p in outcome.problems if p.source_file == name}
        accepted = outcome.accepted[name]
        assert rejected <= rows, (name, "problem on a line that is not a record", rejected - rows)
        assert not accepted & rejected, (name, "lines both accepted and rejected", accepted & rejected)
        assert accepted | rejected == rows, (name, "lines neither accepted nor rejected", rows - accepted - rejected)
    for problem in outcome.problems:
        assert_message(problem.rule, problem.params)
    assert_rejected_csv_is_safe(tmp_path / "out", outcome.problems)
    if case.check:
        CHECKS[case.check](outcome, tmp_path / "out")

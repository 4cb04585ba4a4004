"""Crash safety, one run at a time, a tamper-evident audit trail and safe outputs."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fund.cli import app
from fund.cli.cycle import demo_folder
from fund.tasks.outputs import csv_bytes, safe_cell
from fund.tasks.store import CycleBusy, cycle_lock, default_db_url

runner = CliRunner()


def csvs(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.csv"))}


@pytest.fixture(scope="module")
def reference(tmp_path_factory, prefect_server):
    base = tmp_path_factory.mktemp("reference")
    cycle = Path(shutil.copytree(demo_folder(), base / "cycle"))
    result = runner.invoke(app, ["run", str(cycle), "--out", str(base / "out")])
    assert result.exit_code == 0, result.output
    return cycle, base / "out"


@pytest.fixture
def subprocess_env(prefect_server):
    """Environment for a `fund` subprocess that talks to the session's test Prefect server."""
    from prefect.settings import get_current_settings

    env = dict(os.environ)
    env["PREFECT_API_URL"] = str(get_current_settings().api.url)
    return env


@pytest.mark.parametrize("point", ["intake:stored", "scoring:stored", "allocation:written", "publication:stored"])
def test_killed_run_then_rerun_gives_identical_outputs(point, reference, tmp_path, subprocess_env):
    cycle, ref_out = reference
    out = tmp_path / "out"
    command = [sys.executable, "-m", "fund", "run", str(cycle), "--out", str(out)]
    killed = subprocess.run(command, env={**subprocess_env, "FUND_CRASH_AT": point}, capture_output=True, text=True)
    assert killed.returncode == 137, killed.stdout + killed.stderr
    rerun = subprocess.run(command, env=subprocess_env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert csvs(out) == csvs(ref_out)
    assert (out / "allocation" / "publicity.html").exists()
    with sqlite3.connect(out / "fund.db") as db:  # nothing duplicated by the redo
        assert (
            db.execute("select count(*) from assignment").fetchone()[0]
            == len((ref_out / "review" / "assignments.csv").read_text(encoding="utf-8-sig").splitlines()) - 1
        )


def test_a_second_run_on_the_same_output_refuses(reference, tmp_path):
    cycle, _ = reference
    out = tmp_path / "busy"
    with cycle_lock(default_db_url(out), "any", out):
        result = runner.invoke(app, ["run", str(cycle), "--out", str(out)])
    assert result.exit_code == 1
    assert "另一个运行" in result.output
    with cycle_lock(default_db_url(out), "any", out):  # released afterwards
        pass


@pytest.mark.postgres
def test_postgres_lock_is_per_cycle_whatever_the_url_spelling(postgres_url, tmp_path):
    other_spelling = postgres_url.replace("127.0.0.1", "localhost")
    assert other_spelling != postgres_url
    with cycle_lock(postgres_url, "c1", tmp_path / "a"):
        for url in (postgres_url, other_spelling):
            with pytest.raises(CycleBusy):
                with cycle_lock(url, "c1", tmp_path / "b"):
                    pass
        with cycle_lock(other_spelling, "c2", tmp_path / "c"):
            pass
    with cycle_lock(other_spelling, "c1", tmp_path / "b"):  # released afterwards
        pass


def test_audit_chain_detects_tampering(reference, tmp_path):
    cycle, ref_out = reference
    out = Path(shutil.copytree(ref_out, tmp_path / "copy"))
    ok = runner.invoke(app, ["audit", "verify", str(cycle), "--out", str(out)])
    assert ok.exit_code == 0, ok.output
    with sqlite3.connect(out / "fund.db") as db:
        db.execute("update auditevent set detail = replace(detail, 'done', 'DONE') where id = 1")
    bad = runner.invoke(app, ["audit", "verify", str(cycle), "--out", str(out)])
    assert bad.exit_code == 1
    assert "1" in bad.output


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://x","y")', "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised(cell):
    assert safe_cell(cell).startswith("'")
    assert csv_bytes(["a"], [[cell]]).decode("utf-8-sig").splitlines()[1].lstrip('"').startswith("'")


def test_numbers_are_left_alone():
    assert safe_cell("-5") == "-5" and safe_cell("150000.00") == "150000.00"


def test_each_sheet_holds_only_its_reviewers_rows(reference):
    _, out = reference
    reviewers = {p.stem for p in (out / "review" / "sheets").glob("*.csv")}
    for sheet in (out / "review" / "sheets").glob("*.csv"):
        header, *lines = sheet.read_text(encoding="utf-8-sig").splitlines()
        column = next(i for i, cell in enumerate(header.split(",")) if cell.startswith("reviewer_id"))
        assert lines and all(line.split(",")[column] == sheet.stem for line in lines)
        others = reviewers - {sheet.stem}
        assert not any(f",{other}," in line for line in lines for other in others)


def test_a_hand_edited_award_stops_publication(reference, tmp_path):
    cycle, ref_out = reference
    out = Path(shutil.copytree(ref_out, tmp_path / "edited"))
    with sqlite3.connect(out / "fund.db") as db:
        pid = db.execute("select proposal_id from award where status = 'funded' order by proposal_id").fetchone()[0]
        db.execute("update award set awarded_fen = awarded_fen + 100000 where proposal_id = ?", (pid,))
    result = runner.invoke(app, ["run", str(cycle), "--out", str(out)])
    assert result.exit_code == 1
    assert "published_awards" in result.output and "award_is_all_or_nothing" in result.output


def test_output_files_honour_the_umask(tmp_path):
    """Atomic writes go through mkstemp (0600); the file in place has what the umask allows."""
    from fund.tasks import outputs

    for mask, mode in ((0o022, 0o644), (0o027, 0o640)):
        old = os.umask(mask)
        outputs._UMASK.clear()
        try:
            path = tmp_path / f"publicity-{mask:o}.html"
            outputs.write_files({path: b"<html></html>"})
            assert path.stat().st_mode & 0o777 == mode
        finally:
            os.umask(old)
            outputs._UMASK.clear()

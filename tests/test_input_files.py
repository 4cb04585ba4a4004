"""Files as files: what is under an input's name is a readable file, or nothing (waiting), or a
plain stop naming it; lock and hidden files in the input folders are not inputs; what a killed
run left half-written is cleaned up at the next start."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fund.cli import app
from fund.cli.cycle import demo_folder
from fund.tasks.outputs import remove_stale_temp_files, write_csv

runner = CliRunner()


def fund(*args) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout + (result.stderr or "")


@pytest.fixture
def demo_cycle(tmp_path) -> Path:
    return Path(shutil.copytree(demo_folder(), tmp_path / "cycle"))


def test_a_folder_in_place_of_proposals_csv_stops_intake_naming_it(demo_cycle, tmp_path, prefect_server):
    (demo_cycle / "proposals.csv").unlink()
    (demo_cycle / "proposals.csv").mkdir()
    code, text = fund("run", demo_cycle, "--out", tmp_path / "out", "--lang", "en")
    assert code == 1, text
    assert "proposals.csv: this is a folder, not a file" in text
    assert "missing" not in text and "internal error" not in text


def test_a_broken_link_in_place_of_reviewers_csv_stops_assignment(demo_cycle, tmp_path, prefect_server):
    (demo_cycle / "reviewers.csv").unlink()
    (demo_cycle / "reviewers.csv").symlink_to(tmp_path / "moved-away.csv")
    code, text = fund("run", demo_cycle, "--out", tmp_path / "out")
    assert code == 1, text
    assert "reviewers.csv: 这是一个指向不存在文件的链接" in text
    assert "等待评审专家名单" not in text  # not taken for "not there yet"


def test_nothing_at_all_is_still_waiting(demo_cycle, tmp_path, prefect_server):
    (demo_cycle / "reviewers.csv").unlink()
    code, text = fund("run", demo_cycle, "--out", tmp_path / "out")
    assert code == 0, text
    assert "等待评审专家名单：缺少 reviewers.csv" in text


def test_lock_files_are_ignored_and_a_killed_runs_temp_files_removed(demo_cycle, tmp_path, prefect_server):
    """An Excel lock file and a hidden file beside the sheets do not stop scoring (they used to stop
    it on their encoding); temp files of a killed run are gone after the next run."""
    scores = demo_cycle / "scores"
    sheet = sorted(scores.glob("*.csv"))[0]
    (scores / f"~${sheet.name}").write_bytes(b"\x05\x00\xe5\x8f\xb8" + b"\x00" * 160)
    (scores / f".{sheet.name}.swp").write_bytes(b"\x00\xff" * 50)
    out = tmp_path / "out"
    stale = [out / "reports" / ".incentives.csv.k2j4h_9x.tmp", out / "review" / "sheets" / ".R01.csv.abcdefgh.tmp"]
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half a file")
    code, text = fund("run", demo_cycle, "--out", out)
    assert code == 0, text
    with (out / "validation" / "rejected.csv").open(encoding="utf-8-sig", newline="") as handle:
        sources = {row["source_file"] for row in csv.DictReader(handle)}
    assert not any(s.startswith(("scores/~$", "scores/.")) for s in sources)
    assert (out / "evaluation" / "scores.csv").is_file()
    assert not any(p.exists() for p in stale)


def test_remove_stale_temp_files_takes_only_its_own_pattern(tmp_path):
    out = tmp_path / "out"
    write_csv(out / "reports" / "incentives.csv", ["a"], [[1]])
    left = [
        out / "reports" / ".incentives.csv.k2j4h_9x.tmp",
        out / ".fund.db.abcdefgh.tmp",
        out / "quality" / "gx" / ".index.html.zzzzzzzz.tmp",
    ]
    kept = [
        out / "reports" / "incentives.csv",
        out / "reports" / "incentives.csv.tmp",  # not hidden
        out / "reports" / ".incentives.csv.short.tmp",  # not 8 random characters
        out / "reports" / ".incentives.csv.ABCDEFGH.tmp",  # tempfile uses lower case only
        out / "reports" / ".incentives.csv.k2j4h_9x.tmp.keep",
        out / "notes.tmp",
    ]
    for path in left + kept[1:]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    (out / "linked").mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / ".a.csv.abcdefgh.tmp").write_bytes(b"x")
    (out / "linked" / "far").symlink_to(outside, target_is_directory=True)  # never followed
    assert remove_stale_temp_files(out) == sorted(left)
    assert not any(p.exists() for p in left) and all(p.exists() for p in kept)
    assert (outside / ".a.csv.abcdefgh.tmp").exists()
    assert remove_stale_temp_files(out) == []
    assert remove_stale_temp_files(tmp_path / "no-such-folder") == []

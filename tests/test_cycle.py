"""The whole cycle through the `fund` command, as an administrator runs it."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fund.cli import app
from fund.cli.cycle import demo_folder

ROOT = Path(__file__).resolve().parents[1]
CHECKER = ROOT.parent / "shared" / "tools" / "check_contract.py"
runner = CliRunner()


def fund(*args: str):
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout + (result.stderr or "")


def read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def csv_bytes(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.csv"))}


def assert_contract_holds(cycle: Path, out: Path) -> None:
    """The shared contract checker (beside the project, when it is there) finds no problem."""
    if CHECKER.exists():
        check = subprocess.run([sys.executable, str(CHECKER), str(cycle), str(out)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout


@pytest.fixture
def demo_cycle(tmp_path) -> Path:
    return Path(shutil.copytree(demo_folder(), tmp_path / "cycle"))


def test_demo_writes_every_contract_file(demo_run):
    cycle, out, text = demo_run
    for rel in (
        "validation/rejected.csv",
        "review/assignments.csv",
        "evaluation/scores.csv",
        "allocation/allocation.csv",
        "allocation/comparison.csv",
        "allocation/publicity.html",
    ):
        assert (out / rel).is_file(), rel
    sheets = sorted((out / "review" / "sheets").glob("*.csv"))
    assert sheets and all(p.with_suffix(".xlsx").is_file() for p in sheets)
    letters = sorted(p.stem for p in (out / "allocation" / "letters").glob("*.html"))
    assert letters == sorted(r["proposal_id"] for r in read(out / "allocation" / "allocation.csv"))
    assert (out / "quality" / "index.html").is_file()
    assert_contract_holds(cycle, out)


def test_every_page_loads_nothing_from_another_host(demo_run):
    """The notice, the letters, the report and the data-quality pages work offline: no script,
    stylesheet, font, image or link points at another host."""
    _, out, _ = demo_run
    remote = re.compile(r"""(?:\b(?:src|href|action|srcset)\s*=\s*["']?|url\(\s*["']?|@import\s+["'])(?:https?:)?//""", re.I)
    pages = sorted(out.rglob("*.htm*")) + sorted((out / "quality").rglob("*.css"))
    assert len(pages) > 60
    assert [str(p.relative_to(out)) for p in pages if remote.search(p.read_text(encoding="utf-8"))] == []


def test_the_notice_shows_the_cycles_name_its_period_and_where_to_object(demo_run):
    cycle, out, text = demo_run
    html = (out / "allocation" / "publicity.html").read_text(encoding="utf-8")
    assert "南关区2026年度公益创投（第一批）拟资助项目公示" in html and "2026-nanguan-2026" not in html
    assert '2026-04-01</time> 至 <time datetime="2026-04-07">2026-04-07</time>' in html and "共 7 天" in html
    assert "南关区民政局" in html and "0431-8888 1234" in html and "gycy@example.gov.cn" in html
    assert "公示期 2026-04-01 至 2026-04-07" in text


def test_demo_rejects_each_broken_row_with_its_rule(demo_run):
    _, out, _ = demo_run
    found = {(r["source_file"], r["record_id"], r["field"], r["rule"]) for r in read(out / "validation" / "rejected.csv")}
    for expected in [
        ("organizations.csv", "52220102XFGGR0J7Q0", "credit_code", "credit_code_checksum"),
        ("proposals.csv", "P0003", "credit_code", "org_inspection_failed"),
        ("proposals.csv", "P0004", "credit_code", "org_too_young"),
        ("proposals.csv", "P0006", "requested", "request_above_max"),
        ("proposals.csv", "P0008", "category", "category_unknown"),
        ("proposals.csv", "P0010", "end_on", "end_after_close"),
        ("proposals.csv", "P0012", "start_on", "date_invalid"),
        ("proposals.csv", "P0014", "proposal_id", "duplicate_proposal_id"),
        ("proposals.csv", "P0016", "requested", "admin_share"),
        ("proposals.csv", "P0018", "requested", "budget_sum_mismatch"),
        ("budget_lines.csv", "P0020", "amount", "money_precision"),
        ("proposals.csv", "P0024", "credit_code", "org_proposal_limit"),
        ("proposals.csv", "P0026", "submitted_on", "submitted_late"),
        ("community_ratings.csv", "P0001/楼栋长代表", "rating", "rating_out_of_range"),
        ("scores/R01.csv", "P0009/R01", "need", "score_out_of_range"),
    ]:
        assert expected in found, expected
    # the full-width request (P0022) and the GBK reviewer list are read, not rejected
    assert not any(r[1] == "P0022" for r in found)
    assert all(r[3] != "file_encoding" for r in found)


def test_every_input_row_is_accepted_or_rejected(demo_run):
    cycle, out, _ = demo_run
    rejected_lines = {(r["source_file"], r["source_row"]) for r in read(out / "validation" / "rejected.csv")}
    allocation = {r["proposal_id"]: r for r in read(out / "allocation" / "allocation.csv")}
    for line, row in enumerate(read(cycle / "proposals.csv"), start=2):
        listed = ("proposals.csv", str(line)) in rejected_lines
        status = allocation[row["proposal_id"]]["status"]
        assert listed == (status == "ineligible") or row["proposal_id"] == "P0014", (line, status)


def test_allocation_obeys_the_money_rules(demo_run):
    cycle, out, _ = demo_run
    rows = read(out / "allocation" / "allocation.csv")
    funded = [r for r in rows if r["status"] == "funded"]
    total = sum(Decimal(r["awarded"]) for r in funded)
    assert 0 < total <= Decimal("5000000.00")
    assert all(r["awarded"] == r["requested"] for r in funded)
    assert all(Decimal(r["awarded"]) == 0 for r in rows if r["status"] != "funded")
    per_org = {}
    for r in funded:
        per_org[r["credit_code"]] = per_org.get(r["credit_code"], 0) + 1
        assert Decimal(r["final_score"]) >= Decimal("70.00")
    assert max(per_org.values()) == 1
    assert all(r["explanation"].strip() for r in rows)
    assert "综合得分" in funded[0]["explanation"]


def test_rerun_is_byte_identical_and_skips_finished_stages(demo_run, tmp_path):
    cycle, out, _ = demo_run
    before = csv_bytes(out)
    code, text = fund("run", cycle, "--out", out)
    assert code == 0, text
    assert csv_bytes(out) == before
    assert "未变化" in text
    fresh = tmp_path / "fresh"
    code, text = fund("run", cycle, "--out", fresh)
    assert code == 0, text
    assert csv_bytes(fresh) == before


def test_waits_for_score_sheets_and_says_what_is_missing(demo_cycle, tmp_path, prefect_server):
    shutil.rmtree(demo_cycle / "scores")
    out = tmp_path / "out"
    code, text = fund("run", demo_cycle, "--out", out)
    assert code == 0, text
    assert re.search(r"等待专家 R\d+ 交回 \d+ 项评分", text)
    assert (out / "evaluation" / "scores.csv").exists()
    assert not (out / "allocation" / "allocation.csv").exists()


def test_english_messages(demo_cycle, tmp_path, prefect_server):
    out = tmp_path / "out"
    code, text = fund("run", demo_cycle, "--out", out, "--lang", "en")
    assert code == 0, text
    messages = {r["rule"]: r["message"] for r in read(out / "validation" / "rejected.csv")}
    assert messages["request_above_max"] == "requested ¥250,000.00 is above the maximum ¥200,000.00"
    assert "intake" in text


def test_bad_cycle_toml_exits_2_naming_the_key(demo_cycle, tmp_path):
    toml = demo_cycle / "cycle.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("need = 20", "need = 25"), encoding="utf-8")
    code, text = fund("run", demo_cycle, "--out", tmp_path / "out")
    assert code == 2
    assert "rubric" in text and "Traceback" not in text


def test_missing_required_column_stops_with_file_and_column(demo_cycle, tmp_path, prefect_server):
    path = demo_cycle / "proposals.csv"
    text = path.read_text(encoding="utf-8-sig").replace("requested,", "amount_asked,", 1)
    path.write_text(text, encoding="utf-8-sig")
    code, output = fund("run", demo_cycle, "--out", tmp_path / "out")
    assert code == 1
    assert "proposals.csv" in output and "requested" in output and "Traceback" not in output


def test_publication_waits_for_approval(demo_cycle, tmp_path, prefect_server):
    toml = demo_cycle / "cycle.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace("require_approval = false", "require_approval = true"), encoding="utf-8"
    )
    out = tmp_path / "out"
    code, text = fund("run", demo_cycle, "--out", out)
    assert code == 0, text
    assert (out / "allocation" / "allocation.csv").exists()
    assert not (out / "allocation" / "publicity.html").exists()
    assert "fund approve" in text
    code, text = fund("approve", demo_cycle, "--out", out, "--by", "李主任", "--reject", "请复核为残类项目")
    assert code == 0, text
    code, text = fund("run", demo_cycle, "--out", out)
    assert not (out / "allocation" / "publicity.html").exists()
    assert "驳回" in text
    code, text = fund("approve", demo_cycle, "--out", out, "--by", "李主任")
    assert code == 0, text
    code, text = fund("run", demo_cycle, "--out", out)
    assert code == 0, text
    html = (out / "allocation" / "publicity.html").read_text(encoding="utf-8")
    assert "拟资助项目公示" in html


def test_whatif_changes_nothing_published(demo_run):
    cycle, out, _ = demo_run
    before = (out / "allocation" / "allocation.csv").read_bytes()
    code, text = fund("whatif", cycle, "--out", out, "--budget", "3000000", "--policy", "merit")
    assert code == 0, text
    assert "落选" in text
    assert (out / "allocation" / "allocation.csv").read_bytes() == before


@pytest.mark.postgres
def test_postgres_gives_the_same_outputs_as_sqlite(demo_run, tmp_path, postgres_url):
    cycle, out, _ = demo_run
    pg_out = tmp_path / "pg"
    code, text = fund("run", cycle, "--out", pg_out, "--db", postgres_url)
    assert code == 0, text
    assert not (pg_out / "fund.db").exists()
    assert csv_bytes(pg_out) == csv_bytes(out)
    code, text = fund("run", cycle, "--out", pg_out, "--db", postgres_url)
    assert code == 0 and "未变化" in text


def test_cycle_flow_pauses_for_approval_in_prefect(demo_cycle, tmp_path, prefect_server):
    """Called directly (no deployment), the flow pauses in its process for the decision (the
    typed input of the UI's form), then publishes; deployments suspend instead (tests/test_deploy.py)."""
    import threading
    import time

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.flow_runs import resume_flow_run

    from fund.flows.cycle import cycle_flow

    toml = demo_cycle / "cycle.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace("require_approval = false", "require_approval = true"), encoding="utf-8"
    )
    out = tmp_path / "out"
    box = {}
    worker = threading.Thread(
        target=lambda: box.setdefault("state", cycle_flow(str(demo_cycle), str(out), None, "zh", True, 120, return_state=True))
    )
    worker.start()
    paused = None
    deadline = time.time() + 90
    with get_client(sync_client=True) as client:
        while paused is None and time.time() < deadline:
            runs = client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=["fund-cycle"])),
                flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))),
            )
            paused = runs[0] if runs else None
            time.sleep(0.5)
    assert paused is not None, "the cycle flow did not pause for approval"
    assert not (out / "allocation" / "publicity.html").exists()
    resume_flow_run(paused.id, run_input={"decision": "批准", "approver": "王科长"})
    worker.join(120)
    assert box["state"].is_completed(), box["state"]
    assert (out / "allocation" / "publicity.html").exists()
    code, text = fund("audit", "show", demo_cycle, "--out", out)
    assert "王科长" in text and "allocation_approved" in text


def test_reviewer_statistics_and_calibration(demo_cycle, tmp_path, prefect_server):
    toml = demo_cycle / "cycle.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n[scoring]\ncalibrate = true\n", encoding="utf-8")
    out = tmp_path / "out"
    code, text = fund("run", demo_cycle, "--out", out)
    assert code == 0, text
    assert re.search(r"已按评审尺度校准：\d+ 个项目排名变化", text)
    rows = read(out / "evaluation" / "reviewers.csv")
    assert len(rows) == 13 and len({r["panel_icc"] for r in rows}) == 1
    assert abs(sum(Decimal(r["severity"]) * int(r["reviews"]) for r in rows)) < Decimal("1")  # deviations cancel out


def test_previous_cycle_incentives_bar_and_add_bonus(demo_run, tmp_path):
    """The previous cycle's reports/incentives.csv, copied in as previous_incentives.csv: a
    barred organization is ineligible, a bonus goes on its organization's final scores."""
    cycle_before, out_before, _ = demo_run
    cycle = Path(shutil.copytree(cycle_before, tmp_path / "cycle"))
    codes = {r["proposal_id"]: r["credit_code"] for r in read(cycle / "proposals.csv")}
    barred, rewarded = codes["P0003"], codes["P0005"]  # P0003 is ineligible already, so assignments stay as they are
    from fund.tasks.tracking import INCENTIVES_HEADER

    rows = [
        ["Q2025-01", barred, "机构甲", "项目甲", "fail", "不合格", "52.00", "warning;withhold;barred", "警示", "0.00", "yes"],
        [
            "Q2025-02",
            rewarded,
            "机构乙",
            "项目乙",
            "excellent",
            "优秀",
            "93.50",
            "commendation;next_cycle_bonus",
            "表扬",
            "5.00",
            "no",
        ],
        ["Q2025-03", rewarded, "机构乙", "项目丙", "excellent", "优秀", "91.00", "next_cycle_bonus", "", "25", "no"],
    ]
    with (cycle / "previous_incentives.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([INCENTIVES_HEADER, *rows])
    code, text = fund("run", cycle, "--out", tmp_path / "out", "--lang", "en")
    assert code == 0, text
    rejected = {
        (r["source_file"], r["record_id"], r["field"], r["rule"]): r
        for r in read(tmp_path / "out" / "validation" / "rejected.csv")
    }
    assert ("proposals.csv", "P0003", "credit_code", "org_barred") in rejected
    assert "Q2025-01" in rejected[("proposals.csv", "P0003", "credit_code", "org_barred")]["message"]
    assert ("previous_incentives.csv", "Q2025-03", "next_cycle_bonus", "bonus_invalid") in rejected
    before = {r["proposal_id"]: r for r in read(out_before / "evaluation" / "scores.csv")}
    after = {r["proposal_id"]: r for r in read(tmp_path / "out" / "evaluation" / "scores.csv")}
    rewarded_ids = [pid for pid, c in codes.items() if c == rewarded and before.get(pid, {}).get("final_score")]
    assert rewarded_ids
    for pid, row in after.items():
        if pid in rewarded_ids:
            assert row["bonus"] == "5.00"
            assert Decimal(row["final_score"]) == min(Decimal(before[pid]["final_score"]) + 5, Decimal(100))
        else:
            assert (row["bonus"], row["final_score"]) == ("0.00", before[pid]["final_score"])
    assert_contract_holds(cycle, tmp_path / "out")


def test_fund_run_on_its_own_temporary_prefect_server(tmp_path):
    """As on an administrator's machine: no Prefect server configured, a fresh PREFECT_HOME.
    The run starts Prefect's temporary server itself (early, while the stages load),
    finishes every stage and prints no traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    cycle = Path(shutil.copytree(demo_folder(), tmp_path / "cycle"))
    done = subprocess.run(
        [sys.executable, "-m", "fund", "run", str(cycle), "--out", str(tmp_path / "out"), "--lang", "en"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stdout.count("✓") == 7 and (tmp_path / "out" / "reports" / "index.html").is_file()


def test_conflicting_rules_are_named_in_the_stop_the_artifact_and_whatif(demo_run, tmp_path):
    """A budget too small for the demo's rules: fund whatif and fund run (exit 1) name each group
    of rules that really conflict with its figures, and the change of one rule that settles
    them all; the allocation stage's Prefect artifact carries the same list."""
    cycle_before, out_before, _ = demo_run
    code, whatif_text = fund("whatif", cycle_before, "--out", out_before, "--budget", "100000")
    assert code == 1, whatif_text
    coverage = "- 总预算、街道全覆盖：覆盖全部 10 个街道至少需要 ¥848,000.00（各街道最低申请额之和），但总预算只有 ¥100,000.00"
    assert coverage in whatif_text
    assert "- 总预算、为残类最低份额：为残类最低份额 ¥10,000.00（项目整体资助，至少需要 ¥168,500.00），" in whatif_text
    assert "- 总预算、紧急需求全覆盖：覆盖全部 12 项紧急需求至少需要 ¥1,498,500.00，但总预算只有 ¥100,000.00" in whatif_text
    assert "- 把总预算从 ¥100,000.00 提高到 ¥1,801,500.00" in whatif_text
    cycle = Path(shutil.copytree(cycle_before, tmp_path / "cycle"))
    toml = (cycle / "cycle.toml").read_text(encoding="utf-8")
    (cycle / "cycle.toml").write_text(toml.replace('budget = "3800000.00"', 'budget = "100000.00"'), encoding="utf-8")
    code, text = fund("run", cycle, "--out", tmp_path / "out")
    assert code == 1, text
    assert whatif_text.strip() in text  # the same diagnosis
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["allocation-2026-nanguan-2026"]))
        )
    stopped = [a.data for a in artifacts if "### allocation: stopped" in a.data]
    assert stopped and coverage in stopped[-1] and "\n\n单独做下列任何一项调整" in stopped[-1]

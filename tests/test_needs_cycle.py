"""The needs list and the resource pledges through `fund run`, as an administrator runs them: the
bundled demo's story (an urgent need merit leaves and the optimal policy covers), its outputs, the
leadership report's answer, the notice, and a cycle without the lists writing exactly what it
wrote before they existed."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

from builders import file_digests
from test_cycle import assert_contract_holds, fund, read

from fund.cli.cycle import demo_folder

GOLDEN = Path(__file__).parent / "golden" / "demo_without_needs.json"
# what differs between two runs of the same inputs: the audit record's fingerprint on the notice, the
# time a report was generated
VARYING = [
    (re.compile(rb"<code>[0-9]+-[0-9a-f]+</code>"), b"<code>fingerprint</code>"),
    (re.compile("生成于 [0-9-]+ [0-9:]+".encode()), b"generated"),
    (re.compile(rb"generated [0-9-]+ [0-9:]+"), b"generated"),
]
NOT_OUTPUTS = ("fund.db", "audit/", "quality/", "logs/")  # the database, the audit head, Great Expectations' runs


def output_digests(out: Path) -> dict[str, str]:
    """SHA-256 of every file a run writes for people (CSVs, workbooks, letters, the notice, the report),
    with what differs between two runs of the same inputs blanked."""
    return file_digests(out, NOT_OUTPUTS + (".",), tuple(VARYING))  # "." : the run's lock files


def strip_needs(cycle: Path) -> None:
    """The demo as it was before it had a needs list: no needs.csv, resources.csv, need_ids or [needs]."""
    for name in ("needs.csv", "resources.csv"):
        (cycle / name).unlink()
    rows = list(csv.reader((cycle / "proposals.csv").read_text(encoding="utf-8-sig").splitlines()))
    i = rows[0].index("need_ids")
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([r[:i] + r[i + 1 :] for r in rows])
    (cycle / "proposals.csv").write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))
    toml = (cycle / "cycle.toml").read_text(encoding="utf-8")
    (cycle / "cycle.toml").write_text(toml.split("\n[needs]")[0], encoding="utf-8")


def test_without_the_lists_the_demo_writes_exactly_what_it_wrote_before_them(tmp_path, prefect_server):
    """GOLDEN holds the digests of the outputs of the demo without its needs list, written by the
    release before needs lists existed (the merge of money after the award, run on its own demo with
    `fund run` and digested with output_digests); the same cycle run now gives the same bytes."""
    cycle = Path(shutil.copytree(demo_folder(), tmp_path / "cycle"))
    strip_needs(cycle)
    code, text = fund("run", cycle, "--out", tmp_path / "out")
    assert code == 0, text
    assert "需求清单" not in text
    digests = output_digests(tmp_path / "out")
    assert not (tmp_path / "out" / "needs").exists()
    assert digests == json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_the_demo_covers_an_urgent_need_that_merit_leaves_unmet(demo_run):
    cycle, out, text = demo_run
    comparison = {r["policy"]: r for r in read(out / "allocation" / "comparison.csv")}
    assert (comparison["merit"]["urgent_needs_covered"], comparison["merit"]["cover_urgent"]) == ("10/12", "ignored")
    assert (comparison["optimal"]["urgent_needs_covered"], comparison["optimal"]["cover_urgent"]) == ("12/12", "applied")
    coverage = {r["need_id"]: r for r in read(out / "needs" / "coverage.csv")}
    assert (coverage["N007"]["urgency"], coverage["N007"]["funded"], coverage["N007"]["status"]) == ("high", "P0001", "covered")
    code, whatif = fund("whatif", cycle, "--out", out, "--policy", "merit")
    assert code == 0 and "P0001" in whatif and "落选" in whatif  # merit leaves N007's only answer out
    assert "现结果覆盖 12 项，假设结果覆盖 10 项" in whatif
    allocation = {r["proposal_id"]: r for r in read(out / "allocation" / "allocation.csv")}
    assert "紧急需求 N007（困难群众心理压力大）唯一资助项目（紧急需求全覆盖）" in allocation["P0001"]["explanation"]
    assert "紧急需求已覆盖 12/25 项，全部需求已覆盖 26/78 项" in text
    assert_contract_holds(cycle, out)


def test_the_demo_lists_unmet_needs_and_the_resource_ledger(demo_run):
    cycle, out, _ = demo_run
    coverage = read(out / "needs" / "coverage.csv")
    unmet = read(out / "needs" / "unmet.csv")
    assert len(coverage) == 78 and {r["need_id"] for r in unmet} == {r["need_id"] for r in coverage if r["status"] == "unmet"}
    assert [r["urgency"] for r in unmet] == sorted((r["urgency"] for r in unmet), key=["high", "medium", "low"].index)
    ledger = {r["resource_id"]: r for r in read(out / "needs" / "resources.csv")}
    assert all((r["amount"] == "") == (r["kind"] != "money") for r in ledger.values())
    assert all(r["counted"] == "no" for r in ledger.values() if r["target_status"] in ("not_funded", "ineligible"))
    streets = read(out / "needs" / "leverage.csv")
    awarded = sum(int(r["awarded"].replace(".", "")) for r in streets)
    assert awarded == sum(int(r["awarded"].replace(".", "")) for r in read(out / "allocation" / "allocation.csv"))
    rejected = {(r["source_file"], r["record_id"], r["field"], r["rule"]) for r in read(out / "validation" / "rejected.csv")}
    for expected in [
        ("needs.csv", "N004", "urgency", "urgency_unknown"),
        ("needs.csv", "N009", "need_id", "duplicate_need_id"),
        ("proposals.csv", "P0003", "need_ids", "need_other_street"),
        ("proposals.csv", "P0006", "need_ids", "need_unknown"),
        ("resources.csv", "R003", "resource_id", "duplicate_resource_id"),
        ("resources.csv", "R032", "pledged_to", "pledge_unknown"),
    ]:
        assert expected in rejected, expected


def test_the_report_says_which_urgent_needs_of_a_street_are_still_unmet(demo_run):
    _, out, _ = demo_run
    html = (out / "reports" / "index.html").read_text(encoding="utf-8")
    section = html[html.index('<section class="needs">') :]
    section = section[: section.index("</section>")]
    mingzhu = section[section.index('<span class="pname">明珠街道</span>') :]
    mingzhu = mingzhu[: mingzhu.index("</ul>")]
    assert "N027 心智障碍者白天无人照料" in mingzhu and "没有项目对应该需求" in mingzhu
    unmet_urgent = {
        r["need_id"] for r in read(out / "needs" / "unmet.csv") if r["urgency"] == "high" and r["street"] == "明珠街道"
    }
    assert unmet_urgent == set(re.findall(r"(N\d{3}) ", mingzhu))
    assert "需求清单 78 项，本轮已覆盖 26 项（33%）；紧急需求 25 项，已覆盖 12 项。" in section
    assert "驻区单位资源认捐" in section and "资金撬动" in section and "0.21" in section


def test_the_notice_lists_the_need_each_funded_project_answers(demo_run):
    _, out, _ = demo_run
    html = (out / "allocation" / "publicity.html").read_text(encoding="utf-8")
    assert "<th>对应需求</th>" in html
    row = next(line for line in html.splitlines() if ">P0001<" in line)
    assert '<td class="needs" data-label="对应需求">困难群众心理压力大 <span class="nid">N007</span></td>' in row

"""The needs list and the resource pledges (四张清单) without Prefect: each intake rule with a row that
passes and one that fails, coverage and the unmet list after the award, the resource ledger and
the fund's leverage, the report's section, and the intake's input hash."""

from __future__ import annotations

import csv
import io

import pytest

from builders import budget, credit_code, make_config, org, proposal, write_csv, write_intake
from fund.schemas.config import ConfigError, parse_config
from fund.tasks.intake import PROPOSALS, read_intake, validate_intake
from fund.tasks.messages import MESSAGES, render
from fund.tasks.needs import (
    NEEDS,
    RESOURCES,
    count_coverage,
    leverage_by_street,
    leverage_total,
    need_coverage,
    read_needs_lists,
    resource_ledger,
    unmet_needs,
    urgent_needs_of,
    validate_needs,
)
from fund.tasks.needs.coverage import CoverageCount, leverage
from fund.tasks.needs.report import needs_section
from fund.tasks.needs.writers import write_coverage, write_resources

NEEDS_HEADER = ["need_id", "street", "community", "group", "title", "description", "source", "people", "urgency", "raised_on"]
RESOURCES_HEADER = ["resource_id", "unit", "kind", "amount", "street", "community", "pledged_to"]
CODES = [credit_code(500 + i) for i in range(6)]


def need(nid, street="南关街道", urgency="高", group="为老", **fields) -> dict:
    row = {
        "need_id": nid,
        "street": street,
        "community": "永吉社区",
        "group": group,
        "title": f"需求{nid}",
        "description": "",
        "source": "入户走访",
        "people": "30",
        "urgency": urgency,
        "raised_on": "2026-02-01",
    }
    row.update(fields)
    return row


def pledge(rid, kind="资金", amount="5000.00", pledged_to="", street="南关街道") -> dict:
    return {
        "resource_id": rid,
        "unit": "南关区人民医院",
        "kind": kind,
        "amount": amount,
        "street": street,
        "community": "",
        "pledged_to": pledged_to,
    }


def intake(folder, proposals, needs=None, resources=None, cfg=None):
    """Write a small cycle (one organization per proposal) and validate its intake."""
    orgs = [org(p["credit_code"]) for p in proposals]
    lines = [line for p in proposals for line in budget(p["proposal_id"], p["requested"])]
    write_intake(folder, orgs, proposals, lines)
    if needs is not None:
        write_csv(folder / NEEDS, NEEDS_HEADER, needs)
    if resources is not None:
        write_csv(folder / RESOURCES, RESOURCES_HEADER, resources)
    result = validate_intake(cfg or make_config(), *read_intake(folder), None, *read_needs_lists(folder))
    for name in [n for n, given in ((NEEDS, needs), (RESOURCES, resources)) if given is not None]:
        rows = set(range(2, 2 + result.rows_in[name]))
        rejected = {p.source_row for p in result.problems if p.source_file == name}
        kept = {r["source_row"] for r in (result.needs if name == NEEDS else result.resources)}
        assert kept | rejected == rows and not kept & rejected, name  # every row accepted or rejected, not both
    return result


def problems(result, source_file):
    return sorted((p.source_row, p.record_id, p.field, p.rule) for p in result.problems if p.source_file == source_file)


def eligible(result):
    return {p["proposal_id"]: p["eligible"] for p in result.proposals}


# ---------------------------------------------------------------- proposals naming needs


def test_a_proposal_names_needs_of_its_street_with_either_separator(tmp_path):
    result = intake(
        tmp_path,
        [proposal("P1", CODES[0], need_ids="N2； N1;"), proposal("P2", CODES[1])],
        [need("N1"), need("N2", urgency="low")],
    )
    assert problems(result, PROPOSALS) == []
    assert {p["proposal_id"]: p["need_ids"] for p in result.proposals} == {"P1": "N1;N2", "P2": None}
    assert urgent_needs_of(result.proposals, result.needs) == {"P1": ("N1",), "P2": ()}


@pytest.mark.parametrize(
    "need_ids, rule, value",
    [
        ("N9", "need_unknown", "N9"),
        ("N1;N3", "need_other_street", "N3"),
        ("N1,N2", "need_ids_format", "N1,N2"),  # a comma is not a separator: never guessed
        ("N4", "need_invalid", "N4"),  # its own record is rejected (urgency unknown)
    ],
)
def test_a_proposal_naming_a_need_it_cannot_answer_is_not_eligible(tmp_path, need_ids, rule, value):
    result = intake(
        tmp_path,
        [proposal("P1", CODES[0], need_ids=need_ids), proposal("P2", CODES[1], need_ids="N1")],
        [need("N1"), need("N2"), need("N3", street="自强街道"), need("N4", urgency="紧急")],
    )
    assert [(p.source_row, p.record_id, p.field, p.value, p.rule) for p in result.problems if p.source_file == PROPOSALS] == [
        (2, "P1", "need_ids", value, rule)
    ]
    assert eligible(result) == {"P1": False, "P2": True}
    message = render(rule, next(p.params for p in result.problems if p.rule == rule), "zh")
    assert "{" not in message and (value in message or rule == "need_ids_format")


def test_without_a_needs_list_a_named_need_is_unknown(tmp_path):
    result = intake(tmp_path, [proposal("P1", CODES[0], need_ids="N1"), proposal("P2", CODES[1], need_ids="")])
    assert problems(result, PROPOSALS) == [(2, "P1", "need_ids", "need_unknown")]
    assert "needs.csv" in render("need_unknown", {"need": "N1"}, "en")


def test_require_need_rejects_a_proposal_that_answers_none(tmp_path):
    cfg = make_config(needs={"require_need": True})
    result = intake(tmp_path, [proposal("P1", CODES[0], need_ids="N1"), proposal("P2", CODES[1])], [need("N1")], cfg=cfg)
    assert problems(result, PROPOSALS) == [(3, "P2", "need_ids", "need_missing")]
    assert eligible(result) == {"P1": True, "P2": False}


# ---------------------------------------------------------------- needs.csv


def test_needs_rows_pass_or_fail_on_their_own(tmp_path):
    rows = [
        need("N1", urgency="high"),
        need("N2", urgency="中", group="elderly", people=""),
        need("N3", urgency="紧急"),
        need("N4", group="为青"),
        need("N5"),
        need("N5", title="另一条"),
        need("N 6"),
        need("N7", people="-3"),
        need("N8", raised_on="2026/2/30"),
    ]
    result = intake(tmp_path, [proposal("P1", CODES[0])], rows)
    assert problems(result, NEEDS) == [
        (4, "N3", "urgency", "urgency_unknown"),
        (5, "N4", "group", "category_unknown"),
        (6, "N5", "need_id", "duplicate_need_id"),
        (7, "N5", "need_id", "duplicate_need_id"),
        (8, "N 6", "need_id", "id_format"),
        (9, "N7", "people", "value_below_min"),
        (10, "N8", "raised_on", "date_invalid"),
    ]
    assert [(n["need_id"], n["urgency"], n["group"], n["people"]) for n in result.needs] == [
        ("N1", "high", "elderly", 30),
        ("N2", "medium", "elderly", None),
    ]
    assert "high（高） / medium（中） / low（低）" in render("urgency_unknown", {}, "zh")


def test_chinese_headers_are_read_too(tmp_path):
    write_csv(
        tmp_path / NEEDS,
        ["需求编号", "街道", "社区", "服务对象", "需求", "紧急程度"],
        [["N1", "南关街道", "永吉社区", "为困", "冬季取暖", "高"]],
    )
    write_csv(
        tmp_path / RESOURCES,
        ["资源编号", "提供单位", "类型", "金额或数量", "街道", "对接"],
        [["R1", "长春银行", "资金", "20,000.00", "南关街道", "N1"]],
    )
    needs_table, resources_table = read_needs_lists(tmp_path)
    assert [r["title"] for r in needs_table.rows] == ["冬季取暖"] and resources_table.rows[0]["pledged_to"] == "N1"


# ---------------------------------------------------------------- resources.csv


def test_pledges_pass_or_fail_on_their_own(tmp_path):
    rows = [
        pledge("R1", "资金", "1,500.50", "N1"),
        pledge("R2", "场地", "12", "P2"),
        pledge("R3", "volunteers", "８０"),
        pledge("R4", "物资", "两箱"),
        pledge("R5", "goods", "-3"),
        pledge("R6", "venue", "2.5"),
        pledge("R7", "money", "12,5"),
        pledge("R8", "资金", "100", "X9"),
        pledge("R9", "资金", "100", "P1"),
        pledge("R10", "人力"),
        pledge("R11"),
        pledge("R11", amount="6000.00"),
        pledge("R12", pledged_to="N2"),
    ]
    result = intake(
        tmp_path,
        [proposal("P1", CODES[0]), proposal("P2", CODES[1], requested="1.00")],
        [need("N1"), need("P1"), need("N2", urgency="?")],
        rows,
    )
    assert problems(result, RESOURCES) == [
        (5, "R4", "amount", "quantity_format"),
        (6, "R5", "amount", "quantity_format"),
        (7, "R6", "amount", "quantity_format"),
        (8, "R7", "amount", "money_format"),
        (9, "R8", "pledged_to", "pledge_unknown"),
        (10, "R9", "pledged_to", "pledge_ambiguous"),
        (11, "R10", "kind", "resource_kind_unknown"),
        (12, "R11", "resource_id", "duplicate_resource_id"),
        (13, "R11", "resource_id", "duplicate_resource_id"),
        (14, "R12", "pledged_to", "need_invalid"),
    ]
    kept = {r["resource_id"]: (r["kind"], r["amount_fen"], r["quantity"], r["pledged_to"]) for r in result.resources}
    assert kept == {
        "R1": ("money", 150050, None, "N1"),
        "R2": ("venue", None, 12, "P2"),  # P2 is ineligible: still a proposal
        "R3": ("volunteers", None, 80, None),
    }
    for p in result.problems:
        assert p.rule in MESSAGES and "{" not in render(p.rule, p.params, "en")


def test_a_cycle_without_the_lists_reads_as_before(tmp_path):
    result = intake(tmp_path, [proposal("P1", CODES[0])])
    assert (result.needs, result.resources) == ([], []) and set(result.rows_in) == {
        "organizations.csv",
        "proposals.csv",
        "budget_lines.csv",
    }
    assert validate_needs(None)[0].given is False


# ---------------------------------------------------------------- after the award

PROPOSALS_ROWS = [
    {"proposal_id": "P1", "eligible": True, "need_ids": "N1;N2", "street": "南关街道", "cofunding_fen": 10_000_00},
    {"proposal_id": "P2", "eligible": True, "need_ids": "N2", "street": "南关街道", "cofunding_fen": 0},
    {"proposal_id": "P3", "eligible": False, "need_ids": "N3", "street": "自强街道", "cofunding_fen": 5_000_00},
    {"proposal_id": "P4", "eligible": True, "need_ids": None, "street": "自强街道", "cofunding_fen": 20_000_00},
]
AWARDS = [
    {"proposal_id": "P1", "status": "funded", "awarded_fen": 100_000_00},
    {"proposal_id": "P2", "status": "not_funded", "awarded_fen": 0},
    {"proposal_id": "P3", "status": "ineligible", "awarded_fen": 0},
    {"proposal_id": "P4", "status": "funded", "awarded_fen": 30_000_00},
]
NEED_ROWS = [
    {
        "need_id": n,
        "street": s,
        "community": None,
        "group": "elderly",
        "title": f"需求{n}",
        "description": None,
        "source": None,
        "people": 10,
        "urgency": u,
        "raised_on": None,
        "source_row": 2,
    }
    for n, s, u in (
        ("N1", "南关街道", "low"),
        ("N2", "南关街道", "high"),
        ("N3", "自强街道", "high"),
        ("N4", "自强街道", "medium"),
        ("N5", "南关街道", "high"),
    )
]


def test_coverage_and_why_a_need_is_unmet():
    coverage = need_coverage(NEED_ROWS, PROPOSALS_ROWS, AWARDS)
    assert [(c["need_id"], c["proposals"], c["funded"], c["status"], c["reason"]) for c in coverage] == [
        ("N1", ["P1"], ["P1"], "covered", None),
        ("N2", ["P1", "P2"], ["P1"], "covered", None),
        ("N3", [], [], "unmet", "unmet_no_eligible"),
        ("N4", [], [], "unmet", "unmet_no_proposal"),
        ("N5", [], [], "unmet", "unmet_no_proposal"),
    ]
    assert [c["need_id"] for c in unmet_needs(coverage)] == ["N5", "N3", "N4"]  # urgent first, then street
    assert count_coverage(coverage) == CoverageCount(needs=5, covered=2, urgent=3, urgent_covered=1)
    not_funded = need_coverage(NEED_ROWS, PROPOSALS_ROWS, [{**a, "status": "not_funded"} for a in AWARDS])
    assert next(c for c in not_funded if c["need_id"] == "N2")["reason_proposals"] == ["P1", "P2"]


def test_the_ledger_counts_what_goes_with_funded_projects_and_the_leverage_rounds_half_up():
    resources = [
        {
            "resource_id": rid,
            "unit": "单位",
            "kind": kind,
            "amount": "",
            "street": street,
            "community": None,
            "pledged_to": target,
            "amount_fen": fen,
            "quantity": quantity,
            "source_row": 2,
        }
        for rid, kind, street, target, fen, quantity in (
            ("R1", "money", "南关街道", "N2", 5_000_00, None),
            ("R2", "money", "南关街道", "P2", 9_000_00, None),
            ("R3", "venue", "自强街道", "P4", None, 12),
            ("R4", "money", "自强街道", None, 1_000_00, None),
            ("R5", "goods", "自强街道", "P3", None, 50),
        )
    ]
    coverage = need_coverage(NEED_ROWS, PROPOSALS_ROWS, AWARDS)
    ledger = resource_ledger(resources, NEED_ROWS, AWARDS, coverage)
    assert [(r["resource_id"], r["target"], r["target_status"], r["counted"]) for r in ledger] == [
        ("R1", "need", "covered", True),
        ("R2", "proposal", "not_funded", False),
        ("R3", "proposal", "funded", True),
        ("R4", "", "", True),
        ("R5", "proposal", "ineligible", False),
    ]
    streets = leverage_by_street(ledger, PROPOSALS_ROWS, AWARDS)
    assert [
        (s["street"], s["awarded_fen"], s["cofunding_fen"], s["pledged_fen"], s["venue"], s["goods"], s["leverage"])
        for s in streets
    ] == [
        ("南关街道", 100_000_00, 10_000_00, 5_000_00, 0, 0, "0.15"),
        ("自强街道", 30_000_00, 20_000_00, 1_000_00, 12, 0, "0.70"),
    ]
    assert leverage_total(streets)["leverage"] == "0.28"  # 36,000 / 130,000 = 0.2769…
    assert (leverage(1, 8), leverage(1, 3), leverage(2, 3), leverage(5, 0)) == ("0.13", "0.33", "0.67", None)


def test_unmet_csv_is_ready_to_be_the_next_calls_needs_list(tmp_path):
    coverage = need_coverage(NEED_ROWS, PROPOSALS_ROWS, AWARDS)
    write_coverage(tmp_path, coverage, unmet_needs(coverage), "zh")
    raw = (tmp_path / "needs" / "unmet.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [(r["need_id"], r["reason"]) for r in rows] == [
        ("N5", "unmet_no_proposal"),
        ("N3", "unmet_no_eligible"),
        ("N4", "unmet_no_proposal"),
    ]
    assert rows[1]["reason_text"] == "对应的项目均未通过资格审查：P3"
    (tmp_path / "next").mkdir()
    (tmp_path / "next" / NEEDS).write_bytes(raw)
    needs, found = validate_needs(read_needs_lists(tmp_path / "next")[0])
    assert found == [] and sorted(needs.needs) == ["N3", "N4", "N5"]
    header = (tmp_path / "needs" / "coverage.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("need_id,street,community,group,urgency,proposals,funded,status")


def test_resource_outputs_write_money_with_two_decimals(tmp_path):
    ledger = [
        {
            "resource_id": "R1",
            "unit": "长春银行",
            "kind": "money",
            "amount_fen": 150050,
            "quantity": None,
            "street": "南关街道",
            "community": None,
            "pledged_to": None,
            "target": "",
            "target_status": "",
            "counted": True,
        }
    ]
    streets = leverage_by_street(ledger, PROPOSALS_ROWS, AWARDS)
    write_resources(tmp_path, ledger, streets)
    ledger_rows = list(csv.DictReader(io.StringIO((tmp_path / "needs" / "resources.csv").read_text(encoding="utf-8-sig"))))
    assert (ledger_rows[0]["amount"], ledger_rows[0]["quantity"], ledger_rows[0]["counted"]) == ("1500.50", "", "yes")
    leverage_rows = list(csv.DictReader(io.StringIO((tmp_path / "needs" / "leverage.csv").read_text(encoding="utf-8-sig"))))
    assert leverage_rows[0] == {
        "street": "南关街道",
        "funded_projects": "1",
        "awarded": "100000.00",
        "cofunding": "10000.00",
        "pledged": "1500.50",
        "leverage": "0.12",
        "venue": "0",
        "volunteers": "0",
        "goods": "0",
    }


def test_the_report_names_the_unmet_urgent_needs_by_street():
    section = needs_section(NEED_ROWS, PROPOSALS_ROWS, AWARDS, [], True, False, "zh")
    assert [(street, [c["need_id"] for c in items]) for street, items in section["unmet"]] == [
        ("南关街道", ["N5"]),
        ("自强街道", ["N3"]),
    ]
    assert section["summary"] == "需求清单 5 项，本轮已覆盖 2 项（40%）；紧急需求 3 项，已覆盖 1 项。"
    assert [(s["name"], s["needs"], s["covered"], s["urgent_unmet"]) for s in section["by_street"]] == [
        ("南关街道", 3, 2, 1),
        ("自强街道", 2, 0, 1),
    ]
    assert needs_section(NEED_ROWS, PROPOSALS_ROWS, AWARDS, [], True, False, "en")["by_group"][0]["name"] == "elderly"


# ---------------------------------------------------------------- configuration and the intake's input hash


def test_needs_keys_in_cycle_toml():
    assert make_config(needs={"cover_urgent": True}).needs.cover_urgent is True
    assert make_config().needs.cover_urgent is False and make_config().needs.require_need is False
    with pytest.raises(ConfigError) as info:
        parse_config(
            '[cycle]\nid = "c1"\nname = "n"\nopens = 2026-03-01\ncloses = 2026-12-31\n[needs]\ncover_urgent = "yes please"\n'
        )
    assert info.value.key == "needs.cover_urgent"
    with pytest.raises(ConfigError) as info:
        parse_config('[cycle]\nid = "c1"\nname = "n"\nopens = 2026-03-01\ncloses = 2026-12-31\n[needs]\nurgent_share = 1\n')
    assert info.value.key == "needs.urgent_share"


def test_the_intake_hash_takes_the_lists_only_when_the_cycle_has_them(tmp_path):
    from fund.flows.plans import intake_hash
    from fund.flows.stage import Stage, hash_inputs
    from builders import sections, toml_text

    write_intake(tmp_path, [org(CODES[0])], [proposal("P1", CODES[0])], budget("P1"))
    (tmp_path / "cycle.toml").write_text(toml_text(sections()), encoding="utf-8")
    stage = Stage.open("intake", str(tmp_path), str(tmp_path / "out"), "sqlite://", "zh")
    files = [
        tmp_path / n for n in ("cycle.toml", "organizations.csv", "proposals.csv", "budget_lines.csv", "previous_incentives.csv")
    ]
    without = intake_hash(stage)
    assert without == hash_inputs("zh", *files)  # what it always was: no rerun after an upgrade
    write_csv(tmp_path / NEEDS, NEEDS_HEADER, [need("N1")])
    with_needs = intake_hash(stage)
    write_csv(tmp_path / NEEDS, NEEDS_HEADER, [need("N1", urgency="低")])
    assert len({without, with_needs, intake_hash(stage)}) == 3  # a new or changed list reruns the intake
    write_csv(tmp_path / RESOURCES, RESOURCES_HEADER, [pledge("R1")])
    assert intake_hash(stage) not in (without, with_needs)

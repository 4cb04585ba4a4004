"""fund.tasks.intake.validate_intake on tiny cycle folders: one passing and one failing row per rule."""

from __future__ import annotations

import datetime as dt

import pytest

from builders import budget, credit_code, make_config, org, proposal, write_intake, wrong_check
from fund.tasks.intake import BUDGET_LINES, ORGANIZATIONS, PROPOSALS, read_intake, validate_intake
from fund.tasks.messages import MESSAGES, render

GOOD, BAD, OTHER = credit_code(101), credit_code(202), credit_code(303)


def run(folder, orgs, proposals, lines, cfg=None):
    write_intake(folder, orgs, proposals, lines)
    tables = read_intake(folder)
    result = validate_intake(cfg or make_config(), *tables)
    assert_every_row_accounted_for(result, tables)
    return result


def assert_every_row_accounted_for(result, tables):
    """rows in = accepted rows + rejected rows, for each of the three files, with no row in both."""
    accepted = {
        ORGANIZATIONS: {o["source_row"] for o in result.organizations},
        PROPOSALS: {p["source_row"] for p in result.proposals if p["eligible"]},
        BUDGET_LINES: {b["source_row"] for b in result.budget_lines},
    }
    for table in tables:
        rows = {r["_line"] for r in table.rows}
        rejected = {p.source_row for p in result.problems if p.source_file == table.source_file}
        assert len(rows) == table.rows_in == result.rows_in[table.source_file]
        assert accepted[table.source_file] | rejected == rows, table.source_file
        assert not accepted[table.source_file] & rejected, table.source_file


def found(result, source_file=PROPOSALS):
    return sorted((p.source_row, p.record_id, p.field, p.rule) for p in result.problems if p.source_file == source_file)


def eligible(result):
    return {p["proposal_id"]: p["eligible"] for p in result.proposals}


def lines_for(props):
    out = []
    for p in props:
        out += budget(p["proposal_id"], p["requested"])
    return out


# ---------------------------------------------------------------- one rule, one pass and one fail

CASES = {
    # rule: (field, good org fields, bad org fields, good proposal fields, bad proposal fields, good lines, bad lines)
    "org_inspection_failed": ("credit_code", {"inspection": "基本合格"}, {"inspection": "不合格"}, {}, {}, None, None),
    "org_too_young": ("credit_code", {"registered_on": "2025-03-01"}, {"registered_on": "2025年3月2日"}, {}, {}, None, None),
    "request_below_min": ("requested", {}, {}, {"requested": "20,000.00"}, {"requested": "19999.99"}, None, None),
    "request_above_max": ("requested", {}, {}, {"requested": "200000.00"}, {"requested": "200000.01"}, None, None),
    "budget_sum_mismatch": (
        "requested",
        {},
        {},
        {},
        {},
        [
            {"proposal_id": "P-GOOD", "item": f"第{i}项", "kind": "活动", "amount": a}
            for i, a in enumerate(["33333.33", "33333.33", "33333.34"])
        ],
        [
            {"proposal_id": "P-BAD", "item": f"第{i}项", "kind": "活动", "amount": a}
            for i, a in enumerate(["33333.33", "33333.33", "33333.33"])
        ],
    ),
    "admin_share": (
        "requested",
        {},
        {},
        {},
        {},
        budget("P-GOOD", "90000.00", admin="10000.00"),
        budget("P-BAD", "89999.99", admin="10000.01"),
    ),
    "budget_lines_missing": ("requested", {}, {}, {}, {}, None, []),
    "dates_order": (
        "start_on",
        {},
        {},
        {"start_on": "2026-06-01", "end_on": "2026-06-01"},
        {"start_on": "2026-07-01", "end_on": "2026/6/30"},
        None,
        None,
    ),
    "start_before_open": ("start_on", {}, {}, {"start_on": "2026-03-01"}, {"start_on": "2026-02-28"}, None, None),
    "end_after_close": ("end_on", {}, {}, {"end_on": "2026-12-31"}, {"end_on": "2027-01-01"}, None, None),
    "submitted_late": ("submitted_on", {}, {}, {"submitted_on": "2026-03-31"}, {"submitted_on": "2026-04-01"}, None, None),
    # rules found while reading the row
    "credit_code_checksum": ("credit_code", {}, {}, {}, {"credit_code": wrong_check(BAD)}, None, None),
    "category_unknown": ("category", {}, {}, {"category": "为困"}, {"category": "教育"}, None, None),
    "date_invalid": ("end_on", {}, {}, {}, {"end_on": "2026-02-30"}, None, None),
    "money_precision": ("requested", {}, {}, {}, {"requested": "100000.005"}, None, budget("P-BAD")),
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_one_pass_one_fail(tmp_path, rule):
    field, good_org, bad_org, good, bad, good_lines, bad_lines = CASES[rule]
    props = [proposal("P-GOOD", GOOD, **good), proposal("P-BAD", BAD, **bad)]
    lines = (lines_for(props[:1]) if good_lines is None else good_lines) + (
        lines_for(props[1:]) if bad_lines is None else bad_lines
    )
    result = run(tmp_path, [org(GOOD, **good_org), org(BAD, **bad_org)], props, lines)
    assert eligible(result) == {"P-GOOD": True, "P-BAD": False}
    assert found(result) == [(3, "P-BAD", field, rule)]
    assert found(result, ORGANIZATIONS) == found(result, BUDGET_LINES) == []


def test_unknown_organization(tmp_path):
    props = [proposal("P-GOOD", GOOD), proposal("P-BAD", OTHER)]
    result = run(tmp_path, [org(GOOD)], props, lines_for(props))
    assert eligible(result) == {"P-GOOD": True, "P-BAD": False}
    (problem,) = [p for p in result.problems]
    assert (problem.source_file, problem.source_row, problem.record_id, problem.field, problem.value, problem.rule) == (
        PROPOSALS,
        3,
        "P-BAD",
        "credit_code",
        OTHER,
        "org_unknown",
    )


def test_org_age_follows_min_org_age_days(tmp_path):
    cfg = make_config(rules={"min_org_age_days": 30})  # opens 2026-03-01 → registered by 2026-01-30
    props = [proposal("P-GOOD", GOOD), proposal("P-BAD", BAD)]
    result = run(
        tmp_path, [org(GOOD, registered_on="2026-01-30"), org(BAD, registered_on="2026-01-31")], props, lines_for(props), cfg
    )
    assert eligible(result) == {"P-GOOD": True, "P-BAD": False}
    (problem,) = result.problems
    assert problem.rule == "org_too_young" and problem.record_id == "P-BAD" and problem.source_row == 3
    assert problem.params == {"registered": "2026-01-31", "latest": "2026-01-30", "days": 30}


def test_min_org_age_zero_allows_registration_on_opening_day(tmp_path):
    cfg = make_config(rules={"min_org_age_days": 0})
    props = [proposal("P-GOOD", GOOD), proposal("P-BAD", BAD)]
    result = run(
        tmp_path, [org(GOOD, registered_on="2026-03-01"), org(BAD, registered_on="2026-03-02")], props, lines_for(props), cfg
    )
    assert eligible(result) == {"P-GOOD": True, "P-BAD": False}
    assert found(result) == [(3, "P-BAD", "credit_code", "org_too_young")]


def test_no_deadline_means_submitted_on_is_not_checked(tmp_path):
    base = make_config()
    cfg = base.model_copy(update={"cycle": base.cycle.model_copy(update={"submission_deadline": None})})
    props = [proposal("P-1", GOOD, submitted_on="2026-10-01")]
    result = run(tmp_path, [org(GOOD)], props, lines_for(props), cfg)
    assert eligible(result) == {"P-1": True}


def test_problem_values_and_params_are_exact(tmp_path):
    props = [proposal("P-1", GOOD, requested="250,000.00")]
    lines = budget("P-1", "200000.00", admin="50000.00")
    result = run(tmp_path, [org(GOOD)], props, lines)
    by_rule = {p.rule: p for p in result.problems}
    assert set(by_rule) == {"request_above_max", "admin_share"}
    assert by_rule["request_above_max"].value == "250000.00"
    assert by_rule["request_above_max"].params == {"amount": "¥250,000.00", "limit": "¥200,000.00"}
    assert by_rule["admin_share"].params == {"admin": "¥50,000.00", "share": "20.0%", "limit": "10.0%"}


def test_several_problems_in_one_proposal_are_all_listed(tmp_path):
    props = [proposal("P-1", BAD, requested="10000.00", start_on="2026-01-01", end_on="2027-02-01")]
    result = run(tmp_path, [org(BAD, inspection="failed")], props, budget("P-1", "9000.00"))
    assert sorted(r for _, _, _, r in found(result)) == sorted(
        ["org_inspection_failed", "request_below_min", "budget_sum_mismatch", "start_before_open", "end_after_close"]
    )


# ---------------------------------------------------------------- duplicates and per-organization limit


def test_duplicate_proposal_id_rejects_every_copy(tmp_path):
    props = [proposal("P-1", GOOD), proposal("P-DUP", GOOD), proposal("P-DUP", GOOD, title="另一份")]
    result = run(tmp_path, [org(GOOD)], props, lines_for(props[:2]))
    assert eligible(result) == {"P-1": True, "P-DUP": False}
    assert found(result) == [
        (3, "P-DUP", "proposal_id", "duplicate_proposal_id"),
        (4, "P-DUP", "proposal_id", "duplicate_proposal_id"),
    ]
    assert all(p.params == {"lines": "3, 4"} for p in result.problems)


def test_identical_duplicate_proposal_rows_are_still_all_rejected(tmp_path):
    props = [proposal("P-DUP", GOOD), proposal("P-DUP", GOOD)]
    result = run(tmp_path, [org(GOOD)], props, lines_for(props[:1]))
    assert eligible(result) == {"P-DUP": False}
    assert found(result) == [
        (2, "P-DUP", "proposal_id", "duplicate_proposal_id"),
        (3, "P-DUP", "proposal_id", "duplicate_proposal_id"),
    ]


def test_per_org_limit_rejects_all_that_orgs_proposals(tmp_path):
    props = [
        proposal("A-1", BAD),
        proposal("B-1", GOOD),
        proposal("A-2", BAD),
        proposal("B-2", GOOD),
        proposal("A-3", BAD, requested="19999.99"),
    ]  # also too small: still counts
    result = run(tmp_path, [org(GOOD), org(BAD)], props, lines_for(props))
    assert eligible(result) == {"A-1": False, "A-2": False, "A-3": False, "B-1": True, "B-2": True}
    limit = [(row, rid) for row, rid, _, rule in found(result) if rule == "org_proposal_limit"]
    assert limit == [(2, "A-1"), (4, "A-2"), (6, "A-3")]
    assert {p.params["count"] for p in result.problems if p.rule == "org_proposal_limit"} == {3}
    assert [rule for _, rid, _, rule in found(result) if rid == "A-3"] == ["org_proposal_limit", "request_below_min"]


def test_per_org_limit_counts_distinct_ids(tmp_path):
    props = [proposal("A-1", GOOD), proposal("A-1", GOOD), proposal("A-2", GOOD)]
    result = run(tmp_path, [org(GOOD)], props, lines_for([props[0], props[2]]))
    assert eligible(result) == {"A-1": False, "A-2": True}
    assert {rule for _, _, _, rule in found(result)} == {"duplicate_proposal_id"}


# ---------------------------------------------------------------- organizations and budget lines


def test_organization_with_bad_cell_makes_its_proposals_org_invalid(tmp_path):
    props = [proposal("P-1", GOOD), proposal("P-2", BAD)]
    result = run(tmp_path, [org(GOOD), org(BAD, registered_on="去年")], props, lines_for(props))
    assert eligible(result) == {"P-1": True, "P-2": False}
    assert found(result, ORGANIZATIONS) == [(3, BAD, "registered_on", "date_format")]
    assert found(result) == [(3, "P-2", "credit_code", "org_invalid")]
    assert result.problems[-1].params == {"line": 3}


def test_organization_with_bad_credit_code_row(tmp_path):
    props = [proposal("P-1", GOOD)]
    result = run(tmp_path, [org(GOOD), org(wrong_check(BAD))], props, lines_for(props))
    assert eligible(result) == {"P-1": True}
    assert found(result, ORGANIZATIONS) == [(3, wrong_check(BAD), "credit_code", "credit_code_checksum")]


def test_identical_organization_rows_count_once(tmp_path):
    props = [proposal("P-1", GOOD)]
    result = run(tmp_path, [org(GOOD), org(GOOD)], props, lines_for(props))
    assert eligible(result) == {"P-1": True}
    assert [o["source_row"] for o in result.organizations] == [2]
    assert found(result, ORGANIZATIONS) == [(3, GOOD, "credit_code", "duplicate_identical")]


def test_conflicting_organization_rows_are_both_rejected(tmp_path):
    props = [proposal("P-1", GOOD)]
    result = run(tmp_path, [org(GOOD), org(GOOD, inspection="不合格")], props, lines_for(props))
    assert eligible(result) == {"P-1": False}
    assert found(result, ORGANIZATIONS) == [
        (2, GOOD, "credit_code", "duplicate_organization"),
        (3, GOOD, "credit_code", "duplicate_organization"),
    ]
    assert found(result) == [(2, "P-1", "credit_code", "org_invalid")]


def test_bad_budget_line_rejects_line_and_proposal(tmp_path):
    props = [proposal("P-1", GOOD), proposal("P-2", GOOD)]
    lines = budget("P-1", "100000.00") + [{"proposal_id": "P-2", "item": "差旅", "kind": "travel", "amount": "100000.00"}]
    result = run(tmp_path, [org(GOOD)], props, lines)
    assert eligible(result) == {"P-1": True, "P-2": False}
    assert found(result, BUDGET_LINES) == [(3, "P-2", "kind", "budget_kind_unknown")]
    assert found(result) == [(3, "P-2", "requested", "budget_lines_invalid"), (3, "P-2", "requested", "budget_sum_mismatch")]


def test_budget_line_for_unknown_proposal(tmp_path):
    props = [proposal("P-1", GOOD)]
    result = run(tmp_path, [org(GOOD)], props, lines_for(props) + budget("P-9", "5.00"))
    assert eligible(result) == {"P-1": True}
    assert found(result, BUDGET_LINES) == [(3, "P-9", "proposal_id", "budget_line_unknown_proposal")]
    assert [b["proposal_id"] for b in result.budget_lines] == ["P-1"]


def test_accepted_records_carry_parsed_values(tmp_path):
    props = [proposal("P-1", GOOD, requested="１５０，０００．００", category="children", cofunding="", start_on="2026年4月1日")]
    lines = budget("P-1", "135000", admin="¥15,000.00")
    result = run(tmp_path, [org(GOOD, registered_on="2019/5/6")], props, lines)
    (record,) = result.proposals
    assert record["eligible"] and record["source_row"] == 2
    assert record["requested_fen"] == 15_000_000 and record["cofunding_fen"] is None
    assert record["category"] == "children" and record["start_on"] == dt.date(2026, 4, 1)
    assert [(b["line_id"], b["kind"], b["amount_fen"]) for b in result.budget_lines] == [
        (1, "activity", 13_500_000),
        (2, "admin", 1_500_000),
    ]
    assert result.organizations[0]["registered_on"] == dt.date(2019, 5, 6)


# ---------------------------------------------------------------- a mixed folder: accounting and messages


def test_mixed_folder_accounts_for_every_row_and_every_rule_has_a_message(tmp_path):
    orgs = [
        org(GOOD),
        org(BAD, inspection="不合格"),
        org(OTHER, registered_on="2026-01-01"),
        org(GOOD),
        org(wrong_check(credit_code(9))),
        ["", "", "", "", "", "", ""],
    ]
    props = [
        proposal(f"P-{i}", code, **fields)
        for i, (code, fields) in enumerate(
            [
                (GOOD, {}),
                (BAD, {}),
                (OTHER, {}),
                (GOOD, {"requested": "1.005"}),
                (credit_code(404), {}),
                (GOOD, {"start_on": "2027-01-01"}),
                (GOOD, {"category": "未知"}),
            ]
        )
    ]
    props.append(proposal("P-0", GOOD))  # duplicate of the first
    props.append(proposal("坏编号", GOOD))  # unreadable id
    lines = lines_for([p for p in props if p["requested"] == "100000.00"]) + budget("P-X", "1.00")
    result = run(tmp_path, orgs, props, lines)
    assert eligible(result) == {f"P-{i}": False for i in range(7)}
    assert result.rows_in == {ORGANIZATIONS: 5, PROPOSALS: 9, BUDGET_LINES: 9}
    for problem in result.problems:
        assert problem.rule in MESSAGES
        for lang in ("zh", "en"):
            text = render(problem.rule, problem.params, lang)
            assert "{" not in text and "}" not in text, (problem.rule, text)


# ---------------------------------------------------------------- the sentences intake problems are shown with


def test_money_and_percent_formats():
    from decimal import Decimal

    from fund.tasks.messages import money_cell, percent, yuan

    assert yuan(15_000_000) == "¥150,000.00" and yuan(5) == "¥0.05" and yuan(None) == "—"
    assert money_cell(15_000_005) == "150000.05" and money_cell(0) == "0.00" and money_cell(None) == ""
    assert percent(Decimal("0.1")) == "10.0%" and percent(Decimal("0.10005")) == "10.0%"
    assert percent(Decimal("0.12345")) == "12.3%" and percent(Decimal("0.00050")) == "0.1%"


def test_render_in_both_languages():
    params = {"registered": "2025-03-02", "latest": "2025-03-01", "days": 365}
    assert render("org_too_young", params) == "机构登记于 2025-03-02，须在 2025-03-01 或之前登记（满 365 天）"
    assert (
        render("org_too_young", params, "en") == "registered on 2025-03-02; must be registered on or before 2025-03-01 (365 days)"
    )
    assert "elderly（为老）" in render("category_unknown") and "elderly (为老)" in render("category_unknown", {}, "en")
    assert render("no_such_rule") == "no_such_rule"


# ---------------------------------------------------------------- the previous cycle's incentives


def test_previous_incentives_bar_an_organization_and_reject_bad_rows(tmp_path):
    from builders import write_csv
    from fund.tasks.intake import PRIOR_INCENTIVES, bonus_by_organization, read_prior_incentives

    props = [proposal("P1", GOOD), proposal("P2", BAD)]
    write_intake(tmp_path, [org(GOOD), org(BAD)], props, lines_for(props))
    write_csv(
        tmp_path / PRIOR_INCENTIVES,
        ["proposal_id", "credit_code", "next_cycle_bonus", "barred_next_cycle"],
        [
            ["Q1", BAD, "0.00", "yes"],  # line 2: BAD failed last time → barred
            ["Q2", GOOD, "2.50", "no"],  # line 3: a bonus for GOOD
            ["Q3", GOOD, "20.01", "no"],  # line 4: above 20 points
            ["Q4", GOOD, "1.005", "no"],  # line 5: three decimals
            ["Q5", OTHER, "1", "no"],  # lines 6 and 7: one project listed twice
            ["Q5", OTHER, "2", "no"],
            ["Q6", OTHER, "1", "maybe"],  # line 8: not yes or no
        ],
    )
    result = validate_intake(make_config(), *read_intake(tmp_path), read_prior_incentives(tmp_path))
    assert eligible(result) == {"P1": True, "P2": False}
    assert found(result) == [(3, "P2", "credit_code", "org_barred")]
    assert render("org_barred", next(p.params for p in result.problems if p.rule == "org_barred"), "en").startswith(
        "the organization's project Q1 failed"
    )
    assert found(result, PRIOR_INCENTIVES) == [
        (4, "Q3", "next_cycle_bonus", "bonus_invalid"),
        (5, "Q4", "next_cycle_bonus", "bonus_invalid"),
        (6, "Q5", "proposal_id", "duplicate_prior_incentive"),
        (7, "Q5", "proposal_id", "duplicate_prior_incentive"),
        (8, "Q6", "barred_next_cycle", "yes_no_unknown"),
    ]
    assert result.rows_in[PRIOR_INCENTIVES] == 7
    assert bonus_by_organization(result.prior_incentives) == {GOOD: 250}


def test_without_previous_incentives_nothing_changes(tmp_path):
    from fund.tasks.intake import read_prior_incentives

    props = [proposal("P1", GOOD)]
    write_intake(tmp_path, [org(GOOD)], props, lines_for(props))
    assert read_prior_incentives(tmp_path) is None
    result = validate_intake(make_config(), *read_intake(tmp_path), read_prior_incentives(tmp_path))
    assert eligible(result) == {"P1": True} and result.prior_incentives == [] and PROPOSALS in result.rows_in

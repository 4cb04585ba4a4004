"""Tracking after the award, as plain functions: tranches, the ledger, progress reports,
mid-term/final evaluation, the four incentives, and the leadership report's pure parts."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from builders import make_config, write_csv
from fund.schemas.config import ConfigError
from fund.tasks.report import changes, headline, project_statuses, render_html, report_context
from fund.tasks.tracking import (
    TrackingFiles,
    expected_periods,
    incentive_band,
    incentives_for,
    period_checks,
    publicity_window,
    read_tracking,
    resolve_as_of,
    split_amount,
    track,
)

D = dt.date
AS_OF = D(2026, 8, 15)
PROGRESS = [
    "proposal_id",
    "period_end",
    "services",
    "activities",
    "beneficiaries",
    "spent",
    "satisfaction",
    "note",
    "submitted_on",
]
PAYMENTS = ["proposal_id", "tranche", "amount", "paid_on", "by", "reference"]
EVALUATIONS = ["proposal_id", "phase", "evaluator", "score", "evaluated_on", "comment"]
OBJECTIONS = ["objection_id", "proposal_id", "received_on", "objector", "content", "resolution", "resolved_on", "note"]


def cfg(**tracking):
    return make_config(tracking={"as_of": AS_OF, "publicity_from": D(2026, 3, 20), **tracking})


def project(pid: str, amount_fen: int = 10_000_000, **fields) -> dict:
    row = {
        "proposal_id": pid,
        "credit_code": f"CODE{pid}",
        "title": f"项目{pid}",
        "category": "elderly",
        "street": "南关街道",
        "community": "永吉社区",
        "awarded_fen": amount_fen,
        "requested_fen": amount_fen,
        "beneficiaries": 120,
        "start_on": D(2026, 4, 1),
        "end_on": D(2026, 11, 30),
        "organization": f"机构{pid}",
    }
    row.update(fields)
    return row


PROJECTS = [project("P1"), project("P2", 3_333_333, category="children", street="东街道", beneficiaries=300)]
KNOWN = {"P1", "P2", "P3"}


def run(folder: Path, config=None, projects=PROJECTS, ledger=(), cli=()):
    config = config or cfg()
    window = publicity_window(config, D(2026, 3, 20))
    return track(config, resolve_as_of(config), window, list(projects), KNOWN, read_tracking(folder), list(ledger), list(cli))


def rules(result) -> set[tuple[str, str]]:
    return {(p.record_id, p.rule) for p in result.problems}


def tranche(result, pid, kind) -> dict:
    return next(t for t in result.tranches if t["proposal_id"] == pid and t["kind"] == kind)


# ---------------------------------------------------------------- tranches: exact split


def test_awkward_amount_splits_to_the_fen_with_the_remainder_last():
    shares = {"signing": Decimal("0.5"), "midterm": Decimal("0.3"), "final": Decimal("0.2")}
    assert split_amount(3_333_333, shares) == {"signing": 1_666_666, "midterm": 999_999, "final": 666_668}
    assert split_amount(1, shares) == {"signing": 0, "midterm": 0, "final": 1}
    assert split_amount(0, shares) == {"signing": 0, "midterm": 0, "final": 0}


@settings(max_examples=300, deadline=None)
@given(
    amount=st.integers(min_value=0, max_value=10**13),
    cuts=st.lists(st.integers(min_value=0, max_value=100), min_size=2, max_size=2),
)
def test_tranches_always_add_up_to_the_award(amount, cuts):
    low, high = sorted(cuts)
    shares = {"signing": Decimal(low) / 100, "midterm": Decimal(high - low) / 100, "final": Decimal(100 - high) / 100}
    parts = split_amount(amount, shares)
    assert sum(parts.values()) == amount
    assert all(v >= 0 for v in parts.values())
    kinds = list(parts)
    for kind in kinds[:-1]:  # rounded down, never above its share
        assert parts[kind] <= amount * shares[kind] < parts[kind] + 1
    assert set(parts) == {k for k, v in shares.items() if v > 0}


def test_unknown_tranche_kind_is_a_config_problem():
    from fund.tasks.tracking import TrackingConfigError, tranche_shares

    with pytest.raises(TrackingConfigError) as info:
        tranche_shares(make_config(tranches={"signing": Decimal("0.5"), "bonus": Decimal("0.5")}))
    assert info.value.key == "tranches.bonus"


# ---------------------------------------------------------------- config


def test_tracking_config_has_defaults_and_checks_weights():
    from builders import CONTRACT_TOML
    from fund.schemas.config import parse_config

    plain = parse_config(CONTRACT_TOML)
    assert plain.tracking.pass_mark == 60 and plain.tracking.report_period_days == 30
    assert plain.incentives.excellent == 90 and plain.incentives.good == 80
    with pytest.raises(ConfigError) as info:
        make_config(tracking={"expert_weight": Decimal("0.6")})
    assert info.value.key == "tracking"
    with pytest.raises(ConfigError) as info:
        make_config(incentives={"excellent": Decimal("70")})
    assert info.value.key == "incentives"


def test_as_of_comes_from_argument_then_environment_then_config(monkeypatch):
    config = cfg()
    monkeypatch.delenv("FUND_AS_OF", raising=False)
    assert resolve_as_of(config) == AS_OF
    monkeypatch.setenv("FUND_AS_OF", "2026/9/1")
    assert resolve_as_of(config) == D(2026, 9, 1)
    assert resolve_as_of(config, "2026-10-01") == D(2026, 10, 1)


# ---------------------------------------------------------------- agreements, conditions, payments


def test_signing_tranche_is_due_after_the_notice_and_later_ones_wait(tmp_path):
    result = run(tmp_path)
    a = {x["proposal_id"]: x for x in result.agreements}
    assert a["P1"]["status"] == "signed" and a["P1"]["signed_on"] == D(2026, 3, 27)  # 7 days from 3-20, both ends
    assert tranche(result, "P1", "signing")["status"] == "due"
    assert tranche(result, "P1", "midterm")["status"] == "planned"
    assert tranche(result, "P1", "final")["reason"] == "awaiting_final"
    assert sum(t["amount_fen"] for t in result.tranches if t["proposal_id"] == "P2") == 3_333_333


def test_no_tranche_is_payable_before_its_condition_holds(tmp_path):
    write_csv(
        tmp_path / "payments.csv",
        PAYMENTS,
        [
            ["P1", "signing", "50000.00", "2026-03-26", "会计", ""],  # before the agreement is signed
            ["P1", "midterm", "30000.00", "2026-07-20", "会计", ""],  # no mid-term evaluation yet
            ["P2", "final", "6666.68", "2026-07-20", "会计", ""],  # no final evaluation
        ],
    )
    result = run(tmp_path)
    assert result.new_payments == []
    assert {
        ("P1/signing", "tranche_not_payable"),
        ("P1/midterm", "tranche_not_payable"),
        ("P2/final", "tranche_not_payable"),
    } <= rules(result)
    assert all(t["status"] != "paid" for t in result.tranches)


def test_payment_after_a_passed_midterm_and_the_ledger_is_idempotent(tmp_path):
    write_csv(tmp_path / "progress" / "a.csv", PROGRESS, [["P1", "2026-04-30", 100, 3, 30, "20000.00", "90", "", ""]])
    write_csv(tmp_path / "evaluations" / "m.csv", EVALUATIONS, [["P1", "中期", "评估中心", "80", "2026-07-15", ""]])
    write_csv(
        tmp_path / "payments.csv",
        PAYMENTS,
        [
            ["P1", "签约", "50000.00", "2026-04-01", "会计", "B1"],
            ["P1", "signing", "50000.00", "2026-04-01", "会计", "B1"],  # the same row twice: one payment
            ["P1", "midterm", "30000.00", "2026-07-14", "会计", "B2"],  # the day before the evaluation
        ],
    )
    first = run(tmp_path)
    assert [(p["kind"], p["amount_fen"]) for p in first.new_payments] == [("signing", 5_000_000)]
    assert ("P1/signing", "duplicate_copy") in rules(first)
    assert ("P1/midterm", "tranche_not_payable") in rules(first)
    message = next(p for p in first.problems if p.rule == "tranche_not_payable").params
    assert "2026-07-15" in message["why_zh"]
    assert tranche(first, "P1", "midterm")["status"] == "due"
    assert tranche(first, "P1", "signing")["status"] == "paid"

    ledger = [p | {"recorded_at": "t"} for p in first.new_payments]
    again = run(tmp_path, ledger=ledger)
    assert again.new_payments == []  # read again: recognised, not added twice
    assert not any(p.rule == "tranche_already_paid" for p in again.problems)
    write_csv(tmp_path / "payments.csv", PAYMENTS, [["P1", "signing", "50000.00", "2026-04-02", "会计", "B9"]])
    changed = run(tmp_path, ledger=ledger)
    assert ("P1/signing", "tranche_already_paid") in rules(changed) and changed.new_payments == []


def test_payment_amount_must_match_the_tranche(tmp_path):
    write_csv(tmp_path / "payments.csv", PAYMENTS, [["P2", "signing", "16666.67", "2026-04-01", "会计", ""]])
    result = run(tmp_path)
    assert ("P2/signing", "payment_above_remaining") in rules(result)


def test_failed_midterm_withholds_the_tranche_and_pass_makes_it_due(tmp_path):
    write_csv(
        tmp_path / "progress" / "a.csv",
        PROGRESS,
        [["P1", "2026-04-30", 100, 3, 30, "0.00", "90", "", ""], ["P2", "2026-04-30", 100, 3, 30, "0.00", "50", "", ""]],
    )
    write_csv(
        tmp_path / "evaluations" / "m.csv",
        EVALUATIONS,
        [
            ["P1", "midterm", "", "70", "2026-07-15", ""],  # 70×0.7 + 90×0.3 = 76 → pass
            ["P2", "midterm", "", "62", "2026-07-15", ""],
        ],
    )  # 62×0.7 + 50×0.3 = 58.4 → fail
    result = run(tmp_path)
    evaluations = {e["proposal_id"]: e for e in result.evaluations}
    assert evaluations["P1"]["combined_centi"] == 7600 and evaluations["P1"]["status"] == "passed"
    assert evaluations["P2"]["combined_centi"] == 5840 and evaluations["P2"]["status"] == "failed"
    assert tranche(result, "P1", "midterm")["status"] == "due"
    assert tranche(result, "P1", "midterm")["due_on"] == D(2026, 7, 15)
    withheld = tranche(result, "P2", "midterm")
    assert withheld["status"] == "withheld" and withheld["reason"] == "rectifying"


def test_evaluation_without_satisfaction_waits_and_blank_rows_are_not_errors(tmp_path):
    write_csv(
        tmp_path / "evaluations" / "m.csv",
        EVALUATIONS,
        [["P1", "midterm", "", "80", "2026-07-15", ""], ["P2", "midterm", "", "", "", ""]],
    )
    result = run(tmp_path)
    assert [e["status"] for e in result.evaluations] == ["waiting_satisfaction"]
    assert tranche(result, "P1", "midterm")["reason"] == "awaiting_satisfaction"
    assert result.problems == [] and result.pending_evaluations == {("P2", "midterm")}


def test_evaluation_rows_with_problems_get_reasons(tmp_path):
    write_csv(
        tmp_path / "evaluations" / "m.csv",
        EVALUATIONS,
        [
            ["P3", "midterm", "", "80", "2026-07-15", ""],  # not funded
            ["P1", "final", "", "80", "2026-08-01", ""],  # final before the project ends
            ["P1", "midterm", "", "101", "2026-07-15", ""],  # out of range
            ["P2", "midterm", "", "80", "2026-09-01", ""],  # after the as-of date
            ["P2", "初期", "", "80", "2026-07-01", ""],  # unknown phase
        ],
    )
    found = rules(run(tmp_path))
    assert {
        ("P3/midterm", "evaluation_not_funded"),
        ("P1/final", "final_before_end"),
        ("P1/midterm", "evaluation_score_out_of_range"),
        ("P2/midterm", "evaluation_date_future"),
        ("P2/初期", "phase_unknown"),
    } <= found


# ---------------------------------------------------------------- progress reports


def test_progress_rows_with_problems_get_row_level_reasons_and_nothing_is_lost(tmp_path):
    write_csv(tmp_path / "payments.csv", PAYMENTS, [["P2", "signing", "16666.66", "2026-04-01", "会计", ""]])
    write_csv(
        tmp_path / "progress" / "a.csv",
        PROGRESS,
        [
            ["P1", "2026-04-30", 200, 4, 30, "0.00", "90", "", "2026-05-05"],  # accepted
            ["P3", "2026-04-30", 1, 1, 1, "1.00", "", "", ""],  # proposal not funded
            ["P9", "2026-04-30", 1, 1, 1, "1.00", "", "", ""],  # unknown proposal
            ["P1", "2026-12-31", 1, 1, 1, "1.00", "", "", ""],  # after the project ends
            ["P1", "2026-03-15", 1, 1, 1, "1.00", "", "", ""],  # before it starts
            ["P1", "2026-08-31", 1, 1, 1, "1.00", "", "", ""],  # not over yet (as of 2026-08-15)
            ["P1", "2026-05-31", 1, 1, 1, "1.00", "120", "", ""],  # satisfaction out of range
            ["P2", "2026-04-30", 100, 2, 40, "5000.00", "75", "", ""],  # accepted
            ["P2", "2026-05-31", 100, 2, 40, "20000.00", "75", "", ""],  # 25,000 spent > 16,666.66 disbursed
            ["P2", "2026-06-30", 100, 2, 40, "100.00", "75", "", ""],  # duplicated with other figures …
            ["P1", "2026-06-30", 100, 2, 40, "0.00", "75", "", ""],  # identical copy of the next file's row
            ["P1", "2026-07-31", "many", 2, 40, "100.00", "75", "", ""],  # unreadable number
            ["P1", "2026-07-30", 10, -2, 40, "0.00", "75", "", ""],  # negative count
            ["P1", "2026-07-28", 10, 2, 400000000, "0.00", "75", "", ""],  # implausible count
        ],
    )
    write_csv(
        tmp_path / "progress" / "b.csv",
        PROGRESS,
        [
            ["P2", "2026-06-30", 999, 2, 40, "100.00", "75", "", ""],  # … here
            ["P1", "2026-06-30", 100, 2, 40, "0.00", "75", "", ""],
        ],
    )
    result = run(tmp_path)
    found = rules(result)
    assert {
        ("P3/2026-04-30", "progress_not_funded"),
        ("P9/2026-04-30", "progress_proposal_unknown"),
        ("P1/2026-12-31", "period_after_end"),
        ("P1/2026-03-15", "period_before_start"),
        ("P1/2026-08-31", "period_end_future"),
        ("P1/2026-05-31", "satisfaction_out_of_range"),
        ("P2/2026-05-31", "spent_above_disbursed"),
        ("P2/2026-06-30", "duplicate_period"),
        ("P1/2026-06-30", "duplicate_copy"),
        ("P1/2026-07-31", "integer_format"),
        ("P1/2026-07-30", "value_below_min"),
        ("P1/2026-07-28", "value_above_max"),
    } <= found
    accepted = {(r["proposal_id"], r["period_end"]) for r in result.progress}
    assert accepted == {("P1", D(2026, 4, 30)), ("P2", D(2026, 4, 30)), ("P1", D(2026, 6, 30))}
    rejected_lines = {(p.source_file, p.source_row) for p in result.problems if p.source_file.startswith("progress/")}
    assert len(accepted) + len(rejected_lines) == result.rows_in["progress"] == 16


def test_spending_is_checked_against_payments_made_by_the_period_end(tmp_path):
    write_csv(tmp_path / "payments.csv", PAYMENTS, [["P1", "signing", "50000.00", "2026-05-10", "会计", ""]])
    write_csv(
        tmp_path / "progress" / "a.csv",
        PROGRESS,
        [
            ["P1", "2026-04-30", 10, 1, 5, "100.00", "", "", ""],  # nothing paid by 04-30
            ["P1", "2026-05-31", 10, 1, 5, "40000.00", "", "", ""],
        ],
    )  # 40,100 ≤ 50,000
    result = run(tmp_path)
    assert rules(result) == {("P1/2026-04-30", "spent_above_disbursed")}
    assert [r["period_end"] for r in result.progress] == [D(2026, 5, 31)]


def test_reports_are_missing_or_late_by_period():
    config = cfg(report_period_days=30, report_grace_days=10)
    assert expected_periods(D(2026, 4, 1), D(2026, 6, 15), 30) == [D(2026, 4, 30), D(2026, 5, 30), D(2026, 6, 15)]
    reports = [
        {"period_end": D(2026, 4, 30), "submitted_on": D(2026, 5, 20)},  # due 05-10: late
        {"period_end": D(2026, 6, 29), "submitted_on": None},
    ]
    missing, late, next_due = period_checks(D(2026, 4, 1), D(2026, 11, 30), config, D(2026, 8, 15), reports)
    assert [m[0] for m in missing] == [D(2026, 5, 30), D(2026, 7, 29)]
    assert late == [(D(2026, 4, 30), D(2026, 5, 10), D(2026, 5, 20))]
    assert next_due == D(2026, 9, 7)


# ---------------------------------------------------------------- objections


def test_objections_hold_cancel_or_delay_signing(tmp_path):
    write_csv(
        tmp_path / "objections.csv",
        OBJECTIONS,
        [
            ["O1", "P1", "2026-03-22", "居民", "资质存疑", "成立", "2026-03-30", ""],
            ["O2", "P2", "2026-03-23", "居民", "重复申报", "不成立", "2026-04-03", ""],
            ["O3", "P2", "2026-04-20", "居民", "晚到的异议", "", "", ""],  # after the notice period
            ["O4", "P3", "2026-03-23", "居民", "未公示项目", "", "", ""],  # not on the notice
        ],
    )
    result = run(tmp_path)
    a = {x["proposal_id"]: x for x in result.agreements}
    assert a["P1"]["status"] == "cancelled" and tranche(result, "P1", "signing")["status"] == "cancelled"
    assert a["P2"]["status"] == "signed" and a["P2"]["signed_on"] == D(2026, 4, 3)
    assert {("O3", "objection_outside_period"), ("O4", "objection_not_funded")} <= rules(result)
    pending = run(
        tmp_path / "none",
        cli=[
            {
                "objection_id": "CLI-001",
                "proposal_id": "P2",
                "received_on": D(2026, 3, 21),
                "objector": "x",
                "content": "y",
                "resolution": "pending",
                "resolved_on": None,
                "note": None,
                "source": "cli",
                "source_row": None,
            }
        ],
    )
    b = {x["proposal_id"]: x for x in pending.agreements}
    assert b["P2"]["status"] == "on_hold" and tranche(pending, "P2", "signing")["reason"] == "objection_pending"


# ---------------------------------------------------------------- incentives


@pytest.mark.parametrize(
    "score, band",
    [
        (9500, "excellent"),
        (9000, "excellent"),
        (8999, "good"),
        (8000, "good"),
        (7999, "pass"),
        (6000, "pass"),
        (5999, "fail"),
        (0, "fail"),
    ],
)
def test_incentive_bands(score, band):
    assert incentive_band(cfg(), score) == band


def test_incentive_measures_from_final_evaluations():
    config = make_config(incentives={"excellent_bonus": Decimal("3"), "bar_failed": True})
    evaluations = [
        {"proposal_id": "P1", "phase": "final", "combined_centi": 9200},
        {"proposal_id": "P2", "phase": "final", "combined_centi": 5000},
        {"proposal_id": "P1", "phase": "midterm", "combined_centi": 5000},
        {"proposal_id": "P3", "phase": "final", "combined_centi": None},
    ]
    rows = {r["proposal_id"]: r for r in incentives_for(config, evaluations, {p: {"credit_code": p} for p in KNOWN})}
    assert set(rows) == {"P1", "P2"}
    assert rows["P1"]["band"] == "excellent" and rows["P1"]["bonus_centi"] == 300
    assert rows["P1"]["measures"] == "commendation;next_cycle_bonus" and not rows["P1"]["barred"]
    assert rows["P2"]["band"] == "fail" and rows["P2"]["barred"] and "withhold" in rows["P2"]["measures"]


def test_final_evaluation_drives_the_last_tranche_and_the_incentive(tmp_path):
    late = [project("P1", end_on=D(2026, 7, 31)), project("P2", 3_333_333, end_on=D(2026, 7, 31))]
    write_csv(
        tmp_path / "progress" / "a.csv",
        PROGRESS,
        [["P1", "2026-07-31", 100, 3, 100, "0.00", "95", "", ""], ["P2", "2026-07-31", 100, 3, 100, "0.00", "40", "", ""]],
    )
    write_csv(
        tmp_path / "evaluations" / "f.csv",
        EVALUATIONS,
        [["P1", "结项", "", "96", "2026-08-10", ""], ["P2", "final", "", "55", "2026-08-10", ""]],
    )
    result = run(tmp_path, projects=late)
    assert tranche(result, "P1", "final")["status"] == "due"
    assert tranche(result, "P2", "final")["status"] == "withheld"
    bands = {i["proposal_id"]: i["band"] for i in result.incentives}
    assert bands == {"P1": "excellent", "P2": "fail"}


# ---------------------------------------------------------------- the report's pure parts


def statuses(tmp_path, **tracking):
    config = cfg(**tracking)
    result = run(tmp_path, config=config)
    rows = project_statuses(
        config,
        AS_OF,
        PROJECTS,
        result.agreements,
        result.tranches,
        result.ledger,
        result.progress,
        result.evaluations,
        result.incentives,
        {},
    )
    return config, result, {r["proposal_id"]: r for r in rows}


def test_project_status_on_track_late_and_at_risk_with_reasons(tmp_path):
    write_csv(
        tmp_path / "progress" / "a.csv",
        PROGRESS,
        [
            ["P1", "2026-04-30", 100, 3, 20, "0.00", "90", "", "2026-05-05"],
            ["P1", "2026-05-30", 100, 3, 20, "0.00", "90", "", "2026-06-05"],
            ["P1", "2026-06-29", 100, 3, 20, "0.00", "90", "", "2026-07-05"],
            ["P1", "2026-07-29", 100, 3, 20, "0.00", "90", "", "2026-08-20"],  # late
            ["P2", "2026-04-30", 10, 1, 5, "0.00", "50", "", ""],
        ],
    )
    _, _, rows = statuses(tmp_path)
    assert rows["P1"]["status"] == "late"
    assert [code for code, _ in rows["P1"]["reasons"]] == ["report_late"]
    assert rows["P2"]["status"] == "at_risk"
    codes = [code for code, _ in rows["P2"]["reasons"]]
    assert "report_missing" in codes and "behind_plan" in codes and "low_satisfaction" in codes


def test_headline_and_changes_since_the_last_report(tmp_path):
    config, _, rows = statuses(tmp_path)
    head = headline(config, list(rows.values()), [{"rows_rejected": 2, "failed": 0}])
    assert head["committed_fen"] == 13_333_333 and head["projects"] == 2 and head["rejected_rows"] == 2
    assert changes(head, None)["first"]
    before = dict(head, disbursed_fen=head["disbursed_fen"] - 500, statuses={"P1": "late"})
    delta = changes(head, before)
    assert delta["deltas"] == {"disbursed_fen": 500}
    assert ("P1", "late", rows["P1"]["status"]) in delta["moved"] and ("P2", None, rows["P2"]["status"]) in delta["moved"]


def test_rendered_report_is_self_contained_escaped_and_leads_with_the_numbers(tmp_path):
    evil = [project("P1", title="<script>alert(1)</script>"), PROJECTS[1]]
    config = cfg()
    result = run(tmp_path, projects=evil)
    rows = project_statuses(
        config,
        AS_OF,
        evil,
        result.agreements,
        result.tranches,
        result.ledger,
        result.progress,
        result.evaluations,
        result.incentives,
        {},
    )
    head = headline(config, rows, [])
    for lang in ("zh", "en"):
        html = render_html(report_context(config, AS_OF, rows, head, changes(head, None), [], None, "2026-08-15 08:00", lang))
        assert "<script" not in html.lower()
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
        assert "<svg" in html and "<style>" in html
        assert "¥133,333.33" in html
        assert html.index("¥133,333.33") < html.index("<svg")  # headline numbers before the charts
    zh = render_html(report_context(config, AS_OF, rows, head, changes(head, None), [], None, "now", "zh"))
    assert "项目跟踪报告" in zh and "&lt;script&gt;alert(1)" in zh


def test_reading_files_keeps_unknown_vocabulary_as_row_problems(tmp_path):
    write_csv(tmp_path / "payments.csv", PAYMENTS, [["P1", "bonus", "1.00", "2026-04-01", "会计", ""]])
    files = read_tracking(tmp_path)
    assert isinstance(files, TrackingFiles)
    assert [p.rule for p in files.payments.problems] == ["tranche_unknown"]

"""Money after the award as a finance office handles it, as plain functions: partial payments,
reversals, the ledger that is only ever added to, rectification after a failed mid-term
(pass releases the tranche, fail or a missed deadline suspends the agreement and returns the
rest to the fund), and the exact sums of all of it."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings, strategies as st

from builders import due_tranches, write_csv
from fund.schemas.codes import AgreementStatus, TrancheStatus
from fund.tasks.tracking import EntryRequest, Ledger, check_entry, reason_text
from test_tracking import EVALUATIONS, PAYMENTS, PROGRESS, cfg, rules, run, tranche

D = dt.date
PAYMENTS_R = PAYMENTS + ["reverses"]


def payments(folder, *rows):
    write_csv(folder / "payments.csv", PAYMENTS_R, [list(r) + [""] * (len(PAYMENTS_R) - len(r)) for r in rows])


def stored(result):
    """The ledger as the stage stores it, for the next run."""
    return [e | {"recorded_at": "t"} for e in result.ledger]


# ---------------------------------------------------------------- partial payments


def test_partial_plus_partial_is_paid_to_the_fen(tmp_path):
    payments(
        tmp_path,
        ["P2", "signing", "10000.00", "2026-04-01", "会计", "B1"],  # the tranche is 16,666.66
        ["P2", "signing", "6666.66", "2026-04-09", "会计", "B2"],
    )
    first = run(tmp_path)
    t = tranche(first, "P2", "signing")
    assert t["status"] == TrancheStatus.PAID and t["paid_fen"] == t["amount_fen"] == 1_666_666
    assert reason_text(t["reason"], t["detail"], "zh") == "已分 2 笔拨付完毕，最后一笔 2026-04-09（会计）"
    assert [e["entry"] for e in first.ledger] == [1, 2] and first.problems == []


def test_a_partial_payment_leaves_the_rest_due_and_more_than_remains_is_refused(tmp_path):
    payments(
        tmp_path,
        ["P1", "signing", "20000.00", "2026-04-01", "会计", "B1"],
        ["P1", "signing", "30000.01", "2026-04-02", "会计", "B2"],
    )  # 30,000.00 remain
    result = run(tmp_path)
    t = tranche(result, "P1", "signing")
    assert t["status"] == TrancheStatus.PARTLY_PAID and t["paid_fen"] == 2_000_000
    assert "尚余 ¥30,000.00" in reason_text(t["reason"], t["detail"], "zh")
    problem = next(p for p in result.problems if p.rule == "payment_above_remaining")
    assert (problem.source_row, problem.field, problem.value) == (3, "amount", "30000.01")
    assert problem.params["remaining"] == "¥30,000.00"
    assert [e["reference"] for e in result.ledger] == ["B1"]


def test_reading_the_file_again_adds_nothing_and_a_removed_row_stays_in_the_ledger(tmp_path):
    payments(
        tmp_path,
        ["P1", "signing", "20000.00", "2026-04-01", "会计", ""],  # no reference: known by content
        ["P1", "signing", "20000.00", "2026-04-03", "会计", "B2"],
    )
    first = run(tmp_path)
    again = run(tmp_path, ledger=stored(first))
    assert again.new_payments == [] and again.problems == [] and len(again.ledger) == 2
    payments(tmp_path, ["P1", "signing", "25000.00", "2026-04-03", "会计", "B2"])  # B2 rewritten in the file
    edited = run(tmp_path, ledger=stored(first))
    assert ("P1/signing", "reference_in_use") in rules(edited)
    assert [e["amount_fen"] for e in edited.ledger] == [2_000_000, 2_000_000]  # the ledger is not edited


# ---------------------------------------------------------------- reversals


def test_reversal_then_repayment(tmp_path):
    payments(
        tmp_path,
        ["P1", "signing", "50000.00", "2026-04-01", "会计", "B1"],
        ["P1", "signing", "50000.00", "2026-04-03", "会计", "CZ1", "B1"],
    )  # returned by the bank: reversed
    reversed_ = run(tmp_path)
    t = tranche(reversed_, "P1", "signing")
    assert t["status"] == TrancheStatus.DUE and t["paid_fen"] == 0
    assert reason_text(t["reason"], t["detail"], "zh") == "原拨付 B1 已于 2026-04-03 冲正，待重新拨付（协议已于 2026-03-27 签订）"
    assert [e["amount_fen"] for e in reversed_.ledger] == [5_000_000, -5_000_000]
    payments(
        tmp_path,
        ["P1", "signing", "50000.00", "2026-04-01", "会计", "B1"],
        ["P1", "signing", "50000.00", "2026-04-03", "会计", "CZ1", "B1"],
        ["P1", "signing", "50000.00", "2026-04-05", "会计", "B3"],
    )
    repaid = run(tmp_path, ledger=stored(reversed_))
    t = tranche(repaid, "P1", "signing")
    assert t["status"] == TrancheStatus.PAID and t["paid_fen"] == 5_000_000
    assert [(e["entry"], e["amount_fen"]) for e in repaid.ledger] == [(1, 5_000_000), (2, -5_000_000), (3, 5_000_000)]
    assert repaid.problems == []


def test_reversals_that_do_not_fit_are_rejected_rows_naming_the_rule(tmp_path):
    payments(
        tmp_path,
        ["P1", "signing", "50000.00", "2026-04-01", "会计", "B1"],
        ["P1", "signing", "50000.00", "2026-04-03", "会计", "CZ1", "B1"],
        ["P1", "signing", "50000.00", "2026-04-04", "会计", "CZ2", "B1"],  # reversed twice
        ["P1", "signing", "50000.00", "2026-04-05", "会计", "CZ3", "CZ1"],  # a reversal reversed
        ["P1", "signing", "1.00", "2026-04-05", "会计", "CZ4", "B404"],  # no such entry
        ["P2", "signing", "16666.66", "2026-04-02", "会计", "B2"],
        ["P2", "signing", "16666.66", "2026-04-01", "会计", "CZ5", "B2"],  # dated before the original
        ["P2", "signing", "100.00", "2026-04-06", "会计", "CZ6", "B2"],  # not the whole entry
        ["P1", "midterm", "16666.66", "2026-04-06", "会计", "CZ7", "B2"],
    )  # another project's entry
    result = run(tmp_path)
    found = {(p.source_row, p.rule) for p in result.problems}
    assert found == {
        (4, "already_reversed"),
        (5, "reversal_of_reversal"),
        (6, "reversal_unknown_reference"),
        (8, "reversal_before_original"),
        (9, "reversal_amount_mismatch"),
        (10, "reversal_mismatch"),
    }
    assert [e["reference"] for e in result.ledger] == ["B1", "B2", "CZ1"]
    assert tranche(result, "P2", "signing")["status"] == TrancheStatus.PAID


def test_one_reference_on_two_different_rows_is_no_entry(tmp_path):
    payments(
        tmp_path,
        ["P1", "signing", "20000.00", "2026-04-01", "会计", "B1"],
        ["P1", "signing", "30000.00", "2026-04-01", "会计", "B1"],
    )
    result = run(tmp_path)
    assert rules(result) == {("P1/signing", "payment_conflict")} and result.ledger == []


# ---------------------------------------------------------------- the same rules for a command


def test_a_command_repeated_is_recognised_where_a_row_would_be_a_new_entry():
    terms = {
        ("P1", "signing"): {
            "proposal_id": "P1",
            "kind": "signing",
            "amount_fen": 100,
            "due_on": D(2026, 4, 1),
            "closed_on": None,
            "closing": None,
            "status": TrancheStatus.DUE,
            "reason": "signed",
            "detail": {},
        }
    }
    ledger = Ledger([])
    ask = EntryRequest("P1", "signing", 40, D(2026, 4, 2), "会计", None, None, "cli")
    first = check_entry(ask, terms, ledger, D(2026, 5, 1), {"P1"}, command=True)
    ledger.add(first.record | {"entry": 1})
    second = check_entry(ask, terms, ledger, D(2026, 5, 1), {"P1"}, command=True)  # a second partial of 40
    assert second.record is not None
    ledger.add(second.record | {"entry": 2})
    rest = check_entry(
        EntryRequest("P1", "signing", None, D(2026, 4, 3), "会计", "B3", None, "cli"),
        terms,
        ledger,
        D(2026, 5, 1),
        {"P1"},
        command=True,
    )
    assert rest.record["amount_fen"] == 20  # what remains
    ledger.add(rest.record | {"entry": 3})
    again = check_entry(
        EntryRequest("P1", "signing", None, D(2026, 4, 3), "会计", "B3", None, "cli"),
        terms,
        ledger,
        D(2026, 5, 1),
        {"P1"},
        command=True,
    )
    assert again.known["entry"] == 3 and again.record is None
    more = check_entry(
        EntryRequest("P1", "signing", 1, D(2026, 4, 4), "会计", None, None, "cli"),
        terms,
        ledger,
        D(2026, 5, 1),
        {"P1"},
        command=True,
    )
    assert more.rule == "tranche_already_paid" and more.params["paid_on"] == "2026-04-03"


# ---------------------------------------------------------------- rectification


def failed_midterm(folder, *more_evaluations):
    write_csv(
        folder / "progress" / "a.csv",
        PROGRESS,
        [["P1", "2026-04-30", 100, 3, 30, "0.00", "50", "", ""], ["P2", "2026-04-30", 100, 3, 30, "0.00", "90", "", ""]],
    )
    write_csv(
        folder / "evaluations" / "m.csv",
        EVALUATIONS,
        [
            ["P1", "midterm", "", "55", "2026-07-01", ""],  # 53.5: fails
            *more_evaluations,
        ],
    )


def test_failed_midterm_gives_a_rectification_deadline(tmp_path):
    failed_midterm(tmp_path)
    result = run(tmp_path)
    t = tranche(result, "P1", "midterm")
    assert t["status"] == TrancheStatus.WITHHELD and t["reason"] == "rectifying"
    assert "须于 2026-08-30 前整改并复评" in reason_text(t["reason"], t["detail"], "zh")  # 60 days by default
    agreement = next(a for a in result.agreements if a["proposal_id"] == "P1")
    assert agreement["status"] == AgreementStatus.SIGNED and agreement["reason"] == "rectifying"


def test_a_passed_re_evaluation_releases_the_withheld_tranche(tmp_path):
    failed_midterm(tmp_path, ["P1", "整改复评", "评估中心", "80", "2026-07-20", "已整改"])  # 80×0.7 + 50×0.3 = 71
    payments(
        tmp_path,
        ["P1", "midterm", "30000.00", "2026-07-19", "会计", "B1"],  # the day before: refused
        ["P1", "midterm", "30000.00", "2026-07-22", "会计", "B2"],
    )
    result = run(tmp_path)
    t = tranche(result, "P1", "midterm")
    assert t["status"] == TrancheStatus.PAID and t["due_on"] == D(2026, 7, 20)
    assert rules(result) == {("P1/midterm", "tranche_not_payable")}
    assert next(a for a in result.agreements if a["proposal_id"] == "P1")["reason"] == "rectification_passed"


def test_a_failed_re_evaluation_suspends_the_agreement_and_returns_the_rest(tmp_path):
    failed_midterm(tmp_path, ["P1", "rectification", "评估中心", "60", "2026-07-20", ""])  # 57: fails again
    payments(tmp_path, ["P1", "signing", "50000.00", "2026-04-01", "会计", "B1"])
    result = run(tmp_path)
    a = next(a for a in result.agreements if a["proposal_id"] == "P1")
    assert a["status"] == AgreementStatus.SUSPENDED and a["ended_on"] == D(2026, 7, 20)
    assert a["returned_fen"] == 5_000_000 == a["amount_fen"] - sum(e["amount_fen"] for e in result.ledger)
    assert [tranche(result, "P1", k)["status"] for k in ("signing", "midterm", "final")] == [
        TrancheStatus.PAID,
        TrancheStatus.RETURNED,
        TrancheStatus.RETURNED,
    ]
    final = tranche(result, "P1", "final")
    assert (
        reason_text(final["reason"], final["detail"], "zh")
        == "协议已于 2026-07-20 中止（整改复评未通过（57.00 分，合格线 60.00）），未拨付的 ¥20,000.00 退回专项资金"
    )


def test_a_missed_deadline_suspends_the_day_after_and_later_rows_are_refused(tmp_path):
    failed_midterm(tmp_path)
    payments(
        tmp_path,
        ["P1", "signing", "20000.00", "2026-04-01", "会计", "B1"],
        ["P1", "signing", "10000.00", "2026-08-01", "会计", "B2"],  # on the day it was suspended
        ["P1", "signing", "20000.00", "2026-04-01", "会计", "CZ1", "B1"],
    )  # a reversal is still taken
    result = run(tmp_path, config=cfg(rectification_days=30))  # deadline 2026-07-31
    a = next(a for a in result.agreements if a["proposal_id"] == "P1")
    assert (a["status"], a["ended_on"]) == (AgreementStatus.SUSPENDED, D(2026, 8, 1))
    assert rules(result) == {("P1/signing", "tranche_not_payable")}
    assert a["returned_fen"] == a["amount_fen"]  # 20,000 paid and reversed


def test_re_evaluations_that_do_not_fit_are_rejected_rows(tmp_path):
    failed_midterm(
        tmp_path,
        ["P1", "rectification", "", "80", "2026-09-01", ""],  # after the deadline (08-30)
        ["P2", "rectification", "", "80", "2026-07-01", ""],
    )  # P2 never failed
    result = run(tmp_path, config=cfg(as_of=D(2026, 9, 15)))
    assert rules(result) == {("P1/rectification", "rectification_too_late"), ("P2/rectification", "rectification_not_needed")}
    assert next(a for a in result.agreements if a["proposal_id"] == "P1")["status"] == AgreementStatus.SUSPENDED


def test_a_final_evaluation_passed_in_time_releases_the_midterm_tranche(tmp_path):
    late = [dict(p, end_on=D(2026, 7, 31)) for p in __import__("test_tracking").PROJECTS]
    failed_midterm(tmp_path, ["P1", "final", "", "90", "2026-07-31", ""])
    result = run(tmp_path, projects=late)
    assert tranche(result, "P1", "midterm")["reason"] == "released_by_final"
    assert tranche(result, "P1", "midterm")["status"] == tranche(result, "P1", "final")["status"] == TrancheStatus.DUE


def test_the_report_shows_the_suspended_project_the_money_returned_and_the_unreconciled_total(tmp_path):
    from fund.tasks.report import changes, headline, project_statuses, render_html, report_context
    from test_tracking import AS_OF, PROJECTS

    failed_midterm(tmp_path, ["P1", "rectification", "", "60", "2026-07-20", ""])
    payments(tmp_path, ["P1", "signing", "50000.00", "2026-04-01", "会计", "B1"])
    config = cfg()
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
    row = {r["proposal_id"]: r for r in rows}["P1"]
    assert (row["status"], row["committed_fen"], row["returned_fen"]) == ("suspended", 5_000_000, 5_000_000)
    reconciled = {"unreconciled_fen": 9_000, "statement": "bank.csv", "discrepancies": 1, "ledger_entries": 1}
    head = headline(config, rows, [], reconciled, entries=2)
    assert head["returned_fen"] == 5_000_000 and head["committed_fen"] + head["returned_fen"] == 13_333_333
    html = render_html(report_context(config, AS_OF, rows, head, changes(head, None), [], None, "now", "zh"))
    assert "退回专项资金 <b>¥50,000.00</b>（中止 1 个" in html and '未对平 <b class="bad">¥90.00</b>' in html
    assert "对账后台账又新增 1 笔记录" in html
    assert "协议已于 2026-07-20 中止：整改复评未通过（57.00 分，合格线 60.00）；未拨付的 ¥50,000.00 退回专项资金" in html


# ---------------------------------------------------------------- any sequence: the sums stay exact

AMOUNTS = {"signing": 500_003, "midterm": 300_001, "final": 200_000}
TERMS = due_tranches(AMOUNTS)
operation = st.one_of(
    st.tuples(st.just("pay"), st.sampled_from(sorted(AMOUNTS)), st.integers(min_value=0, max_value=600_000)),
    st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=40), st.just(0)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(operation, max_size=40))
def test_any_sequence_of_payments_and_reversals_keeps_every_tranche_within_its_amount(operations):
    ledger = Ledger([])
    for n, (what, which, amount) in enumerate(operations):
        day = D(2026, 4, 1) + dt.timedelta(days=n)
        if what == "pay":
            request = EntryRequest("P1", which, amount, day, "会计", f"B{n}")
        else:
            request = EntryRequest(None, None, None, day, "会计", f"CZ{n}", f"B{which}")
        verdict = check_entry(request, TERMS, ledger, D(2027, 1, 1), {"P1"})
        if verdict.record is not None:
            ledger.add(verdict.record | {"entry": ledger.next_entry()})
        for kind, whole in AMOUNTS.items():
            assert 0 <= ledger.paid("P1", kind) <= whole
    reversals = [e for e in ledger.entries if e["reverses"]]
    assert len({e["reverses"] for e in reversals}) == len(reversals)  # each entry reversed once at most
    originals = {e["reference"]: e for e in ledger.entries}
    assert all(e["amount_fen"] == -originals[e["reverses"]]["amount_fen"] for e in reversals)
    assert sum(e["amount_fen"] for e in ledger.entries) == sum(ledger.paid("P1", k) for k in AMOUNTS)


# ---------------------------------------------------------------- fund pay, fund pay --reverse


def test_pay_in_parts_and_reverse_with_the_command(tmp_path, prefect_server):
    import csv

    from typer.testing import CliRunner

    from fund.cli import app
    from fund.schemas.tables import AuditEvent, Payment
    from fund.tasks.store import default_db_url, load_rows
    from test_report import published_cycle

    folder, out = published_cycle(tmp_path)

    def fund(*args):
        result = CliRunner().invoke(app, [str(a) for a in args])
        return result.exit_code, result.stdout + (result.stderr or "")

    def pay(*args):
        return fund("pay", folder, "--out", out, "--by", "王会计", *args)

    code, text = fund("report", folder, "--out", out)  # the stage schedules the tranches
    assert code == 0, text
    code, text = pay("--reverse", "B-003", "--on", "2026-04-10", "--ref", "CZ-001")  # P3's signing came back
    assert code == 0 and "已记录冲正：B-003 冲正 -¥25,000.00" in text and "该批次应拨付" in text, text
    code, text = pay("--reverse", "B-003", "--on", "2026-04-10", "--ref", "CZ-001")  # the same command again
    assert code == 0 and "不重复记录" in text
    code, text = pay("--reverse", "B-003", "--on", "2026-04-11")
    assert code == 1 and "B-003 已于 2026-04-10 被冲正（CZ-001），不能重复冲正" in text
    code, text = pay("--reverse", "CZ-001")
    assert code == 1 and "冲正不能再被冲正" in text
    code, text = pay("--reverse", "B-404", "--lang", "en")
    assert code == 1 and "the ledger has no entry with the reference B-404 to reverse" in text
    code, text = pay("--proposal", "P3", "--tranche", "signing", "--amount", "10000", "--on", "2026-04-12", "--ref", "B-010")
    assert code == 0 and "该批次部分拨付" in text, text
    code, text = pay("--proposal", "P3", "--tranche", "signing", "--amount", "20000", "--on", "2026-04-13")
    assert code == 1 and "拨付金额 ¥20,000.00 超过该批次尚未拨付的 ¥15,000.00" in text
    code, text = pay("--proposal", "P3", "--tranche", "signing", "--on", "2026-04-13", "--ref", "B-011")  # the rest
    assert code == 0 and "¥15,000.00" in text and "该批次已拨付" in text, text
    code, text = pay("--proposal", "P3", "--tranche", "signing", "--on", "2026-04-13", "--ref", "B-011")
    assert code == 0 and "不重复记录" in text
    code, text = pay("--proposal", "P3", "--tranche", "signing", "--amount", "1", "--on", "2026-04-14")
    assert code == 1 and "不能重复拨付" in text
    code, text = pay("--reverse", "B-003", "--proposal", "P1", "--tranche", "signing")
    assert code == 1

    url = default_db_url(out)
    ledger = load_rows(url, Payment, "2026-test-1", ("entry",))
    assert [(e["reference"], e["amount_fen"]) for e in ledger if e["proposal_id"] == "P3"] == [
        ("B-003", 2_500_000),
        ("CZ-001", -2_500_000),
        ("B-010", 1_000_000),
        ("B-011", 1_500_000),
    ]
    actions = [e["action"] for e in load_rows(url, AuditEvent, "2026-test-1")]
    assert actions.count("reversal") == 1 and actions.count("payment") >= 6
    code, text = fund("audit", "verify", folder, "--out", out)
    assert code == 0, text

    code, text = fund("report", folder, "--out", out)  # the entries are inputs of tracking
    assert code == 0, text
    with (out / "tracking" / "tranches.csv").open(encoding="utf-8-sig") as handle:
        tranches = {(r["proposal_id"], r["tranche"]): r for r in csv.DictReader(handle)}
    assert (tranches[("P3", "signing")]["status"], tranches[("P3", "signing")]["paid"]) == ("paid", "25000.00")
    assert tranches[("P3", "signing")]["reason"] == "B-003 冲正后已重新拨付完毕（共 4 笔记录），最后一笔 2026-04-13（王会计）"
    with (out / "tracking" / "ledger.csv").open(encoding="utf-8-sig") as handle:
        rows = [r for r in csv.DictReader(handle) if r["proposal_id"] == "P3"]
    assert [(r["reference"], r["amount"], r["reverses"], r["reversed_by"]) for r in rows] == [
        ("B-003", "25000.00", "", "CZ-001"),
        ("CZ-001", "-25000.00", "B-003", ""),
        ("B-010", "10000.00", "", ""),
        ("B-011", "15000.00", "", ""),
    ]

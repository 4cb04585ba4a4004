"""Reconciliation (对账) of the ledger with the finance office's statement: reading the export
(CSV or .xlsx, GBK or UTF-8, the office's own column names), each kind of discrepancy, exact
sums for any sequence of payments and reversals, and `fund reconcile` end to end."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st
from typer.testing import CliRunner

from builders import due_tranches, make_config, write_csv
from fund.schemas.codes import ReconciliationOutcome as Outcome
from fund.tasks.reading import FileProblem
from fund.tasks.reconciliation import read_statement, reconcile, totals
from fund.tasks.tracking import EntryRequest, Ledger, check_entry

D = dt.date
PAYEES = {"P1": "南关区仁爱社会工作服务中心", "P2": "南关区童心儿童发展中心"}


def entry(n: int, pid: str, fen: int, day: str, reference: str | None, reverses: str | None = None) -> dict:
    return {
        "entry": n,
        "proposal_id": pid,
        "kind": "signing",
        "amount_fen": fen,
        "paid_on": D.fromisoformat(day),
        "paid_by": "会计",
        "reference": reference,
        "reverses": reverses,
    }


def row(line: int, fen: int, day: str, payee: str, reference: str | None) -> dict:
    return {"line": line, "amount_fen": fen, "paid_on": D.fromisoformat(day), "payee": payee, "reference": reference}


# ---------------------------------------------------------------- matching


def test_reconciliation_lists_each_kind_of_discrepancy_and_the_unreconciled_total():
    ledger = [
        entry(1, "P1", 5_000_000, "2026-04-01", "B1"),
        entry(2, "P1", -5_000_000, "2026-04-03", "CZ1", "B1"),  # a reversal: the bank returned it
        entry(3, "P1", 5_000_000, "2026-04-05", "B3"),
        entry(4, "P2", 1_666_666, "2026-04-02", "b2"),  # the statement writes it B2
        entry(5, "P2", 1_000_000, "2026-07-20", "B5"),  # the bank has 1,000,100.00
        entry(6, "P2", 500_000, "2026-07-21", "B6"),  # paid to someone else
        entry(7, "P2", 200_000, "2026-07-22", "B7"),  # not in the statement
        entry(8, "P2", 100_000, "2026-07-23", None),
    ]  # no reference at all
    statement = [
        row(2, 5_000_000, "2026-04-01", "南关区仁爱社会工作服务中心", "B1"),
        row(3, -5_000_000, "2026-04-03", " 南关区仁爱社会工作服务中心", "CZ1"),
        row(4, 5_000_000, "2026-04-06", "南关区仁爱社会工作服务中心", "B3"),  # a day later: still matched
        row(5, 1_666_666, "2026-04-02", "南关区童心儿童发展中心", "Ｂ2"),
        row(6, 1_000_100, "2026-07-20", "南关区童心儿童发展中心", "B5"),
        row(7, 500_000, "2026-07-21", "南关区童心儿童服务社", "B6"),
        row(8, 300_000, "2026-07-25", "南关区童心儿童发展中心", "B9"),
    ]  # not in the ledger
    lines = reconcile(ledger, statement, PAYEES)
    found = [(x["outcome"], x["reference"], x["entry"], x["statement_row"]) for x in lines]
    assert found == [
        (Outcome.AMOUNT_MISMATCH, "B5", 5, 6),
        (Outcome.PAYEE_MISMATCH, "B6", 6, 7),
        (Outcome.ONLY_IN_LEDGER, "B7", 7, None),
        (Outcome.ONLY_IN_LEDGER, None, 8, None),
        (Outcome.ONLY_IN_STATEMENT, "B9", None, 8),
        (Outcome.MATCHED, "B1", 1, 2),
        (Outcome.MATCHED, "b2", 4, 5),
        (Outcome.MATCHED, "B3", 3, 4),
        (Outcome.MATCHED, "CZ1", 2, 3),
    ]
    summary = totals(lines)
    assert summary["unreconciled_fen"] == 100 + 500_000 + 200_000 + 100_000 + 300_000
    assert summary["discrepancies"] == 5 and summary["matched"] == 4
    assert summary["ledger_fen"] == sum(e["amount_fen"] for e in ledger)
    assert summary["statement_fen"] == sum(r["amount_fen"] for r in statement)
    assert [x["line"] for x in lines] == list(range(1, 10))


# ---------------------------------------------------------------- any sequence: when they agree, they balance

AMOUNTS = {"signing": 500_003, "midterm": 300_001, "final": 199_996}
TERMS = due_tranches(AMOUNTS)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.sampled_from(sorted(AMOUNTS)), st.integers(min_value=1, max_value=600_000)),
        st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=30), st.just(0)),
    ),
    max_size=30,
)


def ledger_of(ops) -> list[dict]:
    ledger = Ledger([])
    for n, (what, which, amount) in enumerate(ops):
        day = D(2026, 4, 1) + dt.timedelta(days=n)
        request = (
            EntryRequest("P1", which, amount, day, "会计", f"B{n}")
            if what == "pay"
            else EntryRequest(None, None, None, day, "会计", f"CZ{n}", f"B{which}")
        )
        verdict = check_entry(request, TERMS, ledger, D(2027, 1, 1), {"P1"})
        if verdict.record is not None:
            ledger.add(verdict.record | {"entry": ledger.next_entry()})
    return ledger.entries


@settings(max_examples=200, deadline=None)
@given(operations, st.randoms(use_true_random=False))
def test_a_statement_that_agrees_with_the_ledger_reconciles_to_the_fen(ops, rng):
    entries = ledger_of(ops)
    statement = [
        row(i + 2, e["amount_fen"], e["paid_on"].isoformat(), PAYEES["P1"], e["reference"].lower()) for i, e in enumerate(entries)
    ]
    rng.shuffle(statement)
    summary = totals(reconcile(entries, statement, PAYEES))
    assert summary["matched"] == len(entries) and summary["discrepancies"] == summary["unreconciled_fen"] == 0
    paid = sum(sum(e["amount_fen"] for e in entries if e["kind"] == k) for k in AMOUNTS)
    assert summary["ledger_fen"] == summary["statement_fen"] == paid
    assert 0 <= paid <= sum(AMOUNTS.values())


@settings(max_examples=100, deadline=None)
@given(operations.filter(lambda ops: any(what == "pay" for what, _, _ in ops)), st.data())
def test_one_amount_off_is_one_mismatch_of_exactly_that_much(ops, data):
    entries = ledger_of(ops)
    if not entries:
        return
    statement = [
        row(i + 2, e["amount_fen"], e["paid_on"].isoformat(), PAYEES["P1"], e["reference"]) for i, e in enumerate(entries)
    ]
    which = data.draw(st.integers(min_value=0, max_value=len(statement) - 1))
    off = data.draw(st.integers(min_value=-(10**9), max_value=10**9).filter(bool))
    statement[which]["amount_fen"] += off
    lines = reconcile(entries, statement, PAYEES)
    assert [x["outcome"] for x in lines].count(Outcome.AMOUNT_MISMATCH) == 1
    assert totals(lines)["unreconciled_fen"] == abs(off)


# ---------------------------------------------------------------- reading the finance office's export

HEADER = ["交易日期", "交易金额", "收款单位", "摘要", "凭证号"]
FINANCE = {"date_column": "交易日期", "amount_column": "交易金额", "payee_column": "收款单位", "reference_column": "凭证号"}


def test_a_gbk_export_with_the_offices_own_column_names(tmp_path):
    path = write_csv(
        tmp_path / "流水.csv",
        HEADER,
        [
            ["2026/4/1", "50,000.00", "南关区仁爱社会工作服务中心", "签约款", "B1"],
            ["2026年4月3日", "-50000", "南关区仁爱社会工作服务中心", "退回", "CZ1"],
            ["2026-04-04", "(1,000.00)", "南关区仁爱社会工作服务中心", "退回", "CZ2"],
            ["2026-04-05", "12,5", "南关区仁爱社会工作服务中心", "", "B3"],  # not an amount
            ["2026-04-06", "", "南关区仁爱社会工作服务中心", "", "B4"],
        ],
        encoding="gb18030",
    )
    rows, problems, rows_in = read_statement(path, make_config(finance=FINANCE))
    assert [(r["paid_on"], r["amount_fen"], r["reference"]) for r in rows] == [
        (D(2026, 4, 1), 5_000_000, "B1"),
        (D(2026, 4, 3), -5_000_000, "CZ1"),
        (D(2026, 4, 4), -100_000, "CZ2"),
    ]
    assert [(p.source_file, p.source_row, p.field, p.rule) for p in problems] == [
        ("流水.csv", 5, "交易金额", "money_signed_format"),
        ("流水.csv", 6, "交易金额", "required"),
    ]
    assert rows_in == 5


def test_an_xlsx_export_with_the_usual_chinese_headers(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["日期", "金额", "收款人", "凭证号"])
    sheet.append([dt.datetime(2026, 4, 1), 50000, "南关区仁爱社会工作服务中心", "B1"])
    sheet.append([dt.datetime(2026, 4, 2), -16666.66, "南关区童心儿童发展中心", "CZ1"])
    book.save(tmp_path / "statement.xlsx")
    rows, problems, _ = read_statement(tmp_path / "statement.xlsx", make_config())
    assert problems == [] and [r["amount_fen"] for r in rows] == [5_000_000, -1_666_666]


def test_a_statement_without_a_needed_column_or_in_another_format_stops_naming_it(tmp_path):
    path = write_csv(tmp_path / "流水.csv", ["交易日期", "交易金额", "收款单位", "摘要"], [["2026-04-01", "1.00", "某机构", ""]])
    with pytest.raises(FileProblem) as missing:
        read_statement(path, make_config(finance=FINANCE))
    assert missing.value.rule == "missing_column" and missing.value.params["column"] == "凭证号"
    (tmp_path / "流水.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(FileProblem) as old:
        read_statement(tmp_path / "流水.xls", make_config())
    assert old.value.rule == "statement_format" and old.value.params["ext"] == ".xls"


# ---------------------------------------------------------------- fund reconcile


def read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_fund_reconcile_writes_the_lines_and_the_report_shows_the_unreconciled_total(tmp_path, prefect_server):
    from fund.cli import app
    from test_report import published_cycle

    folder, out = published_cycle(tmp_path)
    orgs = {r["credit_code"]: r["name"] for r in read(folder / "organizations.csv")}
    names = {r["proposal_id"]: orgs[r["credit_code"]] for r in read(folder / "proposals.csv")}
    statement = write_csv(
        tmp_path / "bank.csv",
        ["date", "amount", "payee", "reference"],
        [
            ["2026-04-01", "50000.00", names["P1"], "B-001"],
            ["2026-04-02", "16666.66", names["P2"], "B-002"],
            ["2026-04-02", "25000.00", names["P3"], "B-003"],
            ["2026-07-21", "30000.50", names["P1"], "B-004"],  # the ledger has 30,000.00
            ["2026-07-25", "8000.00", names["P3"], "B-005"],
        ],
        encoding="gb18030",
    )  # not in the ledger

    def fund(*args):
        result = CliRunner().invoke(app, [str(a) for a in args])
        return result.exit_code, result.stdout + (result.stderr or "")

    code, text = fund("reconcile", folder, "--out", out, "--statement", statement)
    assert code == 0, text
    assert "一致 3 笔，差异 2 笔（金额不符 1、仅在财务流水 1）；未对平金额 ¥8,000.50" in text
    lines = read(out / "tracking" / "reconciliation.csv")
    assert [(x["outcome"], x["reference"], x["difference"]) for x in lines[:2]] == [
        ("amount_mismatch", "B-004", "0.50"),
        ("only_in_statement", "B-005", ""),
    ]
    assert lines[0]["explanation"] == "金额不符：台账 ¥30,000.00，财务流水 ¥30,000.50（相差 ¥0.50）"
    html = (out / "reports" / "index.html").read_text(encoding="utf-8")
    assert '未对平 <b class="bad">¥8,000.50</b>' in html and "bank.csv" in html

    code, again = fund("reconcile", folder, "--out", out, "--statement", statement)
    assert code == 0 and "未变化" in again
    code, text = fund("audit", "verify", folder, "--out", out)
    assert code == 0, text

    broken = write_csv(tmp_path / "no-reference.csv", ["date", "amount", "payee"], [["2026-04-01", "1.00", "x"]])
    code, text = fund("reconcile", folder, "--out", out, "--statement", broken, "--lang", "en")
    assert code == 1 and "no-reference.csv" in text and "'reference'" in text and "Traceback" not in text
    assert read(out / "tracking" / "reconciliation.csv") == lines  # nothing changed
    code, text = fund("reconcile", folder, "--out", out, "--statement", tmp_path / "nowhere.csv")
    assert code == 1 and "nowhere.csv" in text

"""Reconciliation (对账): the ledger against the finance office's own record of the money.

The finance office exports what it paid (a bank or treasury statement: date, amount, payee,
reference) as CSV or .xlsx, GBK or UTF-8; `[finance]` in cycle.toml names its columns when
they are not the usual ones. Each ledger entry is matched with the statement row of the same
reference (the voucher or bank reference; width and case do not matter):

- matched 一致: same reference, same amount to the fen, paid to the project's organization;
- amount_mismatch 金额不符: same reference, another amount;
- payee_mismatch 收款人不符: same reference and amount, another payee;
- only_in_ledger 仅在台账 / only_in_statement 仅在财务流水: the other side has no such reference.

A reversal is an entry of its own (negative), matched with the statement's returned transfer
(a negative amount, `-150,000.00` or `(150,000.00)`). The unreconciled total is the money the
two records disagree on: the whole amount of an entry or row found on one side only, or paid
to another payee, and the difference of a mismatched amount.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from fund.schemas.cells import BLANKS, CellError, fold, parse_money
from fund.schemas.codes import ReconciliationOutcome as Outcome
from fund.schemas.config import CycleConfig
from fund.schemas.tables import CsvColumn
from fund.tasks.messages import money_cell, render, yuan
from fund.tasks.outputs import write_csv
from fund.tasks.reading import CsvTable, FileProblem, Problem, present, read_csv, read_xlsx
from fund.tasks.tracking import reference_key
from fund.tasks.tracking_messages import RECONCILIATION_OUTCOMES, label

RECONCILIATION = Path("tracking") / "reconciliation.csv"
OUTCOME_ORDER = tuple(Outcome)
COLUMNS = (  # attribute, cycle.toml key, default English and Chinese names, kind, cell required
    ("paid_on", "date_column", "date", "日期", "date", True),
    ("amount", "amount_column", "amount", "金额", "text", True),
    ("payee", "payee_column", "payee", "收款人", "text", False),
    ("reference", "reference_column", "reference", "凭证号", "text", False),
)
HEADER = [
    "outcome",
    "outcome_label",
    "reference",
    "proposal_id",
    "tranche",
    "entry",
    "ledger_date",
    "ledger_amount",
    "statement_date",
    "statement_amount",
    "difference",
    "ledger_payee",
    "statement_payee",
    "statement_row",
    "explanation",
]


def statement_columns(cfg: CycleConfig) -> list[CsvColumn]:
    named = cfg.finance.named()
    return [
        CsvColumn(attr, named.get(key, english), named.get(key, chinese), kind, required, None)
        for attr, key, english, chinese, kind, required in COLUMNS
    ]


def read_statement(path: Path, cfg: CycleConfig) -> tuple[list[dict], list[Problem], int]:
    """The statement's rows (date, signed amount in fen, payee, reference, line), the rows that
    cannot be read, and the number of rows read. A file that cannot be used at all — missing,
    not CSV or .xlsx, without one of the four columns — raises FileProblem naming it."""
    path, source = Path(path), Path(path).name
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".txt", ".xlsx"):
        raise FileProblem(source, "statement_format", ext=suffix or source)
    if not present(path, source):
        raise FileProblem(source, "file_missing", file=str(path))
    reader = read_xlsx if suffix == ".xlsx" else read_csv
    table: CsvTable = reader(path, source, statement_columns(cfg), ("reference",), ("payee", "reference"))
    amount_header = statement_columns(cfg)[1].header
    problems, rows = list(table.problems), []
    for row in table.rows:
        if not row["_ok"]:
            continue
        try:
            amount = parse_signed_money(row["amount"])
        except CellError as exc:
            problems.append(
                Problem(
                    source, row["_line"], row.get("reference") or "", amount_header, row["amount"][:200], exc.rule, exc.params
                )
            )
            continue
        rows.append(
            {
                "paid_on": row["paid_on"],
                "amount_fen": amount,
                "payee": row.get("payee") or "",
                "reference": row.get("reference") or None,
                "line": row["_line"],
            }
        )
    return rows, sorted(problems, key=lambda p: (p.source_row or 0, p.field, p.rule)), table.rows_in


def parse_signed_money(text: str) -> int:
    """A statement's amount: money that came back may be negative ('-150,000.00', '−150000',
    '(150,000.00)'); otherwise the cell rules of every amount (`cells.parse_money`)."""
    value = fold(text).replace("\u2212", "-")
    bracketed = value.startswith("(") and value.endswith(")")
    negative = bracketed or value.startswith("-")
    body = value[1:-1] if bracketed else value.removeprefix("-").strip(BLANKS)
    try:
        fen = parse_money(body)
    except CellError as exc:
        raise CellError("money_signed_format" if exc.rule in ("money_format", "money_negative") else exc.rule) from None
    return -fen if negative else fen


def same_payee(a: str | None, b: str | None) -> bool:
    def folded(text: str | None) -> str:
        return re.sub(r"\s+", "", fold(text or "")).casefold()

    return bool(folded(a)) and folded(a) == folded(b)


def reconcile(entries: list[dict], statement: list[dict], payees: dict[str, str]) -> list[dict]:
    """Every ledger entry and statement row, paired by reference, with its outcome (numbered
    lines, discrepancies first). `payees`: each project's organization."""
    ledger_of: dict[str | None, list[dict]] = defaultdict(list)
    statement_of: dict[str | None, list[dict]] = defaultdict(list)
    for e in sorted(entries, key=lambda e: e["entry"]):
        ledger_of[reference_key(e.get("reference"))].append(e)
    for s in sorted(statement, key=lambda s: s["line"]):
        statement_of[reference_key(s.get("reference"))].append(s)
    lines = []
    for key in sorted((k for k in ledger_of.keys() | statement_of.keys() if k is not None)):
        left, right = list(ledger_of.get(key, [])), list(statement_of.get(key, []))
        for e in list(left):  # exact pairs first, then the rest in order
            s = next(
                (s for s in right if s["amount_fen"] == e["amount_fen"] and same_payee(payees.get(e["proposal_id"]), s["payee"])),
                None,
            )
            if s is not None:
                left.remove(e)
                right.remove(s)
                lines.append(line(Outcome.MATCHED, e, s, payees))
        for e, s in zip(left, right):
            wrong = Outcome.AMOUNT_MISMATCH if e["amount_fen"] != s["amount_fen"] else Outcome.PAYEE_MISMATCH
            lines.append(line(wrong, e, s, payees))
        lines += [line(Outcome.ONLY_IN_LEDGER, e, None, payees) for e in left[len(right) :]]
        lines += [line(Outcome.ONLY_IN_STATEMENT, None, s, payees) for s in right[len(left) :]]
    lines += [line(Outcome.ONLY_IN_LEDGER, e, None, payees) for e in ledger_of.get(None, [])]
    lines += [line(Outcome.ONLY_IN_STATEMENT, None, s, payees) for s in statement_of.get(None, [])]
    lines.sort(
        key=lambda x: (
            OUTCOME_ORDER.index(x["outcome"]),
            x["reference"] is None,
            reference_key(x["reference"]) or "",
            x["entry"] or 0,
            x["statement_row"] or 0,
        )
    )
    return [{**x, "line": n} for n, x in enumerate(lines, start=1)]


def line(outcome: Outcome, entry: dict | None, row: dict | None, payees: dict[str, str]) -> dict:
    return {
        "outcome": outcome,
        "reference": (entry or row).get("reference"),
        "proposal_id": entry["proposal_id"] if entry else None,
        "kind": entry["kind"] if entry else None,
        "entry": entry["entry"] if entry else None,
        "ledger_on": entry["paid_on"] if entry else None,
        "ledger_fen": entry["amount_fen"] if entry else None,
        "ledger_payee": payees.get(entry["proposal_id"]) if entry else None,
        "statement_on": row["paid_on"] if row else None,
        "statement_fen": row["amount_fen"] if row else None,
        "statement_payee": row["payee"] if row else None,
        "statement_row": row["line"] if row else None,
    }


def unreconciled_fen(x: dict) -> int:
    """The money one line's two records disagree on."""
    if x["outcome"] == Outcome.AMOUNT_MISMATCH:
        return abs(x["statement_fen"] - x["ledger_fen"])
    if x["outcome"] in (Outcome.PAYEE_MISMATCH, Outcome.ONLY_IN_LEDGER):
        return abs(x["ledger_fen"])
    if x["outcome"] == Outcome.ONLY_IN_STATEMENT:
        return abs(x["statement_fen"])
    return 0


def totals(lines: list[dict]) -> dict:
    counts = {str(o): sum(1 for x in lines if x["outcome"] == o) for o in Outcome}
    return {
        **counts,
        "lines": len(lines),
        "discrepancies": len(lines) - counts[Outcome.MATCHED],
        "unreconciled_fen": sum(unreconciled_fen(x) for x in lines),
        "ledger_fen": sum(x["ledger_fen"] or 0 for x in lines),
        "statement_fen": sum(x["statement_fen"] or 0 for x in lines),
    }


def explanation(x: dict, lang: str) -> str:
    if x["outcome"] == Outcome.AMOUNT_MISMATCH:
        return render(
            "reconciled_amount_mismatch",
            {
                "ledger": yuan(x["ledger_fen"]),
                "statement": yuan(x["statement_fen"]),
                "difference": yuan(x["statement_fen"] - x["ledger_fen"]),
            },
            lang,
        )
    if x["outcome"] == Outcome.PAYEE_MISMATCH:
        return render(
            "reconciled_payee_mismatch", {"expected": x["ledger_payee"] or "—", "found": x["statement_payee"] or "—"}, lang
        )
    if x["outcome"] in (Outcome.ONLY_IN_LEDGER, Outcome.ONLY_IN_STATEMENT):
        rule = f"reconciled_{x['outcome']}" + ("" if x["reference"] else "_unreferenced")
        return render(rule, {"reference": x["reference"]}, lang)
    return render("reconciled_matched", {}, lang)


def write_reconciliation(out_dir: Path, lines: list[dict], lang: str) -> None:
    def day(d) -> str:
        return d.isoformat() if d else ""

    write_csv(
        Path(out_dir) / RECONCILIATION,
        HEADER,
        [
            [
                x["outcome"],
                label(RECONCILIATION_OUTCOMES, x["outcome"], lang),
                x["reference"] or "",
                x["proposal_id"] or "",
                x["kind"] or "",
                x["entry"] or "",
                day(x["ledger_on"]),
                money_cell(x["ledger_fen"]),
                day(x["statement_on"]),
                money_cell(x["statement_fen"]),
                money_cell(x["statement_fen"] - x["ledger_fen"])
                if x["ledger_fen"] is not None and x["statement_fen"] is not None
                else "",
                x["ledger_payee"] or "",
                x["statement_payee"] or "",
                x["statement_row"] or "",
                explanation(x, lang),
            ]
            for x in lines
        ],
    )

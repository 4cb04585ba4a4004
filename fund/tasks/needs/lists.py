"""Reading the needs list (needs.csv, 需求清单) and the resource list (resources.csv, 资源清单),
and the needs each proposal names (proposals.csv, need_ids): the front of the cycle
(三征一提 · 三筹).

Both files are optional. Every row ends either accepted or with at least one Problem, as at
the rest of intake: a duplicated id rejects every copy; a proposal that names a need it cannot
answer (unknown, invalid, of another street; or none when `[needs] require_need`) is not
eligible; a pledge to something that is neither a need nor a submitted proposal is rejected.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from fund.schemas.cells import CellError, fold, parse_id, parse_int, parse_money
from fund.schemas.tables import Need, Resource, csv_columns
from fund.tasks.reading import CsvTable, Problem, present, read_csv

NEEDS, RESOURCES = "needs.csv", "resources.csv"
NEED_SEPARATORS = re.compile(r"[;；]")
URGENT = "high"


def read_needs_lists(cycle_dir: Path) -> tuple[CsvTable | None, CsvTable | None]:
    """needs.csv and resources.csv of the cycle folder, each None when the cycle has none."""
    folder = Path(cycle_dir)
    needs = read_csv(folder / NEEDS, NEEDS, csv_columns(Need), ("need_id",)) if present(folder / NEEDS, NEEDS) else None
    resources = (
        read_csv(folder / RESOURCES, RESOURCES, csv_columns(Resource), ("resource_id",))
        if present(folder / RESOURCES, RESOURCES)
        else None
    )
    return needs, resources


@dataclass
class NeedsList:
    """The accepted needs by id, and the ids whose record could not be used (→ its line)."""

    needs: dict[str, dict]
    invalid: dict[str, int]
    given: bool  # the cycle has a needs.csv

    def records(self) -> list[dict]:
        return [self.needs[k] for k in sorted(self.needs)]


def _lines(rows: list[dict]) -> str:
    return ", ".join(str(r["_line"]) for r in rows)


def _record(row: dict) -> dict:
    return {**{k: v for k, v in row.items() if not k.startswith("_")}, "source_row": row["_line"]}


def by_id(table: CsvTable, key: str) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = defaultdict(list)
    for row in table.rows:
        if row.get(key):
            rows[row[key]].append(row)
    return rows


def validate_needs(table: CsvTable | None) -> tuple[NeedsList, list[Problem]]:
    if table is None:
        return NeedsList({}, {}, False), []
    problems = list(table.problems)
    needs, invalid = {}, {}
    for nid, rows in sorted(by_id(table, "need_id").items()):
        if len(rows) > 1:
            problems += [
                Problem(NEEDS, r["_line"], nid, "need_id", nid, "duplicate_need_id", {"lines": _lines(rows)}) for r in rows
            ]
            invalid[nid] = rows[0]["_line"]
        elif rows[0]["_ok"]:
            needs[nid] = _record(rows[0])
        else:
            invalid[nid] = rows[0]["_line"]
    return NeedsList(needs, invalid, True), problems


def proposal_needs(
    text: str | None, street: str | None, needs: NeedsList, require_need: bool
) -> tuple[str | None, list[tuple[str, str, str, dict]]]:
    """The needs a proposal names, normalised (sorted ids separated by ;), and each problem with them
    as (field, value, rule, params)."""
    found: list[tuple[str, str, str, dict]] = []
    ids: set[str] = set()
    for part in NEED_SEPARATORS.split(text or ""):
        part = fold(part)
        if not part:
            continue
        try:
            ids.add(parse_id(part))
        except CellError:
            found.append(("need_ids", part[:200], "need_ids_format", {}))
    for nid in sorted(ids):
        need = needs.needs.get(nid)
        if need is not None:
            if need["street"] != street:
                found.append(
                    ("need_ids", nid, "need_other_street", {"need": nid, "need_street": need["street"], "street": street})
                )
        elif nid in needs.invalid:
            found.append(("need_ids", nid, "need_invalid", {"need": nid, "line": needs.invalid[nid]}))
        else:
            found.append(("need_ids", nid, "need_unknown", {"need": nid}))
    if require_need and not ids and not found:
        found.append(("need_ids", "", "need_missing", {}))
    return (";".join(sorted(ids)) or None), found


def validate_resources(table: CsvTable | None, needs: NeedsList, proposal_ids: set[str]) -> tuple[list[dict], list[Problem]]:
    """The accepted pledges: money in fen (amount_fen), the other kinds as a whole quantity."""
    if table is None:
        return [], []
    problems = list(table.problems)
    records = []
    for rid, rows in sorted(by_id(table, "resource_id").items()):
        if len(rows) > 1:
            problems += [
                Problem(RESOURCES, r["_line"], rid, "resource_id", rid, "duplicate_resource_id", {"lines": _lines(rows)})
                for r in rows
            ]
            continue
        row = rows[0]
        if not row["_ok"]:
            continue
        found = []

        def fail(field: str, value, rule: str, **params) -> None:
            found.append(Problem(RESOURCES, row["_line"], rid, field, "" if value is None else str(value)[:200], rule, params))

        amount_fen = quantity = None
        try:
            if row["kind"] == "money":
                amount_fen = parse_money(row["amount"])
            else:
                quantity = parse_int(row["amount"])
                if quantity < 0:
                    raise CellError("quantity_format")
        except CellError as exc:
            fail("amount", row["amount"], "quantity_format" if row["kind"] != "money" else exc.rule, **exc.params)
        target = row.get("pledged_to")
        if target:
            if target in needs.needs and target in proposal_ids:
                fail("pledged_to", target, "pledge_ambiguous", target=target)
            elif target in needs.invalid and target not in proposal_ids:
                fail("pledged_to", target, "need_invalid", need=target, line=needs.invalid[target])
            elif target not in needs.needs and target not in proposal_ids:
                fail("pledged_to", target, "pledge_unknown", target=target)
        problems += found
        if not found:
            records.append({**_record(row), "amount_fen": amount_fen, "quantity": quantity})
    return records, problems


def resource_flags(resources: list[dict]) -> dict[str, list[bool]]:
    """The business expectations on stored pledges: money has an amount in fen, the others a quantity."""
    return {
        "money_in_fen_others_in_quantity": [
            (r["amount_fen"] is not None and r["quantity"] is None)
            if r["kind"] == "money"
            else (r["quantity"] is not None and r["amount_fen"] is None)
            for r in resources
        ]
    }


def urgent_needs_of(proposals: list[dict], needs: list[dict]) -> dict[str, tuple[str, ...]]:
    """The urgent (high) needs each proposal names, by proposal id."""
    urgent = {n["need_id"] for n in needs if n["urgency"] == URGENT}
    return {p["proposal_id"]: tuple(sorted(set(split_ids(p.get("need_ids"))) & urgent)) for p in proposals}


def split_ids(text: str | None) -> list[str]:
    """Stored need ids (sorted, separated by ;) as a list."""
    return [part for part in (text or "").split(";") if part]

"""The needs outputs under OUT_DIR/needs/ (UTF-8 with BOM, money with two decimals), written by the
allocation stage once the award is decided:

    coverage.csv   every need: the eligible proposals naming it, the funded ones, covered / unmet
    unmet.csv      the needs not covered, most urgent first, with needs.csv's own columns first,
                   so the file can be the next call's needs.csv as it is (its last columns say why)
    resources.csv  the resource ledger: every accepted pledge, what it is pledged to and its status
    leverage.csv   by street: awarded, co-funding, pledged money and their ratio to the award
"""

from __future__ import annotations

from pathlib import Path

from fund.schemas.tables import Need, csv_columns
from fund.tasks.messages import money_cell, render
from fund.tasks.outputs import write_csv

COVERAGE_HEADER = ["need_id", "street", "community", "group", "urgency", "proposals", "funded", "status", "title", "people"]
LEDGER_HEADER = [
    "resource_id",
    "unit",
    "kind",
    "amount",
    "quantity",
    "street",
    "community",
    "pledged_to",
    "target",
    "target_status",
    "counted",
]
LEVERAGE_HEADER = ["street", "funded_projects", "awarded", "cofunding", "pledged", "leverage", "venue", "volunteers", "goods"]


def _cell(value) -> str:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def write_coverage(out_dir: Path, coverage: list[dict], unmet: list[dict], lang: str) -> None:
    folder = Path(out_dir) / "needs"
    write_csv(
        folder / "coverage.csv",
        COVERAGE_HEADER,
        [
            [
                c["need_id"],
                c["street"],
                c["community"] or "",
                c["group"],
                c["urgency"],
                ";".join(c["proposals"]),
                ";".join(c["funded"]),
                c["status"],
                c["title"],
                _cell(c["people"]),
            ]
            for c in coverage
        ],
    )
    need_columns = [c.attr for c in csv_columns(Need)]
    header = [c.header for c in csv_columns(Need)] + ["proposals", "reason", "reason_text"]
    write_csv(
        folder / "unmet.csv",
        header,
        [
            [_cell(c[attr]) for attr in need_columns]
            + [
                ";".join(c["reason_proposals"]),
                c["reason"],
                render(c["reason"], {"proposals": ", ".join(c["reason_proposals"])}, lang),
            ]
            for c in unmet
        ],
    )


def write_resources(out_dir: Path, ledger: list[dict], streets: list[dict]) -> None:
    folder = Path(out_dir) / "needs"
    write_csv(
        folder / "resources.csv",
        LEDGER_HEADER,
        [
            [
                r["resource_id"],
                r["unit"],
                r["kind"],
                money_cell(r["amount_fen"]),
                _cell(r["quantity"]),
                r["street"],
                r["community"] or "",
                r["pledged_to"] or "",
                r["target"],
                r["target_status"],
                "yes" if r["counted"] else "no",
            ]
            for r in ledger
        ],
    )
    write_csv(
        folder / "leverage.csv",
        LEVERAGE_HEADER,
        [
            [
                s["street"],
                s["projects"],
                money_cell(s["awarded_fen"]),
                money_cell(s["cofunding_fen"]),
                money_cell(s["pledged_fen"]),
                s["leverage"] or "",
                s["venue"],
                s["volunteers"],
                s["goods"],
            ]
            for s in streets
        ],
    )

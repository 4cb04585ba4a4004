"""The city overview (城市总览): every district's cycle on one self-contained page, for the
city's bureau, with its CSV (`districts.csv`) and what changed since the last overview.

Pure functions: `flows.city` reads each district's figures from its database (the same
`cycle_figures` the district's own leadership report uses, so the two always agree) and
writes what these return.
"""

from __future__ import annotations

from fund.tasks.html import TEMPLATES
from fund.tasks.messages import money_cell
from fund.tasks.report.headline import NUMBERS, changes
from fund.tasks.report.page import OUTCOME_LABELS, money_bars
from fund.tasks.report.status import GROUPS, reasons_list
from fund.tasks.run_messages import STAGE_LABELS
from fund.tasks.tracking_messages import label

MONEY = ("budget_fen", "committed_fen", "disbursed_fen", "spent_fen", "returned_fen")
COUNTS = (
    "projects",
    *GROUPS,
    "midterm_passed",
    "midterm_failed",
    "final_passed",
    "final_failed",
    "rejected_rows",
    "gates_failed",
)
DISTRICTS_HEADER = [
    "district",
    "cycle_id",
    "cycle_name",
    "ran",
    *(key.removesuffix("_fen") for key in MONEY),  # yuan, two decimals
    *COUNTS,
    "last_stage",
    "last_outcome",
]


def empty_headline(budget_fen: int) -> dict:
    """The figures of a district whose cycle has not run yet (nothing funded, nothing checked)."""
    return {**{k: 0 for k in (*NUMBERS, *MONEY, *COUNTS)}, "budget_fen": budget_fen, "statuses": {}}


def district_table(districts: list[dict]) -> list[list]:
    """One row of districts.csv per district, in the city file's order; money in yuan (two decimals)."""
    rows = []
    for d in districts:
        head, last = d["head"], d["last"] or {}
        rows.append(
            [d["name"], d["cycle_id"], d["cycle_name"], "yes" if d["ran"] else "no"]
            + [money_cell(head[k]) for k in MONEY]
            + [head[k] for k in COUNTS]
            + [last.get("stage", ""), last.get("outcome", "")]
        )
    return rows


def city_totals(districts: list[dict]) -> dict:
    return {k: sum(d["head"][k] for d in districts) for k in (*MONEY, *COUNTS)}


def city_context(city: str, as_of: str, generated: str, districts: list[dict], previous: dict | None, lang: str) -> dict:
    """The page's context. `districts`: name, cycle_id, cycle_name, contact, phone, email, ran,
    head (headline numbers), rows (project statuses), last ({stage, outcome, message} of the
    latest stage the district's runs reached, or None); `previous`: the headlines of the last
    overview by district (None: this is the first)."""
    en = lang == "en"
    shown = []
    for d in districts:
        before = (previous or {}).get("districts", {}).get(d["name"])
        delta = changes(d["head"], before) if before is not None else {"first": True, "deltas": {}, "moved": []}
        attention = [
            {"title": r["title"], "organization": r["organization"], "status": r["status"], "why": reasons_list(r, lang)}
            for r in d["rows"]
            if r["status"] in ("at_risk", "late")
        ]
        attention.sort(key=lambda a: (a["status"] != "at_risk", a["title"]))
        last = d["last"]
        shown.append(
            {
                **d,
                "delta": {k: v for k, v in delta["deltas"].items() if k in NUMBERS},
                "moved": len(delta["moved"]),
                "first": delta["first"],
                "attention": attention,
                "last_text": (
                    f"{label(STAGE_LABELS, last['stage'], lang)}{': ' if en else '：'}{label(OUTCOME_LABELS, last['outcome'], lang)}"
                    if last
                    else ""
                ),
                "last_message": last["message"].splitlines()[0] if last and last.get("message") else "",
            }
        )
    totals = city_totals(districts)
    money_chart = money_bars([(d["name"], d["head"]) for d in districts], lang)
    return {
        "lang": lang,
        "city": city,
        "as_of": as_of,
        "generated": generated,
        "districts": shown,
        "totals": totals,
        "money_chart": money_chart,
        "first": previous is None,
        "previous_as_of": (previous or {}).get("as_of"),
    }


def render_city_html(context: dict) -> str:
    return TEMPLATES.get_template("city.html.j2").render(**context)


def overview_record(as_of: str, districts: list[dict]) -> dict:
    """What the next overview compares with: each district's headline numbers and statuses."""
    return {
        "as_of": as_of,
        "districts": {d["name"]: {k: d["head"][k] for k in (*NUMBERS, "statuses") if k in d["head"]} for d in districts},
    }

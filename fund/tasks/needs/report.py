"""The leadership report's section on needs and resources: which needs this round covers, by street
and by group, the urgent needs still unmet (named, by street: "which urgent needs in 明珠街道 are
still unmet after this round?"), what units in the area pledged by unit and kind, and the leverage
of the fund by street. Pure: rows in, a template context out (`needs_section.html.j2`)."""

from __future__ import annotations

from collections import defaultdict

from fund.schemas.codes import CATEGORIES, RESOURCE_KINDS
from fund.tasks.messages import render, yuan
from fund.tasks.needs.coverage import count_coverage, leverage_by_street, leverage_total, need_coverage, resource_ledger
from fund.tasks.needs.lists import URGENT
from fund.tasks.needs_messages import QUANTITY_UNITS, RESOURCE_LABELS, SECTION_TEXT
from fund.tasks.tracking_messages import label


def text(key: str, lang: str, **params) -> str:
    return label(SECTION_TEXT, key, lang).format(**params)


def _tally(rows: list[dict], key: str) -> list[dict]:
    groups: dict[str, dict] = defaultdict(lambda: {"needs": 0, "covered": 0, "urgent_unmet": 0})
    for c in rows:
        g = groups[c[key]]
        g["needs"] += 1
        g["covered"] += c["status"] == "covered"
        g["urgent_unmet"] += c["status"] == "unmet" and c["urgency"] == URGENT
    return [{"name": name, **g} for name, g in groups.items()]


def amount_text(kind: str, amount_fen: int, quantity: int, lang: str) -> str:
    if kind == "money":
        return yuan(amount_fen)
    return f"{quantity:,} {label(QUANTITY_UNITS, kind, lang)}"


def needs_section(
    needs: list[dict],
    proposals: list[dict],
    awards: list[dict],
    resources: list[dict],
    needs_given: bool,
    resources_given: bool,
    lang: str,
) -> dict:
    coverage = need_coverage(needs, proposals, awards)
    count = count_coverage(coverage)
    group_name = (lambda g: CATEGORIES.get(g, g)) if lang != "en" else (lambda g: g)
    by_street = sorted(_tally(coverage, "street"), key=lambda s: (-s["urgent_unmet"], s["name"]))
    by_group = sorted(
        _tally(coverage, "group"), key=lambda g: list(CATEGORIES).index(g["name"]) if g["name"] in CATEGORIES else 99
    )
    for g in by_group:
        g["name"] = group_name(g["name"])
    unmet: dict[str, list[dict]] = defaultdict(list)
    for c in sorted(coverage, key=lambda c: (c["street"], c["community"] or "", c["need_id"])):
        if c["status"] == "unmet" and c["urgency"] == URGENT:
            unmet[c["street"]].append(c)
    share = f"{count.covered * 100 // count.needs}%" if count.needs else "—"
    section = {
        "given": needs_given,
        "summary": text(
            "summary",
            lang,
            needs=count.needs,
            covered=count.covered,
            share=share,
            urgent=count.urgent,
            urgent_covered=count.urgent_covered,
        ),
        "by_street": by_street,
        "by_group": by_group,
        "unmet": sorted(unmet.items()),
        "resources_given": resources_given,
        "pledges": [],
        "streets": [],
        "total": None,
        "text": lambda key, **params: text(key, lang, **params),
        "people": lambda c: text("people", lang, people=f"{c['people']:,}") if c.get("people") is not None else "",
        "reason": lambda c: render(c["reason"], {"proposals": ", ".join(c["reason_proposals"])}, lang),
    }
    if resources_given:
        ledger = resource_ledger(resources, needs, awards, coverage)
        pledged: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
        for r in ledger:
            entry = pledged[(r["unit"], r["kind"])]
            entry[0] += r["amount_fen"] or 0
            entry[1] += r["quantity"] or 0
            entry[2] += 1
        kinds = list(RESOURCE_KINDS)
        section["pledges"] = [
            {
                "unit": unit,
                "kind": label(RESOURCE_LABELS, kind, lang),
                "count": n,
                "amount": amount_text(kind, fen, quantity, lang),
            }
            for (unit, kind), (fen, quantity, n) in sorted(pledged.items(), key=lambda kv: (kv[0][0], kinds.index(kv[0][1])))
        ]
        streets = leverage_by_street(ledger, proposals, awards)
        section["streets"] = streets
        section["total"] = leverage_total(streets)
    return section

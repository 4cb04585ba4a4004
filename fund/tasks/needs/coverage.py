"""After the award: which needs the funded projects cover, which stay unmet and why, what the
units in the area pledged, and how much the fund levers (配套与认捐 per yuan of the fund).

Pure functions over stored rows (needs, proposals, awards, resources); integers only.

Coverage
    A need is covered when at least one funded project names it (need_ids). `proposals` are
    the eligible proposals that name it, `funded` the funded ones among them.
Unmet
    Every need not covered, most urgent first (then street, need id), with the reason:
    no proposal names it, only ineligible ones do, or the eligible ones were not funded.
Leverage, by street
    awarded = the fund's awards to funded projects of the street; cofunding = their own
    co-funding (配套资金); pledged = money pledged in the street (resources.csv), except what is
    pledged to a proposal that is not funded (it goes with the project; so do venues, volunteers
    and goods, counted as quantities). leverage = (cofunding
    + pledged) / awarded, rounded half up to two decimals (none when nothing is awarded).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from fund.tasks.needs.lists import URGENT, split_ids

URGENCY_ORDER = {"high": 0, "medium": 1, "low": 2}
QUANTITY_KINDS = ("venue", "volunteers", "goods")


def need_coverage(needs: list[dict], proposals: list[dict], awards: list[dict]) -> list[dict]:
    """One row per need (by need id): the need, the eligible proposals naming it, the funded ones,
    its status (covered / unmet) and, when unmet, why (`reason`, `reason_proposals`)."""
    funded = {a["proposal_id"] for a in awards if a["status"] == "funded"}
    naming: dict[str, list[dict]] = defaultdict(list)
    for p in sorted(proposals, key=lambda p: p["proposal_id"]):
        for nid in split_ids(p.get("need_ids")):
            naming[nid].append(p)
    rows = []
    for need in sorted(needs, key=lambda n: n["need_id"]):
        named = naming.get(need["need_id"], [])
        eligible = [p["proposal_id"] for p in named if p["eligible"]]
        got = [pid for pid in eligible if pid in funded]
        if got:
            reason, others = None, []
        elif eligible:
            reason, others = "unmet_not_funded", eligible
        elif named:
            reason, others = "unmet_no_eligible", [p["proposal_id"] for p in named]
        else:
            reason, others = "unmet_no_proposal", []
        rows.append(
            {
                **need,
                "proposals": eligible,
                "funded": got,
                "status": "covered" if got else "unmet",
                "reason": reason,
                "reason_proposals": others,
            }
        )
    return rows


def unmet_needs(coverage: list[dict]) -> list[dict]:
    """The needs not covered, most urgent first, then by street and need id."""
    return sorted(
        (c for c in coverage if c["status"] == "unmet"),
        key=lambda c: (URGENCY_ORDER.get(c["urgency"], 9), c["street"], c["need_id"]),
    )


@dataclass(frozen=True)
class CoverageCount:
    needs: int
    covered: int
    urgent: int
    urgent_covered: int


def count_coverage(coverage: list[dict]) -> CoverageCount:
    urgent = [c for c in coverage if c["urgency"] == URGENT]
    return CoverageCount(
        len(coverage), sum(c["status"] == "covered" for c in coverage), len(urgent), sum(c["status"] == "covered" for c in urgent)
    )


def pledge_target(resource: dict, needs: dict[str, dict], awards: dict[str, dict], coverage: dict[str, dict]) -> tuple[str, str]:
    """(what it is pledged to: need / proposal / "", its status: covered / unmet / funded / not_funded /
    ineligible / "")."""
    target = resource.get("pledged_to")
    if not target:
        return "", ""
    if target in needs:
        return "need", coverage[target]["status"] if target in coverage else ""
    award = awards.get(target)
    return "proposal", award["status"] if award else ""


def counted(target_status: str) -> bool:
    """A pledge counts for its street, unless it goes with a proposal that is not funded."""
    return target_status not in ("not_funded", "ineligible")


def resource_ledger(resources: list[dict], needs: list[dict], awards: list[dict], coverage: list[dict]) -> list[dict]:
    """Each accepted pledge with what it is pledged to, that target's status and whether it counts
    for the leverage; by resource id."""
    need_ids = {n["need_id"]: n for n in needs}
    award_of = {a["proposal_id"]: a for a in awards}
    coverage_of = {c["need_id"]: c for c in coverage}
    rows = []
    for r in sorted(resources, key=lambda r: r["resource_id"]):
        kind, status = pledge_target(r, need_ids, award_of, coverage_of)
        rows.append({**r, "target": kind, "target_status": status, "counted": counted(status)})
    return rows


def leverage_by_street(ledger: list[dict], proposals: list[dict], awards: list[dict]) -> list[dict]:
    """Per street (by name): funded projects, awarded, co-funding, pledged money, leverage (a
    decimal string with two places, or None) and the quantities pledged of each other kind."""
    by_id = {p["proposal_id"]: p for p in proposals}
    streets: dict[str, dict] = defaultdict(
        lambda: {"projects": 0, "awarded_fen": 0, "cofunding_fen": 0, "pledged_fen": 0, **{k: 0 for k in QUANTITY_KINDS}}
    )
    for a in awards:
        if a["status"] == "funded":
            p = by_id[a["proposal_id"]]
            street = streets[p["street"]]
            street["projects"] += 1
            street["awarded_fen"] += a["awarded_fen"]
            street["cofunding_fen"] += p.get("cofunding_fen") or 0
    for r in ledger:
        if r["counted"]:
            street = streets[r["street"]]
            if r["kind"] == "money":
                street["pledged_fen"] += r["amount_fen"]
            else:
                street[r["kind"]] += r["quantity"]
    return [
        {"street": name, **values, "leverage": leverage(values["cofunding_fen"] + values["pledged_fen"], values["awarded_fen"])}
        for name, values in sorted(streets.items())
    ]


def leverage(levered_fen: int, awarded_fen: int) -> str | None:
    """levered / awarded, rounded half up to two decimals, from integers; None when nothing is awarded."""
    if awarded_fen <= 0:
        return None
    hundredths = (levered_fen * 200 + awarded_fen) // (2 * awarded_fen)
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def leverage_total(streets: list[dict]) -> dict:
    """The district's totals of `leverage_by_street`."""
    total = {k: sum(s[k] for s in streets) for k in ("projects", "awarded_fen", "cofunding_fen", "pledged_fen", *QUANTITY_KINDS)}
    return {"street": None, **total, "leverage": leverage(total["cofunding_fen"] + total["pledged_fen"], total["awarded_fen"])}

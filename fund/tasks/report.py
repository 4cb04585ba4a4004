"""The leadership status report (领导报告): per-project status, headline numbers, what
changed since the last report, a self-contained HTML page and its CSV (the e-mail is `tasks.mail`).

Pure functions over stored rows; `flows.report` loads the rows, calls these and delivers.

Project status, as of the report date (first match decides the group; every reason is listed):
- cancelled 终止 (an objection upheld), on_hold 暂缓 (an objection pending), completed 已结项
  (final evaluation passed), not_started 未开始 (before its start date, nothing wrong yet);
- at_risk 风险: a failed mid-term or final evaluation, a progress report rejected for spending
  more than disbursed, two or more missing reports, beneficiaries under `behind_plan` of the
  plan to date, or satisfaction under the pass mark;
- late 滞后: one missing report, a report submitted after its due date, or a mid-term / final
  evaluation not done one reporting period after the project's midpoint / end;
- otherwise on_track 正常.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from fund.schemas.codes import CATEGORIES, AgreementStatus, TrancheStatus
from fund.schemas.config import CycleConfig
from fund.tasks.messages import centi_text, money_cell, render, yuan
from fund.tasks.run_messages import STAGE_LABELS
from fund.tasks.outputs import write_csv
from fund.tasks.tracking import expected_periods, period_checks, reason_text
from fund.tasks.tracking_messages import BANDS, KIND_LABELS, STATUS_LABELS, TRANCHE_STATUS, label

GROUPS = ("on_track", "late", "at_risk", "on_hold")  # the headline's four groups
GROUP_OF = {
    "on_track": "on_track",
    "completed": "on_track",
    "not_started": "on_track",
    "late": "late",
    "at_risk": "at_risk",
    "on_hold": "on_hold",
    "cancelled": "on_hold",
    "suspended": "on_hold",
}
STATUS_ORDER = ("at_risk", "late", "on_hold", "suspended", "cancelled", "on_track", "not_started", "completed")
RECTIFIED = ("rectification_passed", "released_by_final")  # a failed mid-term that no longer counts against a project
CATEGORY_EN = {"elderly": "elderly", "children": "children", "disabled": "disabled", "hardship": "hardship", "other": "other"}


# ---------------------------------------------------------------- per-project status


def project_statuses(
    cfg: CycleConfig,
    as_of: dt.date,
    projects: list[dict],
    agreements: list[dict],
    tranches: list[dict],
    ledger: list[dict],
    progress: list[dict],
    evaluations: list[dict],
    incentives: list[dict],
    spending_rejected: dict[str, list[dt.date]],
) -> list[dict]:
    """One row per funded project: money, output, evaluations, status and its reasons."""
    agreement_of = {a["proposal_id"]: a for a in agreements}
    reports: dict[str, list[dict]] = defaultdict(list)
    for r in progress:
        reports[r["proposal_id"]].append(r)
    paid: dict[str, int] = defaultdict(int)
    for p in ledger:
        paid[p["proposal_id"]] += p["amount_fen"]
    evaluation_of = {(e["proposal_id"], e["phase"]): e for e in evaluations}
    incentive_of = {i["proposal_id"]: i for i in incentives}
    tranches_of: dict[str, list[dict]] = defaultdict(list)
    for t in tranches:
        tranches_of[t["proposal_id"]].append(t)
    mark = int(cfg.tracking.pass_mark * 100)
    period = dt.timedelta(days=cfg.tracking.report_period_days)
    rows = []
    for p in sorted(projects, key=lambda p: p["proposal_id"]):
        pid = p["proposal_id"]
        a = agreement_of.get(pid, {"status": AgreementStatus.ON_HOLD, "signed_on": None, "amount_fen": p["awarded_fen"]})
        mine = sorted(reports.get(pid, []), key=lambda r: r["period_end"])
        mid, fin = evaluation_of.get((pid, "midterm")), evaluation_of.get((pid, "final"))
        beneficiaries = sum(r["beneficiaries"] for r in mine)
        rated = [r for r in mine if r.get("satisfaction_centi") is not None]
        weight = sum(r["beneficiaries"] for r in rated)
        satisfaction = None
        if rated:
            satisfaction = (
                (sum(r["satisfaction_centi"] * r["beneficiaries"] for r in rated) + weight // 2) // weight
                if weight
                else sum(r["satisfaction_centi"] for r in rated) // len(rated)
            )
        missing, late_reports, next_due, expected = [], [], None, 0
        if a["status"] == AgreementStatus.SIGNED:
            missing, late_reports, next_due = period_checks(p["start_on"], p["end_on"], cfg, as_of, mine)
            ends = expected_periods(p["start_on"], p["end_on"], cfg.tracking.report_period_days)
            grace = dt.timedelta(days=cfg.tracking.report_grace_days)
            expected = sum(1 for e in ends if e + grace < as_of)
        risk: list[tuple[str, dict]] = []
        slow: list[tuple[str, dict]] = []
        rectification = a.get("reason") or ""
        if a["status"] == AgreementStatus.CANCELLED:
            status, risk = "cancelled", [("objection_upheld", {})]
        elif a["status"] == AgreementStatus.ON_HOLD:
            status, risk = "on_hold", [("objection_pending", {})]
        elif a["status"] == AgreementStatus.SUSPENDED:
            status, risk = "suspended", [("suspended", json.loads(a["detail"]))]
        elif fin is not None and fin["status"] == "passed":
            status, slow = "completed", [("completed", {"score": centi_text(fin["combined_centi"])})]
        else:
            if rectification == "rectifying":
                risk.append(("rectifying", json.loads(a["detail"])))
            for e in (mid, fin):
                if e is not None and e["status"] == "failed" and not (e is mid and rectification in ("rectifying", *RECTIFIED)):
                    risk.append((f"{e['phase']}_failed", {"score": centi_text(e["combined_centi"]), "mark": centi_text(mark)}))
            for day in sorted(spending_rejected.get(pid, []))[-1:]:
                risk.append(("report_rejected_spending", {"period": day.isoformat()}))
            if missing:
                target = risk if len(missing) >= 2 else slow
                target.append(
                    (
                        "report_missing",
                        {"period": "、".join(m[0].isoformat() for m in missing), "due": missing[-1][1].isoformat()},
                    )
                )
            for period_end, due, submitted in late_reports:
                slow.append(
                    (
                        "report_late",
                        {"period": period_end.isoformat(), "due": due.isoformat(), "submitted": submitted.isoformat()},
                    )
                )
            if mine:
                last = mine[-1]["period_end"]
                span = (p["end_on"] - p["start_on"]).days + 1
                planned = (p["beneficiaries"] or 0) * ((last - p["start_on"]).days + 1) // span
                if planned and beneficiaries < cfg.tracking.behind_plan * planned:
                    risk.append(
                        (
                            "behind_plan",
                            {"actual": beneficiaries, "expected": planned, "share": f"{beneficiaries * 100 // planned}%"},
                        )
                    )
            if satisfaction is not None and satisfaction < mark:
                risk.append(("low_satisfaction", {"value": centi_text(satisfaction), "mark": centi_text(mark)}))
            midpoint = p["start_on"] + (p["end_on"] - p["start_on"]) // 2
            if mid is None and fin is None and midpoint + period < as_of:
                slow.append(("midterm_overdue", {"date": (midpoint + period).isoformat()}))
            if fin is None and p["end_on"] + period < as_of:
                slow.append(("final_overdue", {"date": (p["end_on"] + period).isoformat()}))
            if risk:
                status = "at_risk"
            elif slow:
                status = "late"
            elif as_of < p["start_on"]:
                status, slow = "not_started", [("not_started", {"start": p["start_on"].isoformat()})]
            else:
                status = "on_track"
                if not mine and next_due is not None:
                    slow = [("no_reports_yet", {"due": next_due.isoformat()})]
        upcoming = next(
            (t for t in sorted(tranches_of.get(pid, []), key=lambda t: t["seq"]) if t["status"] != TrancheStatus.PAID), None
        )
        rows.append(
            {
                "proposal_id": pid,
                "title": p["title"],
                "organization": p.get("organization") or "",
                "credit_code": p["credit_code"],
                "category": p["category"],
                "street": p["street"],
                "community": p["community"],
                "start_on": p["start_on"],
                "end_on": p["end_on"],
                # a cancelled or suspended agreement keeps committed only what was already paid out; the rest goes back
                "awarded_fen": p["awarded_fen"],
                "committed_fen": p["awarded_fen"] - a.get("returned_fen", 0),
                "returned_fen": a.get("returned_fen", 0),
                "disbursed_fen": paid.get(pid, 0),
                "spent_fen": sum(r["spent_fen"] for r in mine),
                "agreement": a["status"],
                "signed_on": a.get("signed_on"),
                "status": status,
                "reasons": risk + slow,
                "reports_expected": expected,
                "reports_received": len(mine),
                "reports_missing": [m[0] for m in missing],
                "beneficiaries_plan": p["beneficiaries"] or 0,
                "beneficiaries": beneficiaries,
                "services": sum(r["services"] for r in mine),
                "activities": sum(r["activities"] for r in mine),
                "satisfaction_centi": satisfaction,
                "midterm": mid,
                "final": fin,
                "incentive": incentive_of.get(pid),
                "next_tranche": upcoming,
            }
        )
    return rows


def reasons_list(row: dict, lang: str) -> list[str]:
    return [reason_text(code, params, lang) for code, params in row["reasons"]]


def reasons_text(row: dict, lang: str) -> str:
    return ("；" if lang != "en" else "; ").join(reasons_list(row, lang))


# ---------------------------------------------------------------- headline numbers and changes


def headline(
    cfg: CycleConfig, rows: list[dict], quality: list[dict], reconciliation: dict | None = None, entries: int = 0
) -> dict:
    """The headline numbers; `reconciliation`: the summary of the latest `fund reconcile`, and
    `entries` the ledger's entries now (those recorded since call for another reconciliation)."""
    counts = {g: 0 for g in GROUPS}
    for r in rows:
        counts[GROUP_OF[r["status"]]] += 1

    def phase(name: str, status: str) -> int:
        return sum(1 for r in rows if r[name] is not None and r[name]["status"] == status)

    live = [r for r in rows if r["agreement"] != AgreementStatus.CANCELLED]
    return {
        "projects": len(live),
        "budget_fen": cfg.budget_fen,
        "committed_fen": sum(r["committed_fen"] for r in rows),
        "disbursed_fen": sum(r["disbursed_fen"] for r in rows),
        "spent_fen": sum(r["spent_fen"] for r in rows),
        **counts,
        "beneficiaries": sum(r["beneficiaries"] for r in live),
        "beneficiaries_plan": sum(r["beneficiaries_plan"] for r in live),
        "services": sum(r["services"] for r in live),
        "activities": sum(r["activities"] for r in live),
        "reports_received": sum(r["reports_received"] for r in live),
        "reports_missing": sum(len(r["reports_missing"]) for r in live),
        "midterm_passed": phase("midterm", "passed"),
        "midterm_failed": phase("midterm", "failed"),
        "final_passed": phase("final", "passed"),
        "final_failed": phase("final", "failed"),
        "excellent": sum(1 for r in rows if r["incentive"] and r["incentive"]["band"] == "excellent"),
        "rejected_rows": sum(q["rows_rejected"] or 0 for q in quality),
        "gates_failed": sum(q["failed"] or 0 for q in quality),
        "statuses": {r["proposal_id"]: r["status"] for r in rows},
        "returned_fen": sum(r["returned_fen"] for r in rows),
        "suspended": sum(1 for r in rows if r["agreement"] == AgreementStatus.SUSPENDED),
        "cancelled": sum(1 for r in rows if r["agreement"] == AgreementStatus.CANCELLED),
        "rectifying": sum(1 for r in rows if any(code == "rectifying" for code, _ in r["reasons"])),
        "unreconciled_fen": reconciliation["unreconciled_fen"] if reconciliation else None,
        "reconciled": {
            "statement": reconciliation["statement"],
            "discrepancies": reconciliation["discrepancies"],
            "entries_since": entries - reconciliation["ledger_entries"],
        }
        if reconciliation
        else None,
    }


NUMBERS = (
    "projects",
    "committed_fen",
    "disbursed_fen",
    "spent_fen",
    "returned_fen",
    "on_track",
    "late",
    "at_risk",
    "on_hold",
    "beneficiaries",
    "services",
    "activities",
    "reports_received",
    "midterm_passed",
    "midterm_failed",
    "final_passed",
    "final_failed",
    "rejected_rows",
)


def changes(current: dict, previous: dict | None) -> dict:
    """Deltas of the headline numbers and the projects whose status changed."""
    if previous is None:
        return {"first": True, "deltas": {}, "moved": []}
    deltas = {k: current[k] - previous.get(k, 0) for k in NUMBERS if current.get(k, 0) != previous.get(k, 0)}
    before = previous.get("statuses", {})
    moved = [(pid, before.get(pid), status) for pid, status in sorted(current["statuses"].items()) if before.get(pid) != status]
    return {"first": False, "deltas": deltas, "moved": moved}


# ---------------------------------------------------------------- charts (inline SVG geometry)


def rounded(fen: int, unit: int, places: int) -> str:
    """fen in `unit` fen, rounded half up (away from zero) to `places` decimals, in integers only."""
    step = unit // 10**places
    count = (abs(fen) + step // 2) // step
    whole, part = divmod(count, 10**places)
    return ("-" if fen < 0 and count else "") + f"{whole:,}" + (f".{part:0{places}d}" if places else "")


def wan(fen: int, lang: str) -> str:
    """A short amount for charts, from integer fen with half-up rounding: 47.2万元 / ¥471.5k / ¥1.25M."""
    if lang == "en":
        return f"¥{rounded(fen, 100_000, 1)}k" if abs(fen) < 100_000_000 else f"¥{rounded(fen, 100_000_000, 2)}M"
    return f"{rounded(fen, 1_000_000, 1)}万元"


def bar_chart(items: list[tuple[str, list[int], str]]) -> dict:
    """Overlaid horizontal bars (first value widest, later ones drawn on top, thinner), as
    shares of the widest value: items are (label, values, text beside the label). The page
    draws them with HTML and CSS, so their text is the body text's size on any screen."""
    items = [item for item in items if any(item[1])]
    top = max([max(v) for _, v, _ in items if v] + [1])

    def percent(value: int) -> str:
        permille = max(value, 0) * 1000 // top
        return f"{permille // 10}.{permille % 10}"

    rows = [
        {"label": name, "text": text, "bars": [{"pct": percent(value), "cls": f"s{j}"} for j, value in enumerate(values)]}
        for name, values, text in items
    ]
    return {"rows": rows}


def status_bar(counts: dict[str, int], width: int = 360) -> list[dict]:
    total = sum(counts.values()) or 1
    x, parts = 0.0, []
    for group in GROUPS:
        w = counts.get(group, 0) / total * width
        if w:
            parts.append({"x": round(x, 1), "w": round(w, 1), "cls": group, "n": counts[group]})
        x += w
    return parts


def by_key(rows: list[dict], key: str) -> dict[str, dict]:
    groups: dict[str, dict] = {}
    for r in rows:
        g = groups.setdefault(r[key], {"committed": 0, "disbursed": 0, "spent": 0, "plan": 0, "beneficiaries": 0, "n": 0})
        g["committed"] += r["committed_fen"]
        g["disbursed"] += r["disbursed_fen"]
        g["spent"] += r["spent_fen"]
        if r["agreement"] != AgreementStatus.CANCELLED:
            g["plan"] += r["beneficiaries_plan"]
            g["beneficiaries"] += r["beneficiaries"]
            g["n"] += 1
    return groups


# ---------------------------------------------------------------- the page

TEMPLATES = Environment(
    loader=PackageLoader("fund.tasks", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
TEMPLATES.filters["yuan"] = yuan
TEMPLATES.filters["centi"] = centi_text


def pct(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}%" if whole else "—"


def signed_number(value: int, money: bool = False) -> str:
    text = yuan(abs(value)) if money else f"{abs(value):,}"
    return ("+" if value >= 0 else "−") + text


def report_context(
    cfg: CycleConfig,
    as_of: dt.date,
    rows: list[dict],
    head: dict,
    delta: dict,
    quality: list[dict],
    previous_at: str | None,
    generated_at: str,
    lang: str,
    tracking_note: str | None = None,
) -> dict:
    en = lang == "en"

    def cat(key: str) -> str:
        return CATEGORY_EN.get(key, key) if en else CATEGORIES.get(key, key)

    categories = by_key(rows, "category")
    streets = by_key(rows, "street")
    money_items = [
        (
            cat(k),
            [g["committed"], g["disbursed"], g["spent"]],
            f"{wan(g['committed'], lang)} / {wan(g['disbursed'], lang)} / {wan(g['spent'], lang)}",
        )
        for k, g in sorted(categories.items(), key=lambda kv: list(CATEGORIES).index(kv[0]) if kv[0] in CATEGORIES else 99)
    ]
    street_items = [
        (
            k,
            [g["committed"], g["disbursed"], g["spent"]],
            f"{wan(g['committed'], lang)} / {wan(g['disbursed'], lang)} / {wan(g['spent'], lang)}",
        )
        for k, g in sorted(streets.items(), key=lambda kv: (-kv[1]["committed"], kv[0]))
    ]
    output_items = [
        (
            cat(k),
            [g["plan"], g["beneficiaries"]],
            f"{g['beneficiaries']:,} / {g['plan']:,}（{pct(g['beneficiaries'], g['plan'])}）"
            if not en
            else f"{g['beneficiaries']:,} / {g['plan']:,} ({pct(g['beneficiaries'], g['plan'])})",
        )
        for k, g in sorted(categories.items(), key=lambda kv: list(CATEGORIES).index(kv[0]) if kv[0] in CATEGORIES else 99)
        if g["n"]
    ]
    attention = sorted(
        (r for r in rows if r["status"] in ("at_risk", "late", "on_hold", "suspended", "cancelled")),
        key=lambda r: (STATUS_ORDER.index(r["status"]), r["proposal_id"]),
    )
    evaluations = []
    for phase in ("midterm", "final"):
        done = [r[phase] for r in rows if r[phase] is not None]
        scored = [e["combined_centi"] for e in done if e["combined_centi"] is not None]
        evaluations.append(
            {
                "phase": phase,
                "label": label(EVALUATION_PHASES, phase, lang),
                "passed": sum(1 for e in done if e["status"] == "passed"),
                "failed": sum(1 for e in done if e["status"] == "failed"),
                "waiting": sum(1 for e in done if e["status"] == "waiting_satisfaction"),
                "not_yet": sum(1 for r in rows if r[phase] is None and r["agreement"] == AgreementStatus.SIGNED),
                "mean": centi_text(sum(scored) // len(scored)) if scored else "—",
                "failures": [r for r in rows if r[phase] is not None and r[phase]["status"] == "failed"],
            }
        )
    bands = {b: sum(1 for r in rows if r["incentive"] and r["incentive"]["band"] == b) for b in BANDS}
    return {
        "lang": lang,
        "cycle": {"id": cfg.cycle.id, "name": cfg.cycle.name},
        "as_of": as_of.isoformat(),
        "generated_at": generated_at,
        "head": head,
        "delta": delta,
        "previous_at": previous_at,
        "pct": pct,
        "signed": signed_number,
        "wan": wan,
        "status_bar": status_bar({g: head[g] for g in GROUPS}),
        "money_chart": bar_chart(money_items),
        "street_chart": bar_chart(street_items),
        "output_chart": bar_chart(output_items),
        "attention": attention,
        "evaluations": evaluations,
        "bands": bands,
        "rows": rows,
        "quality": quality,
        "tracking_note": tracking_note,
        "status_label": lambda s: label(STATUS_LABELS, s, lang),
        "group_label": lambda s: label(GROUP_LABELS, s, lang),
        "band_label": lambda b: label(BANDS, b, lang),
        "tranche_label": lambda k: label(KIND_LABELS, k, lang),
        "tranche_status": lambda s: label(TRANCHE_STATUS, s, lang),
        "cat": cat,
        "reasons": lambda r: reasons_list(r, lang),
        "stage_label": lambda s: label(STAGE_LABELS, s, lang),
        "outcome_label": lambda s: label(OUTCOME_LABELS, s, lang),
    }


EVALUATION_PHASES = {"midterm": ("中期评估", "Mid-term evaluation"), "final": ("结项评估", "Final evaluation")}
GROUP_LABELS = {
    "on_track": ("正常", "on track"),
    "late": ("滞后", "late"),
    "at_risk": ("风险", "at risk"),
    "on_hold": ("暂缓/终止", "on hold / cancelled"),
}
OUTCOME_LABELS = {
    "done": ("完成", "done"),
    "waiting": ("等待", "waiting"),
    "stopped": ("中止", "stopped"),
    "skipped": ("未变化", "unchanged"),
}


def render_html(context: dict) -> str:
    return TEMPLATES.get_template("report.html.j2").render(**context)


# ---------------------------------------------------------------- CSV and the short forms

STATUS_HEADER = [
    "proposal_id",
    "title",
    "organization",
    "category",
    "street",
    "community",
    "start_on",
    "end_on",
    "awarded",
    "disbursed",
    "spent",
    "returned",
    "agreement",
    "signed_on",
    "status",
    "status_label",
    "reasons",
    "reports_expected",
    "reports_received",
    "reports_missing",
    "beneficiaries_plan",
    "beneficiaries",
    "services",
    "activities",
    "satisfaction",
    "midterm_score",
    "midterm_result",
    "final_score",
    "final_result",
    "incentive",
    "next_tranche",
    "next_tranche_status",
]


def status_table(rows: list[dict], lang: str) -> list[list]:
    out = []
    for r in rows:
        mid, fin, nxt = r["midterm"], r["final"], r["next_tranche"]
        out.append(
            [
                r["proposal_id"],
                r["title"],
                r["organization"],
                r["category"],
                r["street"],
                r["community"],
                r["start_on"].isoformat(),
                r["end_on"].isoformat(),
                money_cell(r["awarded_fen"]),
                money_cell(r["disbursed_fen"]),
                money_cell(r["spent_fen"]),
                money_cell(r["returned_fen"]),
                r["agreement"],
                r["signed_on"].isoformat() if r["signed_on"] else "",
                r["status"],
                label(STATUS_LABELS, r["status"], lang),
                reasons_text(r, lang),
                r["reports_expected"],
                r["reports_received"],
                ";".join(d.isoformat() for d in r["reports_missing"]),
                r["beneficiaries_plan"],
                r["beneficiaries"],
                r["services"],
                r["activities"],
                centi_text(r["satisfaction_centi"]),
                centi_text(mid["combined_centi"]) if mid else "",
                mid["status"] if mid else "",
                centi_text(fin["combined_centi"]) if fin else "",
                fin["status"] if fin else "",
                r["incentive"]["band"] if r["incentive"] else "",
                nxt["kind"] if nxt else "",
                nxt["status"] if nxt else "",
            ]
        )
    return out


def write_status(out_dir: Path, rows: list[dict], lang: str) -> None:
    write_csv(Path(out_dir) / "reports" / "status.csv", STATUS_HEADER, status_table(rows, lang))


def headline_lines(cfg: CycleConfig, as_of: dt.date, head: dict, lang: str) -> list[str]:
    """The headline numbers as short lines (e-mail text, Prefect artifact, CLI)."""
    money = render(
        "report_line_money" if head.get("reconciled") else "report_line_not_reconciled",
        {
            "returned": yuan(head.get("returned_fen", 0)),
            "unreconciled": yuan(head.get("unreconciled_fen")),
            **(head.get("reconciled") or {}),
        },
        lang,
    )
    return numbers_lines(cfg, as_of, head, lang) + [money]


def numbers_lines(cfg: CycleConfig, as_of: dt.date, head: dict, lang: str) -> list[str]:
    if lang == "en":
        return [
            f"{cfg.cycle.name}: status as of {as_of.isoformat()}",
            f"- {head['projects']} projects, {yuan(head['committed_fen'])} committed of the {yuan(head['budget_fen'])} fund",
            f"- disbursed {yuan(head['disbursed_fen'])} ({pct(head['disbursed_fen'], head['committed_fen'])}); "
            f"spent {yuan(head['spent_fen'])} ({pct(head['spent_fen'], head['disbursed_fen'])} of disbursed)",
            f"- on track {head['on_track']}, late {head['late']}, at risk {head['at_risk']}, on hold {head['on_hold']}",
            f"- beneficiaries {head['beneficiaries']:,} of {head['beneficiaries_plan']:,} planned; "
            f"{head['services']:,} service visits, {head['activities']:,} activities",
            f"- mid-term evaluation: {head['midterm_passed']} passed, {head['midterm_failed']} failed; final: "
            f"{head['final_passed']} passed, {head['final_failed']} failed",
        ]
    return [
        f"{cfg.cycle.name}项目跟踪报告（截至 {as_of.isoformat()}）",
        f"- 资助项目 {head['projects']} 个，资助总额 {yuan(head['committed_fen'])}（专项资金 {yuan(head['budget_fen'])}）",
        f"- 已拨付 {yuan(head['disbursed_fen'])}（{pct(head['disbursed_fen'], head['committed_fen'])}），"
        f"已支出 {yuan(head['spent_fen'])}（占已拨付 {pct(head['spent_fen'], head['disbursed_fen'])}）",
        f"- 正常 {head['on_track']} 个，滞后 {head['late']} 个，风险 {head['at_risk']} 个，暂缓/终止 {head['on_hold']} 个",
        f"- 受益 {head['beneficiaries']:,} 人（计划 {head['beneficiaries_plan']:,} 人），服务 {head['services']:,} 人次，"
        f"活动 {head['activities']:,} 场",
        f"- 中期评估通过 {head['midterm_passed']} 个、未通过 {head['midterm_failed']} 个；"
        f"结项评估通过 {head['final_passed']} 个、未通过 {head['final_failed']} 个",
    ]


def headline_markdown(cfg: CycleConfig, as_of: dt.date, head: dict, delta: dict, lang: str) -> str:
    en = lang == "en"
    names = {
        "projects": ("资助项目", "projects"),
        "committed_fen": ("资助总额", "committed"),
        "disbursed_fen": ("已拨付", "disbursed"),
        "spent_fen": ("已支出", "spent"),
        "on_track": ("正常", "on track"),
        "late": ("滞后", "late"),
        "at_risk": ("风险", "at risk"),
        "beneficiaries": ("受益人数", "beneficiaries"),
        "services": ("服务人次", "service visits"),
        "midterm_failed": ("中期未通过", "mid-term failed"),
    }
    lines = [
        f"### {cfg.cycle.name} — {'as of' if en else '截至'} {as_of.isoformat()}",
        "",
        "| | " + ("now | change" if en else "本期 | 较上次") + " |",
        "|---|---:|---:|",
    ]
    for key, (zh, english) in names.items():
        value = head[key]
        change = delta["deltas"].get(key)
        money = key.endswith("_fen")
        lines.append(
            f"| {english if en else zh} | {yuan(value) if money else f'{value:,}'} | "
            f"{signed_number(change, money) if change else '—'} |"
        )
    return "\n".join(lines)

"""The report's self-contained HTML page: inline SVG charts and the Jinja2 template's context."""

from __future__ import annotations

import datetime as dt


from fund.schemas.codes import CATEGORIES, AgreementStatus
from fund.schemas.config import CycleConfig
from fund.tasks.html import TEMPLATES as PAGES
from fund.tasks.messages import centi_text, yuan
from fund.tasks.run_messages import STAGE_LABELS
from fund.tasks.report.status import CATEGORY_EN, GROUPS, STATUS_ORDER, reasons_list
from fund.tasks.tracking_messages import BANDS, KIND_LABELS, STATUS_LABELS, TRANCHE_STATUS, label


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

# the pages' one environment, except that the report's page keeps no final newline of its template
TEMPLATES = PAGES.overlay(keep_trailing_newline=False)


def pct(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}%" if whole else "—"


def signed_number(value: int, money: bool = False) -> str:
    text = yuan(abs(value)) if money else f"{abs(value):,}"
    return ("+" if value >= 0 else "−") + text


def history_context(cycles: list[dict], lang: str) -> dict | None:
    """The district's cycles across the years (`flows.report.district_history`): a row each,
    and bars of committed / disbursed / spent, oldest first. None when there is no history."""
    if not cycles:
        return None
    return {"rows": cycles, "chart": money_bars([(c["name"], c["head"]) for c in cycles], lang)}


def money_bars(named: list[tuple[str, dict]], lang: str) -> dict:
    """Bars of committed / disbursed / spent, one per (name, headline numbers)."""
    return bar_chart(
        [
            (
                name,
                [head["committed_fen"], head["disbursed_fen"], head["spent_fen"]],
                f"{wan(head['committed_fen'], lang)} / {wan(head['disbursed_fen'], lang)} / {wan(head['spent_fen'], lang)}",
            )
            for name, head in named
        ]
    )


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

"""The report's CSV (reports/status.csv) and its short forms: console lines and the markdown artifact."""

from __future__ import annotations

import datetime as dt
from pathlib import Path


from fund.schemas.config import CycleConfig
from fund.tasks.messages import centi_text, money_cell, render, yuan
from fund.tasks.outputs import write_csv
from fund.tasks.report.page import pct, signed_number
from fund.tasks.report.status import reasons_text
from fund.tasks.tracking_messages import STATUS_LABELS, label


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

"""The tracking stage's files: tracking/ (tranches, ledger, progress, evaluations, blank
evaluation sheets, the progress form, README.txt) and reports/incentives.csv."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

from fund.schemas.codes import AgreementStatus
from fund.schemas.codes import CATEGORIES
from fund.schemas.config import CycleConfig
from fund.tasks.messages import centi_text, money_cell
from fund.tasks.outputs import write_csv, write_text
from fund.tasks.tracking.ledger import reference_key
from fund.tasks.tracking.progress import expected_periods
from fund.tasks.tracking.rows import key_text
from fund.tasks.tracking.texts import guide_text, measures_text, reason_text
from fund.tasks.tracking.track import TrackResult
from fund.tasks.tracking.tranches import KIND_ORDER
from fund.tasks.tracking_messages import BANDS, label


TRANCHES_HEADER = [
    "proposal_id",
    "tranche",
    "seq",
    "amount",
    "paid",
    "remaining",
    "status",
    "due_on",
    "paid_on",
    "paid_by",
    "reason",
]
LEDGER_HEADER = ["entry", "proposal_id", "tranche", "amount", "paid_on", "by", "reference", "reverses", "reversed_by", "source"]
EVALUATIONS_HEADER = [
    "proposal_id",
    "phase",
    "evaluator",
    "evaluated_on",
    "expert_score",
    "satisfaction",
    "combined_score",
    "status",
]
PROGRESS_HEADER = [
    "proposal_id",
    "period_end",
    "services",
    "activities",
    "beneficiaries",
    "spent",
    "satisfaction",
    "submitted_on",
    "cumulative_beneficiaries",
    "cumulative_spent",
    "disbursed_by_period_end",
    "source_file",
    "source_row",
]
SHEET_HEADER = [
    "proposal_id",
    "phase",
    "evaluator",
    "score",
    "evaluated_on",
    "comment",
    "title",
    "organization",
    "category",
    "street",
    "community",
    "start_on",
    "end_on",
    "awarded",
]
PROGRESS_TEMPLATE_HEADER = [
    "proposal_id",
    "period_end",
    "services",
    "activities",
    "beneficiaries",
    "spent",
    "satisfaction",
    "note",
    "submitted_on",
    "title",
    "start_on",
    "end_on",
]
INCENTIVES_HEADER = [
    "proposal_id",
    "credit_code",
    "organization",
    "title",
    "band",
    "band_label",
    "final_score",
    "measures",
    "measures_text",
    "next_cycle_bonus",
    "barred_next_cycle",
]


def write_tracking_files(
    out_dir: Path, result: TrackResult, projects: dict[str, dict], cfg: CycleConfig, as_of: dt.date, lang: str
) -> None:
    out = Path(out_dir)
    folder = out / "tracking"
    latest = {(e["proposal_id"], e["kind"]): e for e in result.ledger}  # the ledger is in entry order
    write_csv(
        folder / "tranches.csv",
        TRANCHES_HEADER,
        [
            [
                t["proposal_id"],
                t["kind"],
                t["seq"],
                money_cell(t["amount_fen"]),
                money_cell(t["paid_fen"]),
                money_cell(t["amount_fen"] - t["paid_fen"]),
                t["status"],
                key_text(t["due_on"]),
                key_text(latest[(t["proposal_id"], t["kind"])]["paid_on"]) if (t["proposal_id"], t["kind"]) in latest else "",
                latest[(t["proposal_id"], t["kind"])]["paid_by"] if (t["proposal_id"], t["kind"]) in latest else "",
                reason_text(t["reason"], t["detail"], lang),
            ]
            for t in sorted(result.tranches, key=lambda t: (t["proposal_id"], t["seq"]))
        ],
    )
    reversal_of = {reference_key(e["reverses"]): e for e in result.ledger if e.get("reverses")}

    def reversed_by(e: dict) -> str:
        reversal = reversal_of.get(reference_key(e["reference"])) if e.get("reference") else None
        return "" if reversal is None else reversal.get("reference") or f"#{reversal['entry']}"

    write_csv(
        folder / "ledger.csv",
        LEDGER_HEADER,
        [
            [
                e["entry"],
                e["proposal_id"],
                e["kind"],
                money_cell(e["amount_fen"]),
                e["paid_on"].isoformat(),
                e["paid_by"],
                e.get("reference") or "",
                e.get("reverses") or "",
                reversed_by(e),
                e["source"],
            ]
            for e in sorted(result.ledger, key=lambda e: (e["proposal_id"], KIND_ORDER.index(e["kind"]), e["entry"]))
        ],
    )
    write_csv(
        folder / "evaluations.csv",
        EVALUATIONS_HEADER,
        [
            [
                e["proposal_id"],
                e["phase"],
                e.get("evaluator") or "",
                e["evaluated_on"].isoformat(),
                centi_text(e["expert_centi"]),
                centi_text(e["satisfaction_centi"]),
                centi_text(e["combined_centi"]),
                e["status"],
            ]
            for e in result.evaluations
        ],
    )
    rows, cumulative = [], defaultdict(lambda: [0, 0])
    for r in sorted(result.progress, key=lambda r: (r["proposal_id"], r["period_end"])):
        c = cumulative[r["proposal_id"]]
        c[0] += r["beneficiaries"]
        c[1] += r["spent_fen"]
        disbursed = sum(
            p["amount_fen"] for p in result.ledger if p["proposal_id"] == r["proposal_id"] and p["paid_on"] <= r["period_end"]
        )
        rows.append(
            [
                r["proposal_id"],
                r["period_end"].isoformat(),
                r["services"],
                r["activities"],
                r["beneficiaries"],
                money_cell(r["spent_fen"]),
                centi_text(r["satisfaction_centi"]),
                key_text(r.get("submitted_on")),
                c[0],
                money_cell(c[1]),
                money_cell(disbursed),
                r["source_file"],
                r["source_row"],
            ]
        )
    write_csv(folder / "progress.csv", PROGRESS_HEADER, rows)
    signed = [a for a in result.agreements if a["status"] == AgreementStatus.SIGNED]
    done = {(e["proposal_id"], e["phase"]) for e in result.evaluations}
    sheets = folder / "sheets"
    rectifying = {a["proposal_id"] for a in signed if a["reason"] == "rectifying"}
    for phase in ("midterm", "rectification", "final"):
        sheet_rows = []
        for a in signed:
            p = projects[a["proposal_id"]]
            if (a["proposal_id"], phase) in done or (phase == "rectification" and a["proposal_id"] not in rectifying):
                continue
            sheet_rows.append(
                [
                    a["proposal_id"],
                    phase,
                    "",
                    "",
                    "",
                    "",
                    p["title"],
                    p.get("organization") or "",
                    CATEGORIES.get(p["category"], p["category"]),
                    p["street"],
                    p["community"],
                    p["start_on"].isoformat(),
                    p["end_on"].isoformat(),
                    money_cell(a["amount_fen"]),
                ]
            )
        write_csv(sheets / f"{phase}.csv", SHEET_HEADER, sheet_rows)
    template = []
    reported: dict[str, list[dict]] = defaultdict(list)
    for r in result.progress:
        reported[r["proposal_id"]].append(r)
    for a in signed:
        p = projects[a["proposal_id"]]
        ends = expected_periods(p["start_on"], p["end_on"], cfg.tracking.report_period_days)
        have = {r["period_end"] for r in reported[a["proposal_id"]]}
        latest = max(have, default=p["start_on"] - dt.timedelta(days=1))
        following = next((e for e in ends if e > latest), None)
        if following is not None:
            template.append(
                [
                    a["proposal_id"],
                    following.isoformat(),
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    p["title"],
                    p["start_on"].isoformat(),
                    p["end_on"].isoformat(),
                ]
            )
    write_csv(sheets / "progress_template.csv", PROGRESS_TEMPLATE_HEADER, template)
    write_text(folder / "README.txt", guide_text(cfg))
    write_incentives(out, result.incentives, projects, lang)


def write_incentives(out_dir: Path, incentives: list[dict], projects: dict[str, dict], lang: str) -> None:
    write_csv(
        Path(out_dir) / "reports" / "incentives.csv",
        INCENTIVES_HEADER,
        [
            [
                i["proposal_id"],
                i["credit_code"],
                projects[i["proposal_id"]].get("organization") or "",
                projects[i["proposal_id"]]["title"],
                i["band"],
                label(BANDS, i["band"], lang),
                centi_text(i["combined_centi"]),
                i["measures"],
                measures_text(i["measures"], i["bonus_centi"], lang),
                centi_text(i["bonus_centi"]),
                "yes" if i["barred"] else "no",
            ]
            for i in sorted(incentives, key=lambda i: i["proposal_id"])
        ],
    )

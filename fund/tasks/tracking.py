"""After the award (拨付与跟踪): agreements, tranches, the disbursement ledger, progress
reports, mid-term and final evaluation (双评 again) and the four incentives (四激励).

Everything here is a plain function of the read files, the stored ledger and the config,
*as of* one date (`resolve_as_of`: an explicit date, else env `FUND_AS_OF`, else
`[tracking] as_of` in cycle.toml, else today in Asia/Shanghai), so a run is reproducible
and a demonstration can stand on any day of the project period.

The rules, in short:
- The public notice runs `publicity_days` days, both ends counted, from its first day
  (`tasks.publicity`: the period the notice prints); agreements are signed the day
  after, for every funded project without a pending or upheld objection (an objection
  dismissed later moves signing to its resolution day; one upheld cancels the agreement).
- An award is split into tranches by `[tranches]` (signing, midterm, final) in integer
  fen, each share rounded down and the remainder on the last tranche, so they add up to
  the award exactly. A tranche is *due* once its condition holds (signing: the
  agreement; midterm/final: a passed evaluation of that phase), *withheld* when that
  evaluation failed, *planned* before; it is *paid* when the ledger has it. Nothing is
  payable before its condition holds: a payment row dated before it is rejected.
- The ledger (`Payment`) holds each tranche once and is never rewritten: a payment row
  read again (payments.csv on a rerun) is recognised, not added twice.
- Progress rows carry the figures of one period (services, activities, beneficiaries
  and money spent in that period). A row for an unknown or unfunded project, dated
  outside the project or in the future, duplicated with different figures, or whose
  cumulative spending is above what was disbursed by its period end, is rejected with
  its reason.
- An evaluation combines the third-party score with the beneficiaries' satisfaction
  (mean of the accepted reports up to the evaluation date, weighted by beneficiaries)
  by `[tracking]` weights, exactly, rounded half up once; without satisfaction it waits.
"""
from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

from fund.schemas.config import CycleConfig
from fund.schemas.tables import Objection, Payment, Progress, ProjectEvaluation, TRANCHE_KINDS, csv_columns
from fund.settings import SettingsError, load_settings
from fund.tasks.messages import centi_text, money_cell, render, yuan
from fund.tasks.publicity import notice_period
from fund.tasks.reading import (CellError, CsvTable, Problem, listed, parse_date, present, problem_recorder, read_csv,
                                readable_rows)
from fund.tasks.scoring import round_centi
from fund.tasks.tracking_messages import BANDS, KIND_LABELS, MEASURES, PHASE_LABELS, label


OBJECTIONS, PAYMENTS, PROGRESS_DIR, EVALUATIONS_DIR = "objections.csv", "payments.csv", "progress", "evaluations"
KIND_ORDER = tuple(TRANCHE_KINDS)          # payment order: signing, midterm, final
SHANGHAI = ZoneInfo("Asia/Shanghai")


class TrackingConfigError(ValueError):
    """A tracking setting that cannot work; `key` names it."""

    def __init__(self, key: str, problem: str):
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


# ---------------------------------------------------------------- dates and money

def resolve_as_of(cfg: CycleConfig, explicit: str | dt.date | None = None) -> dt.date:
    """The date tracking is "as of": explicit, else FUND_AS_OF, else [tracking] as_of, else today (Shanghai)."""
    try:
        from_environment = load_settings().as_of
    except SettingsError as exc:
        raise TrackingConfigError(exc.variable, f"{exc.zh} / {exc.en}") from None
    for key, value in (("--as-of", explicit), ("FUND_AS_OF", from_environment)):
        if isinstance(value, dt.date):
            return value
        if value:
            try:
                return parse_date(str(value))
            except CellError as exc:
                raise TrackingConfigError(key, f"{value!r} is not a date (YYYY-MM-DD)") from exc
    if cfg.tracking.as_of is not None:
        return cfg.tracking.as_of
    return dt.datetime.now(SHANGHAI).date()


def publicity_window(cfg: CycleConfig, published_from: dt.date) -> tuple[dt.date, dt.date, dt.date]:
    """(first day, last day, signing day) of the public notice: the period it prints."""
    period = notice_period(cfg, published_from)
    return period.starts, period.ends, period.signing_from


def tranche_shares(cfg: CycleConfig) -> dict[str, Fraction]:
    unknown = [k for k in cfg.tranches if k not in TRANCHE_KINDS]
    if unknown:
        raise TrackingConfigError(f"tranches.{unknown[0]}", f"unknown tranche; use {', '.join(KIND_ORDER)}")
    return {k: Fraction(cfg.tranches[k]) for k in KIND_ORDER if cfg.tranches.get(k, 0) > 0}


def split_amount(amount_fen: int, shares: dict[str, Fraction | Decimal]) -> dict[str, int]:
    """Tranche amounts in fen: each share rounded down, the remainder on the last tranche."""
    kinds = [k for k in KIND_ORDER if k in shares and shares[k] > 0] or [k for k in shares if shares[k] > 0]
    if not kinds:
        return {}
    parts = {k: int(amount_fen * Fraction(shares[k])) for k in kinds[:-1]}  # int() floors non-negative fractions
    parts[kinds[-1]] = amount_fen - sum(parts.values())
    return parts


def expected_periods(start: dt.date, end: dt.date, every_days: int) -> list[dt.date]:
    """Period ends of a project: every N days from its start, the last one on its end date."""
    ends, k = [], 1
    while True:
        period_end = start + dt.timedelta(days=every_days * k - 1)
        if period_end >= end:
            ends.append(end)
            return ends
        ends.append(period_end)
        k += 1


def period_checks(start: dt.date, end: dt.date, cfg: CycleConfig, as_of: dt.date,
                  reports: list[dict]) -> tuple[list[tuple], list[tuple], dt.date | None]:
    """(missing, late, next due) for one project: each expected period is covered by a report
    whose period end falls in it; missing when its due date has passed without one; late
    when the covering report was submitted after the due date."""
    grace = dt.timedelta(days=cfg.tracking.report_grace_days)
    ends = expected_periods(start, end, cfg.tracking.report_period_days)
    missing, late, next_due = [], [], None
    previous = start - dt.timedelta(days=1)
    for period_end in ends:
        due = period_end + grace
        covering = [r for r in reports if previous < r["period_end"] <= period_end]
        previous = period_end
        if not covering:
            if due < as_of:
                missing.append((period_end, due))
            elif next_due is None:
                next_due = due
            continue
        submitted = [r["submitted_on"] for r in covering if r.get("submitted_on")]
        if submitted and min(submitted) > due:
            late.append((period_end, due, min(submitted)))
    return missing, late, next_due


# ---------------------------------------------------------------- reading

def progress_files(cycle_dir: Path) -> list[Path]:
    return _csv_files(Path(cycle_dir) / PROGRESS_DIR)


def evaluation_files(cycle_dir: Path) -> list[Path]:
    return _csv_files(Path(cycle_dir) / EVALUATIONS_DIR)


def _csv_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*") if p.suffix.lower() in {".csv", ".txt"} and listed(p, folder.name)) \
        if folder.is_dir() else []


def tracking_inputs(cycle_dir: Path) -> list[Path]:
    """Every input file of the tracking stage (for the input hash)."""
    cycle_dir = Path(cycle_dir)
    for name in (OBJECTIONS, PAYMENTS):
        present(cycle_dir / name, name)   # optional, but never a folder or a broken link
    return [cycle_dir / OBJECTIONS, cycle_dir / PAYMENTS, *progress_files(cycle_dir), *evaluation_files(cycle_dir)]


@dataclass
class TrackingFiles:
    objections: CsvTable | None
    payments: CsvTable | None
    progress: list[CsvTable]
    evaluations: list[CsvTable]


def read_tracking(cycle_dir: Path) -> TrackingFiles:
    cycle_dir = Path(cycle_dir)

    def optional(name: str, table, ident) -> CsvTable | None:
        path = cycle_dir / name
        return read_csv(path, name, csv_columns(table), ident) if present(path, name) else None

    return TrackingFiles(
        optional(OBJECTIONS, Objection, ("objection_id",)),
        optional(PAYMENTS, Payment, ("proposal_id", "kind")),
        [read_csv(p, f"{PROGRESS_DIR}/{p.name}", csv_columns(Progress), ("proposal_id", "period_end"))
         for p in progress_files(cycle_dir)],
        [read_csv(p, f"{EVALUATIONS_DIR}/{p.name}", csv_columns(ProjectEvaluation), ("proposal_id", "phase"))
         for p in evaluation_files(cycle_dir)])


# ---------------------------------------------------------------- the pure stage logic

@dataclass
class TrackResult:
    objections: list[dict]          # accepted objections.csv rows (Objection rows, source objections.csv)
    agreements: list[dict]
    tranches: list[dict]
    new_payments: list[dict]        # ledger rows to add (without recorded_at)
    ledger: list[dict]              # the whole ledger after this run
    progress: list[dict]            # accepted progress rows
    evaluations: list[dict]
    incentives: list[dict]
    problems: list[Problem]
    rows_in: dict[str, int]
    pending_evaluations: set[tuple[str, str]] = field(default_factory=set)


def _key_text(d: dt.date | None) -> str:
    return d.isoformat() if d else ""


def _public(row: dict) -> dict:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def _where(row: dict, source: str | None = None) -> str:
    return f"{source or row['_file']}:{row['_line']}"


def _dedupe(rows: list[dict], key, rule: str, field_name: str, ident) -> tuple[list[dict], list[Problem]]:
    """One row per key: identical copies are ignored (listed), differing ones all rejected."""
    by_key: dict = defaultdict(list)
    for row in rows:
        by_key[key(row)].append(row)
    kept, problems = [], []
    for k in sorted(by_key, key=lambda x: tuple(str(p) for p in (x if isinstance(x, tuple) else (x,)))):
        copies = by_key[k]
        first = copies[0]
        if all(_public(c) == _public(first) for c in copies[1:]):
            kept.append(first)
            problems += [Problem(c["_file"], c["_line"], ident(c), field_name, ident(c), "duplicate_copy",
                                 {"first": _where(first)}) for c in copies[1:]]
        else:
            lines = ", ".join(_where(c) for c in copies)
            problems += [Problem(c["_file"], c["_line"], ident(c), field_name, ident(c), rule, {"lines": lines})
                         for c in copies]
    return kept, problems


def validate_objections(table: CsvTable | None, funded: set[str], window: tuple[dt.date, dt.date, dt.date],
                        cli_ids: set[str]) -> tuple[list[dict], list[Problem]]:
    if table is None:
        return [], []
    problems = list(table.problems)
    start, end, _ = window
    candidates = []
    for row in table.rows:
        if not row["_ok"]:
            continue
        row = {**row, "_file": table.source_file}
        oid = row["objection_id"]
        if row["proposal_id"] not in funded:
            problems.append(Problem(table.source_file, row["_line"], oid, "proposal_id", row["proposal_id"], "objection_not_funded"))
        elif not start <= row["received_on"] <= end:
            problems.append(Problem(table.source_file, row["_line"], oid, "received_on", row["received_on"].isoformat(),
                                    "objection_outside_period", {"received": row["received_on"].isoformat(),
                                                                 "start": start.isoformat(), "end": end.isoformat()}))
        elif oid in cli_ids:
            problems.append(Problem(table.source_file, row["_line"], oid, "objection_id", oid, "duplicate_objection",
                                    {"lines": f"{table.source_file}:{row['_line']}, fund objection"}))
        else:
            candidates.append(row)
    kept, dup = _dedupe(candidates, lambda r: r["objection_id"], "duplicate_objection", "objection_id",
                        lambda r: r["objection_id"])
    rows = [{"objection_id": r["objection_id"], "proposal_id": r["proposal_id"], "received_on": r["received_on"],
             "objector": r.get("objector"), "content": r["content"], "resolution": r.get("resolution") or "pending",
             "resolved_on": r.get("resolved_on"), "note": r.get("note"), "source": OBJECTIONS, "source_row": r["_line"]}
            for r in kept]
    return rows, problems + dup


def make_agreements(projects: list[dict], objections: list[dict], signing_day: dt.date, as_of: dt.date) -> list[dict]:
    per_project: dict[str, list[dict]] = defaultdict(list)
    for o in objections:
        per_project[o["proposal_id"]].append(o)
    agreements = []
    for p in sorted(projects, key=lambda p: p["proposal_id"]):
        raised = per_project.get(p["proposal_id"], [])
        resolutions = {o["resolution"] for o in raised}
        signed_on = max([signing_day] + [o["resolved_on"] for o in raised if o.get("resolved_on")])
        if "upheld" in resolutions:
            status, signed_on = "cancelled", None
        elif "pending" in resolutions or signed_on > as_of:
            status, signed_on = "on_hold", None
        else:
            status = "signed"
        agreements.append({"proposal_id": p["proposal_id"], "amount_fen": p["awarded_fen"], "signed_on": signed_on,
                           "status": status})
    return agreements


def validate_progress(tables: list[CsvTable], projects: dict[str, dict], agreements: dict[str, dict],
                      known: set[str], as_of: dt.date) -> tuple[list[dict], list[Problem], int]:
    """Rows about a signed project, inside its dates, one per (project, period end)."""
    problems: list[Problem] = []
    candidates: list[dict] = []
    rows_in = sum(table.rows_in for table in tables)
    for table, row in readable_rows(tables, problems):
        pid, line, end = row["proposal_id"], row["_line"], row["period_end"]
        fail = problem_recorder(problems, table.source_file, line, f"{pid}/{end.isoformat()}")
        project, agreement = projects.get(pid), agreements.get(pid)
        satisfaction: Decimal | None = row.get("satisfaction_centi")
        if pid not in known:
            fail("proposal_id", pid, "progress_proposal_unknown")
        elif project is None or agreement is None or agreement["status"] == "cancelled":
            fail("proposal_id", pid, "progress_not_funded")
        elif end < project["start_on"]:
            fail("period_end", end, "period_before_start", period_end=end.isoformat(), start=project["start_on"].isoformat())
        elif end > project["end_on"]:
            fail("period_end", end, "period_after_end", period_end=end.isoformat(), end=project["end_on"].isoformat())
        elif end > as_of:
            fail("period_end", end, "period_end_future", period_end=end.isoformat(), as_of=as_of.isoformat())
        elif row.get("submitted_on") and row["submitted_on"] < end:
            fail("submitted_on", row["submitted_on"], "submitted_before_period_end",
                 submitted=row["submitted_on"].isoformat(), period_end=end.isoformat())
        elif satisfaction is not None and not 0 <= satisfaction <= 100:
            fail("satisfaction", satisfaction, "satisfaction_out_of_range")
        elif satisfaction is not None and satisfaction * 100 != (satisfaction * 100).to_integral_value():
            fail("satisfaction", satisfaction, "satisfaction_precision")
        else:
            candidates.append({**row, "_file": table.source_file,
                               "satisfaction_centi": None if satisfaction is None else int(satisfaction * 100)})
    kept, dup = _dedupe(candidates, lambda r: (r["proposal_id"], r["period_end"]), "duplicate_period", "period_end",
                        lambda r: f"{r['proposal_id']}/{r['period_end'].isoformat()}")
    return kept, problems + dup, rows_in


def validate_evaluations(tables: list[CsvTable], projects: dict[str, dict], agreements: dict[str, dict],
                         known: set[str], as_of: dt.date) -> tuple[list[dict], set[tuple[str, str]], list[Problem], int]:
    """Returned evaluation sheets: (scored rows, rows left blank, problems, rows read)."""
    problems: list[Problem] = []
    candidates: list[dict] = []
    pending: set[tuple[str, str]] = set()
    rows_in = sum(table.rows_in for table in tables)
    for table, row in readable_rows(tables, problems):
        pid, phase, line = row["proposal_id"], row["phase"], row["_line"]
        score: Decimal | None = row.get("expert_centi")
        date: dt.date | None = row.get("evaluated_on")
        fail = problem_recorder(problems, table.source_file, line, f"{pid}/{phase}")
        project, agreement = projects.get(pid), agreements.get(pid)
        if pid not in known or project is None or agreement is None or agreement["status"] != "signed":
            fail("proposal_id", pid, "evaluation_not_funded")
        elif score is None and date is None:
            pending.add((pid, phase))
        elif score is None:
            fail("score", "", "required")
        elif date is None:
            fail("evaluated_on", "", "required")
        elif not 0 <= score <= 100:
            fail("score", score, "evaluation_score_out_of_range")
        elif score * 100 != (score * 100).to_integral_value():
            fail("score", score, "evaluation_score_precision")
        elif date > as_of:
            fail("evaluated_on", date, "evaluation_date_future", date=date.isoformat(), as_of=as_of.isoformat())
        elif date < project["start_on"]:
            fail("evaluated_on", date, "evaluation_before_start", date=date.isoformat(), start=project["start_on"].isoformat())
        elif phase == "final" and date < project["end_on"]:
            fail("evaluated_on", date, "final_before_end", date=date.isoformat(), end=project["end_on"].isoformat())
        else:
            candidates.append({**row, "_file": table.source_file, "expert_centi": int(score * 100)})
    kept, dup = _dedupe(candidates, lambda r: (r["proposal_id"], r["phase"]), "duplicate_evaluation", "phase",
                        lambda r: f"{r['proposal_id']}/{r['phase']}")
    scored = {(r["proposal_id"], r["phase"]) for r in kept}
    return kept, pending - scored, problems + dup, rows_in


def satisfaction_until(reports: list[dict], day: dt.date) -> Fraction | None:
    """Mean satisfaction (0–100) of the reports up to `day`, weighted by beneficiaries."""
    rated = [r for r in reports if r["period_end"] <= day and r.get("satisfaction_centi") is not None]
    if not rated:
        return None
    weight = sum(r["beneficiaries"] for r in rated)
    if weight == 0:
        return Fraction(sum(r["satisfaction_centi"] for r in rated), 100 * len(rated))
    return Fraction(sum(r["satisfaction_centi"] * r["beneficiaries"] for r in rated), 100 * weight)


def combine_evaluations(cfg: CycleConfig, sheet_rows: list[dict], progress: list[dict]) -> list[dict]:
    """Expert/third-party score × expert_weight + satisfaction × satisfaction_weight, rounded once."""
    w_expert, w_satisfaction = Fraction(cfg.tracking.expert_weight), Fraction(cfg.tracking.satisfaction_weight)
    mark = int(cfg.tracking.pass_mark * 100)
    reports: dict[str, list[dict]] = defaultdict(list)
    for r in progress:
        reports[r["proposal_id"]].append(r)
    rows = []
    for s in sorted(sheet_rows, key=lambda r: (r["proposal_id"], KIND_ORDER.index(r["phase"]))):
        satisfaction = satisfaction_until(reports.get(s["proposal_id"], []), s["evaluated_on"])
        if satisfaction is None and w_satisfaction:
            combined, status = None, "waiting_satisfaction"
        else:
            combined = round_centi(Fraction(s["expert_centi"], 100) * w_expert + (satisfaction or 0) * w_satisfaction)
            status = "passed" if combined >= mark else "failed"
        rows.append({"proposal_id": s["proposal_id"], "phase": s["phase"], "evaluator": s.get("evaluator"),
                     "expert_centi": s["expert_centi"], "evaluated_on": s["evaluated_on"], "comment": s.get("comment"),
                     "satisfaction_centi": round_centi(satisfaction) if satisfaction is not None else None,
                     "combined_centi": combined, "status": status, "source_file": s["_file"], "source_row": s["_line"]})
    return rows


def schedule_tranches(cfg: CycleConfig, agreements: list[dict], evaluations: list[dict], as_of: dt.date) -> list[dict]:
    """Each agreement's tranches with the state of their condition (ledger not applied yet)."""
    shares = tranche_shares(cfg)
    mark = centi_text(int(cfg.tracking.pass_mark * 100))
    by_phase = {(e["proposal_id"], e["phase"]): e for e in evaluations}
    rows = []
    for a in agreements:
        pid = a["proposal_id"]
        for seq, (kind, amount) in enumerate(split_amount(a["amount_fen"], shares).items(), start=1):
            status, due_on, reason, detail = "planned", None, "", {}
            if a["status"] == "cancelled":
                status, reason = "cancelled", "objection_upheld"
            elif a["status"] == "on_hold":
                reason = "objection_pending"
            elif kind == "signing":
                status, due_on, reason, detail = "due", a["signed_on"], "signed", {"date": a["signed_on"].isoformat()}
            else:
                e = by_phase.get((pid, kind))
                if e is None:
                    reason = f"awaiting_{kind}"
                elif e["status"] == "waiting_satisfaction":
                    reason, detail = "awaiting_satisfaction", {"phase": kind}
                elif e["status"] == "passed":
                    status, due_on, reason = "due", max(e["evaluated_on"], a["signed_on"]), f"{kind}_passed"
                    detail = {"score": centi_text(e["combined_centi"])}
                else:
                    status, reason = "withheld", f"{kind}_failed"
                    detail = {"score": centi_text(e["combined_centi"]), "mark": mark}
            rows.append({"proposal_id": pid, "kind": kind, "seq": seq, "amount_fen": amount, "status": status,
                         "due_on": due_on, "reason": reason, "detail": detail})
    return rows


def not_payable(kind: str, paid_on: dt.date, rule: str, params: dict) -> dict:
    """Parameters of `tranche_not_payable`: the nested reason is rendered in both languages."""
    return {"tranche": kind, "tranche_zh": label(KIND_LABELS, kind, "zh"), "paid_on": paid_on.isoformat(),
            "why_zh": reason_text(rule, params, "zh"), "why_en": reason_text(rule, params, "en")}


def import_payments(table: CsvTable | None, tranches: list[dict], ledger: list[dict], as_of: dt.date,
                    signed: set[str]) -> tuple[list[dict], list[Problem], int]:
    """payments.csv rows against the tranche conditions and the ledger: (new ledger rows, problems, rows read)."""
    if table is None:
        return [], [], 0
    problems = list(table.problems)
    by_tranche = {(t["proposal_id"], t["kind"]): t for t in tranches}
    paid = {(p["proposal_id"], p["kind"]): p for p in ledger}
    candidates = []
    for row in table.rows:
        if not row["_ok"]:
            continue
        candidates.append({**row, "_file": table.source_file})
    kept, dup = _dedupe(candidates, lambda r: (r["proposal_id"], r["kind"]), "payment_conflict", "tranche",
                        lambda r: f"{r['proposal_id']}/{r['kind']}")
    problems += dup
    new = []
    for row in kept:
        pid, kind, line = row["proposal_id"], row["kind"], row["_line"]
        ident = f"{pid}/{kind}"

        def fail(field_name: str, value, rule: str, **params) -> None:
            problems.append(Problem(table.source_file, line, ident, field_name, "" if value is None else str(value), rule, params))

        tranche = by_tranche.get((pid, kind))
        before = paid.get((pid, kind))
        if pid not in signed:
            fail("proposal_id", pid, "payment_no_agreement")
        elif row["paid_on"] > as_of:
            fail("paid_on", row["paid_on"], "payment_future", paid_on=row["paid_on"].isoformat(), as_of=as_of.isoformat())
        elif before is not None:
            if (before["amount_fen"], before["paid_on"]) != (row["amount_fen"], row["paid_on"]):
                fail("tranche", kind, "tranche_already_paid", paid_on=before["paid_on"].isoformat(), by=before["paid_by"],
                     amount=yuan(before["amount_fen"]))
        elif tranche is None:
            fail("tranche", kind, "tranche_not_payable", **not_payable(kind, row["paid_on"], "not_planned", {}))
        elif tranche["status"] != "due":
            fail("tranche", kind, "tranche_not_payable",
                 **not_payable(kind, row["paid_on"], tranche["reason"], tranche["detail"]))
        elif tranche["due_on"] > row["paid_on"]:
            fail("paid_on", row["paid_on"], "tranche_not_payable",
                 **not_payable(kind, row["paid_on"], "condition_later", {"date": tranche["due_on"].isoformat()}))
        elif row["amount_fen"] != tranche["amount_fen"]:
            fail("amount", money_cell(row["amount_fen"]), "payment_amount_mismatch", amount=yuan(row["amount_fen"]),
                 expected=yuan(tranche["amount_fen"]))
        else:
            new.append({"proposal_id": pid, "kind": kind, "amount_fen": row["amount_fen"], "paid_on": row["paid_on"],
                        "paid_by": row["paid_by"], "reference": row.get("reference"), "source": PAYMENTS})
    return new, problems, table.rows_in


def check_spending(progress: list[dict], ledger: list[dict]) -> list[tuple[tuple[str, dt.date], Problem]]:
    """Cumulative spending by each period end may not exceed what was disbursed by then."""
    payments: dict[str, list[dict]] = defaultdict(list)
    for p in ledger:
        payments[p["proposal_id"]].append(p)
    problems = []
    per_project: dict[str, list[dict]] = defaultdict(list)
    for r in progress:
        per_project[r["proposal_id"]].append(r)
    for pid, rows in sorted(per_project.items()):
        spent = 0
        for r in sorted(rows, key=lambda r: r["period_end"]):
            spent += r["spent_fen"]
            disbursed = sum(p["amount_fen"] for p in payments.get(pid, []) if p["paid_on"] <= r["period_end"])
            if spent > disbursed:
                problems.append(((pid, r["period_end"]), Problem(
                    r["_file"], r["_line"], f"{pid}/{r['period_end'].isoformat()}", "spent", money_cell(r["spent_fen"]),
                    "spent_above_disbursed", {"period_end": r["period_end"].isoformat(), "spent": yuan(spent),
                                              "disbursed": yuan(disbursed)})))
    return problems


def apply_ledger(tranches: list[dict], ledger: list[dict]) -> list[dict]:
    paid = {(p["proposal_id"], p["kind"]): p for p in ledger}
    out = []
    for t in tranches:
        p = paid.get((t["proposal_id"], t["kind"]))
        if p is not None:
            t = {**t, "status": "paid", "reason": "paid", "detail": {"paid_on": p["paid_on"].isoformat(), "by": p["paid_by"]}}
        out.append({**t, "detail": json.dumps(t["detail"], sort_keys=True, ensure_ascii=False)})
    return out


def incentive_band(cfg: CycleConfig, combined_centi: int) -> str:
    if combined_centi < int(cfg.tracking.pass_mark * 100):
        return "fail"
    if combined_centi >= int(cfg.incentives.excellent * 100):
        return "excellent"
    if combined_centi >= int(cfg.incentives.good * 100):
        return "good"
    return "pass"


def incentives_for(cfg: CycleConfig, evaluations: list[dict], projects: dict[str, dict]) -> list[dict]:
    """The four incentives (四激励) from scored final evaluations."""
    rows = []
    inc = cfg.incentives
    for e in evaluations:
        if e["phase"] != "final" or e["combined_centi"] is None:
            continue
        band = incentive_band(cfg, e["combined_centi"])
        bonus = {"excellent": inc.excellent_bonus, "good": inc.good_bonus}.get(band, Decimal(0))
        measures = {"excellent": ["commendation"], "good": [], "pass": [],
                    "fail": ["warning", "withhold"] + (["barred"] if inc.bar_failed else [])}[band]
        if bonus > 0:
            measures.append("next_cycle_bonus")
        rows.append({"proposal_id": e["proposal_id"], "credit_code": projects[e["proposal_id"]]["credit_code"],
                     "band": band, "combined_centi": e["combined_centi"], "measures": ";".join(measures),
                     "bonus_centi": int(bonus * 100), "barred": band == "fail" and inc.bar_failed})
    return rows


def track(cfg: CycleConfig, as_of: dt.date, window: tuple[dt.date, dt.date, dt.date], projects: list[dict],
          known: set[str], files: TrackingFiles, ledger: list[dict], cli_objections: list[dict]) -> TrackResult:
    """The whole tracking state as of `as_of`. `projects` are the funded proposals (proposal
    fields plus awarded_fen); `ledger` the payments already recorded."""
    by_id = {p["proposal_id"]: p for p in projects}
    objections, problems = validate_objections(files.objections, set(by_id), window, {o["objection_id"] for o in cli_objections})
    agreements = make_agreements(projects, cli_objections + objections, window[2], as_of)
    agreement_of = {a["proposal_id"]: a for a in agreements}
    signed = {a["proposal_id"] for a in agreements if a["status"] == "signed"}
    candidates, progress_problems, progress_in = validate_progress(files.progress, by_id, agreement_of, known, as_of)
    sheets, pending, evaluation_problems, evaluations_in = validate_evaluations(files.evaluations, by_id, agreement_of,
                                                                                known, as_of)
    excluded: set = set()
    # Spending checks need the ledger, payments need passed evaluations, evaluations need the
    # accepted reports' satisfaction: iterate to the fixed point (dates make it settle fast).
    for _ in range(len(candidates) + 2):
        accepted = [r for r in candidates if (r["proposal_id"], r["period_end"]) not in excluded]
        evaluations = combine_evaluations(cfg, sheets, accepted)
        conditions = schedule_tranches(cfg, agreements, evaluations, as_of)
        new_payments, payment_problems, payments_in = import_payments(files.payments, conditions, ledger, as_of, signed)
        spending = check_spending(candidates, ledger + new_payments)
        now = {key for key, _ in spending}
        if now == excluded:
            break
        excluded = now
    all_ledger = sorted(ledger + new_payments, key=lambda p: (p["proposal_id"], KIND_ORDER.index(p["kind"])))
    tranches = apply_ledger(conditions, all_ledger)
    progress = [{k: v for k, v in r.items() if not k.startswith("_")} | {"source_file": r["_file"], "source_row": r["_line"]}
                for r in accepted]
    problems += progress_problems + evaluation_problems + payment_problems + [p for _, p in spending]
    rows_in = {"objections": files.objections.rows_in if files.objections else 0, "payments": payments_in,
               "progress": progress_in, "evaluations": evaluations_in}
    return TrackResult(objections, agreements, tranches, new_payments, all_ledger, progress, evaluations,
                       incentives_for(cfg, evaluations, by_id), problems, rows_in, pending)


# ---------------------------------------------------------------- texts

def reason_text(rule: str, params: dict | str | None, lang: str) -> str:
    """A tranche or project-status reason in the asked language."""
    params = json.loads(params) if isinstance(params, str) else dict(params or {})
    if "phase" in params:
        params["phase"] = label(PHASE_LABELS, params["phase"], lang)
    return render(rule, params, lang)


def measures_text(codes: str, bonus_centi: int, lang: str) -> str:
    parts = [label(MEASURES, c, lang).format(bonus=centi_text(bonus_centi)) for c in codes.split(";") if c]
    return ("；" if lang != "en" else "; ").join(parts)


# ---------------------------------------------------------------- output files

TRANCHES_HEADER = ["proposal_id", "tranche", "seq", "amount", "status", "due_on", "paid_on", "paid_by", "reason"]
LEDGER_HEADER = ["proposal_id", "tranche", "amount", "paid_on", "by", "reference", "source"]
EVALUATIONS_HEADER = ["proposal_id", "phase", "evaluator", "evaluated_on", "expert_score", "satisfaction",
                      "combined_score", "status"]
PROGRESS_HEADER = ["proposal_id", "period_end", "services", "activities", "beneficiaries", "spent", "satisfaction",
                   "submitted_on", "cumulative_beneficiaries", "cumulative_spent", "disbursed_by_period_end", "source_file",
                   "source_row"]
SHEET_HEADER = ["proposal_id", "phase", "evaluator", "score", "evaluated_on", "comment", "title", "organization",
                "category", "street", "community", "start_on", "end_on", "awarded"]
PROGRESS_TEMPLATE_HEADER = ["proposal_id", "period_end", "services", "activities", "beneficiaries", "spent",
                            "satisfaction", "note", "submitted_on", "title", "start_on", "end_on"]
INCENTIVES_HEADER = ["proposal_id", "credit_code", "organization", "title", "band", "band_label", "final_score",
                     "measures", "measures_text", "next_cycle_bonus", "barred_next_cycle"]


def write_tracking_files(out_dir: Path, result: TrackResult, projects: dict[str, dict], cfg: CycleConfig,
                         as_of: dt.date, lang: str) -> None:
    from fund.tasks.outputs import write_csv, write_text
    from fund.schemas.codes import CATEGORIES

    out = Path(out_dir)
    folder = out / "tracking"
    paid = {(p["proposal_id"], p["kind"]): p for p in result.ledger}
    write_csv(folder / "tranches.csv", TRANCHES_HEADER, [
        [t["proposal_id"], t["kind"], t["seq"], money_cell(t["amount_fen"]), t["status"], _key_text(t["due_on"]),
         _key_text(paid[(t["proposal_id"], t["kind"])]["paid_on"]) if (t["proposal_id"], t["kind"]) in paid else "",
         paid[(t["proposal_id"], t["kind"])]["paid_by"] if (t["proposal_id"], t["kind"]) in paid else "",
         reason_text(t["reason"], t["detail"], lang)]
        for t in sorted(result.tranches, key=lambda t: (t["proposal_id"], t["seq"]))])
    write_csv(folder / "ledger.csv", LEDGER_HEADER, [
        [p["proposal_id"], p["kind"], money_cell(p["amount_fen"]), p["paid_on"].isoformat(), p["paid_by"],
         p.get("reference") or "", p["source"]] for p in result.ledger])
    write_csv(folder / "evaluations.csv", EVALUATIONS_HEADER, [
        [e["proposal_id"], e["phase"], e.get("evaluator") or "", e["evaluated_on"].isoformat(), centi_text(e["expert_centi"]),
         centi_text(e["satisfaction_centi"]), centi_text(e["combined_centi"]), e["status"]] for e in result.evaluations])
    rows, cumulative = [], defaultdict(lambda: [0, 0])
    for r in sorted(result.progress, key=lambda r: (r["proposal_id"], r["period_end"])):
        c = cumulative[r["proposal_id"]]
        c[0] += r["beneficiaries"]
        c[1] += r["spent_fen"]
        disbursed = sum(p["amount_fen"] for p in result.ledger
                        if p["proposal_id"] == r["proposal_id"] and p["paid_on"] <= r["period_end"])
        rows.append([r["proposal_id"], r["period_end"].isoformat(), r["services"], r["activities"], r["beneficiaries"],
                     money_cell(r["spent_fen"]), centi_text(r["satisfaction_centi"]), _key_text(r.get("submitted_on")),
                     c[0], money_cell(c[1]), money_cell(disbursed), r["source_file"], r["source_row"]])
    write_csv(folder / "progress.csv", PROGRESS_HEADER, rows)
    signed = [a for a in result.agreements if a["status"] == "signed"]
    done = {(e["proposal_id"], e["phase"]) for e in result.evaluations}
    sheets = folder / "sheets"
    for phase in ("midterm", "final"):
        sheet_rows = []
        for a in signed:
            p = projects[a["proposal_id"]]
            if (a["proposal_id"], phase) in done:
                continue
            sheet_rows.append([a["proposal_id"], phase, "", "", "", "", p["title"], p.get("organization") or "",
                               CATEGORIES.get(p["category"], p["category"]), p["street"], p["community"],
                               p["start_on"].isoformat(), p["end_on"].isoformat(), money_cell(a["amount_fen"])])
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
            template.append([a["proposal_id"], following.isoformat(), "", "", "", "", "", "", "", p["title"],
                             p["start_on"].isoformat(), p["end_on"].isoformat()])
    write_csv(sheets / "progress_template.csv", PROGRESS_TEMPLATE_HEADER, template)
    write_text(folder / "README.txt", guide_text(cfg))
    write_incentives(out, result.incentives, projects, lang)


def write_incentives(out_dir: Path, incentives: list[dict], projects: dict[str, dict], lang: str) -> None:
    from fund.tasks.outputs import write_csv

    write_csv(Path(out_dir) / "reports" / "incentives.csv", INCENTIVES_HEADER, [
        [i["proposal_id"], i["credit_code"], projects[i["proposal_id"]].get("organization") or "",
         projects[i["proposal_id"]]["title"], i["band"], label(BANDS, i["band"], lang), centi_text(i["combined_centi"]),
         i["measures"], measures_text(i["measures"], i["bonus_centi"], lang), centi_text(i["bonus_centi"]),
         "yes" if i["barred"] else "no"] for i in sorted(incentives, key=lambda i: i["proposal_id"])])


def guide_text(cfg: CycleConfig) -> str:
    t = cfg.tracking
    shares = " / ".join(f"{label(KIND_LABELS, k, 'zh')} {float(v * 100):g}%" for k, v in tranche_shares(cfg).items())
    lines = [
        "项目跟踪说明 / How tracking works", "",
        f"拨付：资助金额按批次拨付（{shares}）：签约款在协议签订后、中期款在中期评估通过后、结项款在结项评估通过后方可拨付。",
        "Tranches: the signing tranche is payable once the agreement is signed, the mid-term one after a passed "
        "mid-term evaluation, the final one after a passed final evaluation.",
        "拨付记录：运行 fund pay，或在周期文件夹放入 payments.csv（proposal_id, tranche, amount, paid_on, by, reference）。",
        "Payments: run fund pay, or put payments.csv in the cycle folder (proposal_id, tranche, amount, paid_on, by, reference).", "",
        f"进度报告：每 {t.report_period_days} 天一期，期末后 {t.report_grace_days} 天内提交，放入周期文件夹的 progress/ 目录（任意文件名）。",
        f"Progress reports: one every {t.report_period_days} days, due {t.report_grace_days} days after the period ends, "
        "into the cycle's progress/ folder (any file name).",
        "每行填写本期数据：proposal_id, period_end（截止日期）, services（服务人次）, activities（活动场次）, "
        "beneficiaries（受益人数）, spent（本期支出，元）, satisfaction（满意度 0–100，可空）, note, submitted_on（提交日期，可空）。",
        "Each row holds one period's own figures; cumulative spending may not exceed the money disbursed by the period end.",
        "sheets/progress_template.csv 列出每个项目下一期的截止日期，可作为填报模板。",
        "sheets/progress_template.csv lists each project's next period end and can be used as the form.", "",
        f"中期/结项评估：第三方评估机构在 sheets/midterm.csv、sheets/final.csv 中填写 score（0–100）和 evaluated_on，"
        f"交回后放入周期文件夹的 evaluations/ 目录。综合得分 = 评分 × {t.expert_weight} + 受益人满意度 × {t.satisfaction_weight}，"
        f"{t.pass_mark} 分合格。",
        f"Evaluations: the evaluator fills score (0–100) and evaluated_on in sheets/midterm.csv or sheets/final.csv and "
        f"returns them into the cycle's evaluations/ folder. Combined = score × {t.expert_weight} + beneficiary "
        f"satisfaction × {t.satisfaction_weight}; pass mark {t.pass_mark}.", "",
        "公示异议：运行 fund objection，或在周期文件夹放入 objections.csv（objection_id, proposal_id, received_on, objector, "
        "content, resolution 待处理/成立/不成立, resolved_on, note）。",
        "Objections: run fund objection, or put objections.csv in the cycle folder.",
    ]
    return "\n".join(lines) + "\n"

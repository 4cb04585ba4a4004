"""Each stage's decision before any work: wait (saying for what), skip (its inputs have not
changed since it last finished), stop (a setting that cannot work), or run (with the hash of
its inputs).

The stage flows take their decision here, and so do the runs with nothing to do (`fund run`
answers those without starting Prefect) and `fund status`: one piece of code for all three.
Nothing here imports Prefect.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from fund.flows.stage import Stage, StageOutcome, StageStop, file_problem_text, hash_inputs, outcome
from fund.schemas.config import load_config
from fund.settings import load_settings
from fund.schemas.tables import Approval, Award, Objection, Organization, Payment, Proposal, ReportSnapshot, StageRun, StageStatus
from fund.tasks.assignment import REVIEWERS
from fund.tasks.audit import load_events
from fund.tasks.intake import BUDGET_LINES, ORGANIZATIONS, PRIOR_INCENTIVES, PROPOSALS
from fund.tasks.letters import email_address, letter_path
from fund.tasks.needs import NEEDS, RESOURCES
from fund.tasks.messages import sentence
from fund.tasks.publicity import notice_period, notice_starts
from fund.tasks.reading import FileProblem, present
from fund.tasks.scoring import RATINGS, score_files
from fund.tasks.seals import differing_outputs, restore_outputs
from fund.tasks.store import engine_for, load_rows
from fund.tasks.tracking import TrackingConfigError, publicity_window, resolve_as_of, tracking_inputs, tranche_shares
from fund.schemas.codes import Outcome, SHANGHAI

STAGES = ("intake", "assignment", "scoring", "allocation", "publication", "tracking", "report")
INTAKE_FILES = (ORGANIZATIONS, PROPOSALS, BUDGET_LINES)
REJECTED = Path("validation") / "rejected.csv"
TRACKING_OUTPUTS = [Path("tracking") / n for n in ("tranches.csv", "ledger.csv", "progress.csv", "evaluations.csv")] + [
    Path("reports") / "incentives.csv"
]
REPORT, STATUS = Path("reports") / "index.html", Path("reports") / "status.csv"


@dataclass
class Plan:
    stage: str
    input_hash: str | None = None  # the stage has work to do, on inputs with this hash
    result: StageOutcome | None = None  # …or it has not: its outcome (skipped / waiting / stopped)
    context: dict = field(default_factory=dict)

    @property
    def runs(self) -> bool:
        return self.result is None


# ------------------------------------------------------------------- input hashes


def intake_hash(stage: Stage) -> str:
    """The intake files, and the needs and resource lists when the cycle has them (a cycle without
    them keeps the hash it always had)."""
    folder = stage.cycle_dir
    lists = [folder / n for n in (NEEDS, RESOURCES) if present(folder / n, n)]
    return hash_inputs(stage.lang, folder / "cycle.toml", *(folder / n for n in (*INTAKE_FILES, PRIOR_INCENTIVES)), *lists)


def assignment_hash(stage: Stage) -> str:
    return hash_inputs(intake_hash(stage), stage.cycle_dir / REVIEWERS)


def scoring_hash(stage: Stage) -> str:
    present(stage.cycle_dir / RATINGS, RATINGS)  # a folder or a broken link there stops the stage
    return hash_inputs(assignment_hash(stage), *score_files(stage.cycle_dir), stage.cycle_dir / RATINGS)


def allocation_hash(awards: list[dict]) -> str:
    """Identifies one allocation decision (what an approval approves)."""
    body = "\n".join(
        f"{a['proposal_id']}|{a['status']}|{a['awarded_fen']}" for a in sorted(awards, key=lambda a: a["proposal_id"])
    )
    return hashlib.sha256(body.encode()).hexdigest()


def db_inputs_digest(db_url: str, cycle_id: str) -> str:
    """What people recorded with `fund pay` / `fund objection` (files are hashed as files)."""
    payments = [p for p in load_rows(db_url, Payment, cycle_id, ("entry",)) if p["source"] == "cli"]
    objections = [o for o in load_rows(db_url, Objection, cycle_id, ("objection_id",)) if o["source"] == "cli"]
    return json.dumps(
        [[{k: v for k, v in p.items() if k != "recorded_at"} for p in payments], objections],
        sort_keys=True,
        default=str,
        ensure_ascii=False,
    )


def tracking_hash(stage: Stage, as_of: dt.date) -> str:
    return hash_inputs(
        stage.lang,
        as_of.isoformat(),
        stage.cycle_dir / "cycle.toml",
        stage.done_hash("publication"),
        *tracking_inputs(stage.cycle_dir),
        db_inputs_digest(stage.db_url, stage.cycle_id),
    )


def report_hash(stage: Stage, as_of: dt.date) -> str:
    runs = sorted(
        (r["stage"], r["input_hash"], r["outcome"])
        for r in load_rows(stage.db_url, StageRun, stage.cycle_id)
        if r["stage"] != "report"
    )
    return hash_inputs(stage.lang, as_of.isoformat(), stage.cycle_dir / "cycle.toml", json.dumps(runs))


# ------------------------------------------------------------------- what is stored


def stage_summary_of(db_url: str, cycle_id: str, name: str) -> dict | None:
    for run in load_rows(db_url, StageRun, cycle_id):
        if run["stage"] == name:
            return json.loads(run["summary"])
    return None


def latest_approval(db_url: str, cycle_id: str) -> dict | None:
    """The latest decision (approved or rejected); rows of runs asking for one are not decisions."""
    rows = [a for a in load_rows(db_url, Approval, cycle_id, ("id",)) if a["decision"] in ("approved", "rejected")]
    return rows[-1] if rows else None


def last_status(stage: Stage) -> StageOutcome | None:
    """What the last run said of this stage (`fund status`, and a stage still waiting for the same)."""
    with engine_for(stage.db_url).connect() as connection:
        row = connection.execute(
            select(StageStatus.outcome, StageStatus.message, StageStatus.waiting_for).where(
                StageStatus.cycle_id == stage.cycle_id, StageStatus.stage == stage.name
            )
        ).first()
    return StageOutcome(stage.name, Outcome(row[0]), row[1], waiting_for=json.loads(row[2] or "{}")) if row else None


def tracking_date(stage: Stage, as_of: str | dt.date | None) -> dt.date:
    try:
        tranche_shares(stage.cfg)
        return resolve_as_of(stage.cfg, as_of)
    except TrackingConfigError as exc:
        raise StageStop(sentence("tracking_setting_not_usable", stage.lang, k=exc.key, p=exc.problem)) from exc


# ------------------------------------------------------------------- the plans


def stops_on_file_problems(planner):
    """A folder, broken link or unreadable file under an input's name stops the stage, naming it."""

    @functools.wraps(planner)
    def plan(stage: Stage, *args, **kwargs) -> Plan:
        try:
            return planner(stage, *args, **kwargs)
        except FileProblem as exc:
            return Plan(stage.name, result=outcome(stage, Outcome.STOPPED, file_problem_text(exc, stage.lang)))

    return plan


@stops_on_file_problems
def plan_intake(stage: Stage) -> Plan:
    lang, folder = stage.lang, stage.cycle_dir
    for optional in (PRIOR_INCENTIVES, NEEDS, RESOURCES):  # optional, but never a folder or a broken link
        present(folder / optional, optional)
    missing = [name for name in INTAKE_FILES if not present(folder / name, name)]
    if missing:
        return Plan(
            stage.name,
            result=outcome(
                stage,
                Outcome.WAITING,
                sentence("intake_files_missing", lang, f=", ".join(missing)),
                waiting_for={"files": missing},
            ),
        )
    input_hash = intake_hash(stage)
    if stage.unchanged(input_hash, [stage.out_dir / REJECTED]):
        return Plan(stage.name, result=outcome(stage, Outcome.SKIPPED, sentence("intake_files_unchanged", lang)))
    return Plan(stage.name, input_hash)


@stops_on_file_problems
def plan_assignment(stage: Stage) -> Plan:
    lang = stage.lang
    if not present(stage.cycle_dir / REVIEWERS, REVIEWERS):
        return Plan(
            stage.name,
            result=outcome(
                stage, "waiting", sentence("waiting_reviewer_list_missing", lang, f=REVIEWERS), waiting_for={"files": [REVIEWERS]}
            ),
        )
    input_hash = assignment_hash(stage)
    if stage.unchanged(input_hash, [stage.out_dir / "review" / "assignments.csv"]):
        return Plan(stage.name, result=outcome(stage, Outcome.SKIPPED, sentence("assignment_unchanged", lang)))
    return Plan(stage.name, input_hash)


@stops_on_file_problems
def plan_scoring(stage: Stage) -> Plan:
    lang = stage.lang
    input_hash = scoring_hash(stage)
    outputs = [stage.out_dir / "evaluation" / "scores.csv"]
    if stage.unchanged(input_hash, outputs):
        return Plan(stage.name, result=outcome(stage, Outcome.SKIPPED, sentence("scores_ratings_unchanged", lang)))
    if stage.unchanged(input_hash, outputs, outcome="waiting"):
        # still waiting for the same people: what for was stored when the stage last ran
        last = last_status(stage)
        waiting = last.waiting_for if last else {}
        if last and last.outcome == Outcome.WAITING and "proposals" in waiting:
            message = waiting_message(waiting["proposals"], waiting["total"], [], lang, unchanged=True)
            return Plan(stage.name, result=outcome(stage, Outcome.WAITING, message, waiting_for=waiting))
    return Plan(stage.name, input_hash)


@stops_on_file_problems
def plan_allocation(stage: Stage) -> Plan:
    lang = stage.lang
    if stage.done_hash("scoring") is None:
        return Plan(stage.name, result=outcome(stage, Outcome.WAITING, sentence("scoring_not_finished_no", lang)))
    input_hash = hash_inputs(scoring_hash(stage), "allocation")
    outputs = [stage.out_dir / "allocation" / n for n in ("allocation.csv", "comparison.csv")]
    if stage.unchanged(input_hash, outputs):
        return Plan(stage.name, result=outcome(stage, Outcome.SKIPPED, sentence("allocation_unchanged", lang)))
    return Plan(stage.name, input_hash)


@stops_on_file_problems
def plan_publication(stage: Stage) -> Plan:
    lang, cfg, cid = stage.lang, stage.cfg, stage.cycle_id
    awards = load_rows(stage.db_url, Award, cid, ("proposal_id",))
    if stage.done_hash("allocation") is None or not awards:
        return Plan(stage.name, result=outcome(stage, Outcome.WAITING, sentence("no_allocation_yet", lang)))
    current = allocation_hash(awards)
    approval = latest_approval(stage.db_url, cid)
    if cfg.allocation.require_approval:
        if approval is None or approval["allocation_hash"] != current:
            return Plan(
                stage.name,
                result=outcome(
                    stage,
                    Outcome.WAITING,
                    sentence("allocation_awaits_approval_check", lang, d=stage.cycle_dir, o=stage.out_dir),
                    {"awaiting": "approval"},
                    waiting_for={"approval": current},
                ),
            )
        if approval["decision"] == "rejected":
            return Plan(
                stage.name,
                result=outcome(
                    stage,
                    Outcome.WAITING,
                    sentence("allocation_was_rejected_nothing", lang, by=approval["by"], reason=approval["reason"] or ""),
                    waiting_for={"rejected": approval["reason"] or ""},
                ),
            )
    first = first_published(stage)
    period = notice_period(cfg, notice_starts(cfg, approved_on(stage.db_url, cid, current), first))
    input_hash = hash_inputs(
        current,
        lang,
        approval["id"] if approval else "",
        stage.done_hash("allocation"),
        stage.cycle_dir / "cycle.toml",
        period.starts.isoformat(),
    )
    context = {"awards": awards, "approval": approval, "period": period, "first_published": first}
    outputs = [stage.out_dir / "allocation" / "publicity.html", *(letter_path(stage.out_dir, a["proposal_id"]) for a in awards)]
    if not stage.unchanged(input_hash, outputs):
        return Plan(stage.name, input_hash, context=context)
    if letters_to_email(stage, awards):
        return Plan(stage.name, input_hash, context=context | {"letters_only": True})
    return Plan(stage.name, result=outcome(stage, Outcome.SKIPPED, sentence("public_notice_unchanged", lang)))


def approved_on(db_url: str, cycle_id: str, allocation: str) -> dt.date | None:
    """The day (Asia/Shanghai) of the latest approval of this allocation, if it was approved."""
    approvals = [
        a
        for a in load_rows(db_url, Approval, cycle_id, ("id",))
        if a["decision"] == "approved" and a["allocation_hash"] == allocation
    ]
    if not approvals:
        return None
    at = dt.datetime.fromisoformat(approvals[-1]["at"].replace("Z", "+00:00"))
    return at.astimezone(SHANGHAI).date()


def first_published(stage: Stage) -> dt.date:
    """The day the notice was first published: stored with the stage, so a rerun never moves it."""
    summary = stage_summary_of(stage.db_url, stage.cycle_id, "publication") or {}
    day = summary.get("first_published") or summary.get("publicity_from")
    return dt.date.fromisoformat(day) if day else today()


def today() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


def letters_to_email(stage: Stage, awards: list[dict]) -> bool:
    """With mail configured, whether a written result letter with an address is not sent yet."""
    if not load_settings().smtp_host:
        return False
    addresses = {o["credit_code"]: email_address(o.get("email")) for o in load_rows(stage.db_url, Organization, stage.cycle_id)}
    proposals = {p["proposal_id"]: p["credit_code"] for p in load_rows(stage.db_url, Proposal, stage.cycle_id)}
    sent = {
        (e["subject"], json.loads(e["detail"]).get("sha256"))
        for e in load_events(stage.db_url, stage.cycle_id)
        if e["action"] == "letter_emailed"
    }
    for award in awards:
        path = letter_path(stage.out_dir, award["proposal_id"])
        if (
            addresses.get(proposals.get(award["proposal_id"]))
            and path.is_file()
            and (award["proposal_id"], hashlib.sha256(path.read_bytes()).hexdigest()) not in sent
        ):
            return True
    return False


@stops_on_file_problems
def plan_tracking(stage: Stage, as_of_text: str | dt.date | None = None) -> Plan:
    lang, cfg = stage.lang, stage.cfg
    try:
        as_of = tracking_date(stage, as_of_text)
    except StageStop as exc:
        return Plan(stage.name, result=outcome(stage, Outcome.STOPPED, str(exc)))
    published = stage_summary_of(stage.db_url, stage.cycle_id, "publication") if stage.done_hash("publication") else None
    if not published or not published.get("publicity_from"):
        return Plan(stage.name, result=outcome(stage, Outcome.WAITING, sentence("funded_list_not_published", lang)))
    window = publicity_window(cfg, dt.date.fromisoformat(published["publicity_from"]))
    if as_of <= window[1]:
        return Plan(
            stage.name,
            result=outcome(
                stage,
                Outcome.WAITING,
                sentence("public_notice_from_today", lang, a=window[0].isoformat(), b=window[1].isoformat(), d=as_of.isoformat()),
                waiting_for={"publicity_until": window[1].isoformat()},
            ),
        )
    input_hash = tracking_hash(stage, as_of)
    if stage.unchanged(input_hash, [stage.out_dir / p for p in TRACKING_OUTPUTS]):
        return Plan(
            stage.name, result=outcome(stage, Outcome.SKIPPED, sentence("tracking_inputs_unchanged", lang, d=as_of.isoformat()))
        )
    return Plan(stage.name, input_hash, context={"as_of": as_of, "window": window})


@stops_on_file_problems
def plan_report(
    stage: Stage,
    as_of_text: str | None = None,
    tracked: dict | BaseException | None = None,
    force: bool = False,
    send: bool = False,
) -> Plan:
    """`tracked`: the outcome of the tracking stage in this run; `send`: the report is to be
    e-mailed (then it is redone until it has been)."""
    lang = stage.lang
    try:
        as_of = tracking_date(stage, as_of_text)
    except StageStop as exc:
        return Plan(stage.name, result=outcome(stage, Outcome.STOPPED, str(exc)))
    if isinstance(tracked, StageOutcome) and tracked.outcome == Outcome.WAITING or stage.done_hash("tracking") is None:
        reason = tracked.message if isinstance(tracked, StageOutcome) else ""
        return Plan(
            stage.name,
            result=outcome(
                stage, Outcome.WAITING, sentence("tracking_has_not_started", lang, r=reason or sentence("no_tracking_data", lang))
            ),
        )
    input_hash = report_hash(stage, as_of)
    snapshots = load_rows(stage.db_url, ReportSnapshot, stage.cycle_id, ("id",))
    emailed = any(s["input_hash"] == input_hash and s["delivery"] == "emailed" for s in snapshots)
    out = stage.out_dir
    if not force and stage.unchanged(input_hash, [out / REPORT, out / STATUS]) and (not send or emailed):
        return Plan(
            stage.name,
            result=outcome(
                stage, Outcome.SKIPPED, sentence("leadership_report_unchanged", lang, d=as_of.isoformat(), p=out / REPORT)
            ),
        )
    return Plan(stage.name, input_hash, context={"as_of": as_of, "snapshots": snapshots})


PLANNERS = {
    "intake": plan_intake,
    "assignment": plan_assignment,
    "scoring": plan_scoring,
    "allocation": plan_allocation,
    "publication": plan_publication,
    "tracking": plan_tracking,
    "report": plan_report,
}


def plan_cycle(cycle_dir: str, out_dir: str, db_url: str | None, lang: str) -> list[Plan]:
    """The plans of the stages a cycle run would reach, in order, up to the first that has
    work to do or ends the run."""
    plans: list[Plan] = []
    tracked = None
    for name in STAGES:
        stage = Stage.open(name, cycle_dir, out_dir, db_url, lang)
        plan = plan_report(stage, tracked=tracked) if name == "report" else PLANNERS[name](stage)
        plans.append(plan)
        if plan.runs or plan.result.ends_run:
            break
        tracked = plan.result if name == "tracking" else tracked
    return plans


def check_outputs(cycle_dir: str, out_dir: str, db_url: str, lang: str, repair: bool) -> list[StageOutcome]:
    """Outputs that differ from what their stage wrote: rewritten from the database and
    recorded in the audit log (`repair`), or only listed. One outcome line, or none."""
    cycle_id = load_config(Path(cycle_dir)).cycle.id
    differences = differing_outputs(db_url, cycle_id, Path(out_dir))
    if not differences:
        return []
    if repair:
        restore_outputs(db_url, cycle_id, Path(out_dir), differences)
    files = "、".join if lang != "en" else ", ".join
    listed = files(
        sentence("changed", lang, p=d.path) if d.found else sentence("deleted", lang, p=d.path) for d in differences[:20]
    )
    listed += " …" if len(differences) > 20 else ""
    message = (
        sentence("restored_changed_or_deleted", lang, n=len(differences), f=listed)
        if repair
        else sentence("output_files_differ_from", lang, n=len(differences), f=listed)
    )
    return [
        StageOutcome(
            "outputs", Outcome.RESTORED if repair else Outcome.CHANGED, message, {"files": [d.path for d in differences]}
        )
    ]


# ------------------------------------------------------------------- what a waiting stage says


def waiting_message(waiting: dict[str, dict], total: int, new: list[dict], lang: str, unchanged: bool = False) -> str:
    """The scoring stage's wait: which reviewers' sheets and which community ratings are missing."""
    sheets: dict[str, list[str]] = defaultdict(list)
    no_rating = []
    for pid, need in sorted(waiting.items()):
        for rid in need.get("reviewers", []):
            sheets[rid].append(pid)
        if need.get("community"):
            no_rating.append(pid)
    lines = [sentence("accepted_proposals_not_fully", lang, w=len(waiting), n=total)]
    if unchanged:
        lines[0] = sentence("no_score_sheet_or", lang) + lines[0]
    third = sorted({a["reviewer_id"] for a in new})
    if new:
        lines.append(sentence("third_reviews_or_conflict", lang, k=len(new), r=", ".join(third)))
    for rid, pids in sorted(sheets.items()):
        shown = ", ".join(pids[:8]) + (" …" if len(pids) > 8 else "")
        lines.append(sentence("waiting_reviewer_score_proposals", lang, r=rid, k=len(pids), p=shown))
    if no_rating:
        shown = ", ".join(no_rating[:12]) + (" …" if len(no_rating) > 12 else "")
        lines.append(sentence("proposals_have_no_community", lang, k=len(no_rating), p=shown))
    return "\n".join(lines)

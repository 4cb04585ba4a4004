"""Stage 7, the leadership report (领导报告): reports/index.html (self-contained: inline CSS
and SVG, no script, no external file; Chinese by default) and reports/status.csv, with the
headline numbers kept in the database so the next report says what changed.

`report_flow` is what the weekly deployment runs (deploy/prefect.yaml,
`fund/flows/report.py:report_flow`) and what `fund report` runs on demand. It first brings the
tracking stage up to date (new progress files, payments, evaluation sheets), then writes
the report and, when FUND_SMTP_HOST is set, e-mails it (FUND_SMTP_PORT, FUND_SMTP_USER,
FUND_SMTP_PASSWORD, FUND_SMTP_FROM, FUND_REPORT_TO; retried by Prefect,
FUND_SMTP_RETRIES / FUND_SMTP_RETRY_DELAY seconds; all in fund.settings). A failure is
summarised from its kind and status code, never from what the server sent back. The report
is written before it is sent: a mail server that cannot be reached leaves the report on disk and ends the run
Failed with the reason, and the next run tries again. As a stage of the daily cycle run
(a subflow of `cycle_flow`) it writes the report but does not e-mail it, unless `email=True`.

Unchanged inputs (same data, same "as of" date) → skipped; `force=True` writes it anyway.
"""

from __future__ import annotations

import datetime as dt
import json
from contextlib import contextmanager, nullcontext
from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from sqlmodel import select

from fund.flows.plans import REPORT, STATUS, plan_report
from fund.flows.needs import needs_context
from fund.flows.stage import (
    DEPLOYED_DATABASE,
    Stage,
    StageOutcome,
    artifact_key,
    guarded,
    outcome,
    record_statuses,
    stage_results,
    stopped_state,
)
from fund.flows.tracking import funded_projects, tracking_flow
from fund.runtime import quiet_stops
from fund.runtime.database import deployed_database
from fund.schemas.config import ConfigError, load_config, parse_config
from fund.schemas.tables import (
    Agreement,
    Cycle,
    Incentive,
    Payment,
    Progress,
    ProjectEvaluation,
    Rejection,
    ReportSnapshot,
    StageRun,
    Tranche,
    utc_now,
)
from fund.settings import SettingsError, load_settings
from fund.tasks.audit import write_head
from fund.tasks.messages import sentence
from fund.tasks.outputs import write_text
from fund.tasks.quality import build_quality_docs
from fund.tasks.mail import EmailProblem, build_email, send_email, smtp_settings
from fund.tasks.report import (
    changes,
    headline,
    headline_lines,
    headline_markdown,
    history_context,
    project_statuses,
    render_html,
    report_context,
    write_status,
)
from fund.tasks.store import CycleBusy, cycle_lock, default_db_url, engine_for, insert_rows, load_rows, transaction
from fund.tasks.writers import STAGE_ORDER
from fund.schemas.codes import Outcome, SHANGHAI


@task(name="email report", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30)
def email_report(subject: str, text: str, html_path: str, attachments: list[tuple[str, str]]) -> str:
    """Send the written report (attachments: (path, file name)); the settings and the password come
    from the environment, never as task parameters."""
    settings = smtp_settings()
    html = Path(html_path).read_text(encoding="utf-8")
    files = [(name, Path(path).read_bytes(), "text/csv" if name.endswith(".csv") else "text/html") for path, name in attachments]
    send_email(settings, build_email(settings, subject, text, html, files))
    return ", ".join(settings.recipients)


quiet_stops.install()  # ordinary stops without a traceback in worker and flow-run logs


@flow(name="report")
def report_flow(
    cycle_dir: str,
    out_dir: str,
    db_url: str | None = None,
    lang: str = "zh",
    as_of: str | None = None,
    force: bool = False,
    email: bool | None = None,
):
    standalone = flow_run.parent_flow_run_id is None
    deployed = None if db_url or not standalone else deployed_database()
    token = DEPLOYED_DATABASE.set(deployed) if deployed else None  # for tracking and Stage.open, not a parameter
    try:
        lock = cycle_lock_for(cycle_dir, out_dir, db_url or deployed) if standalone else nullcontext()
        with lock:
            # in the cycle run, tracking ran just before as a stage of its own
            tracked = (
                tracking_result(tracking_flow(cycle_dir, out_dir, db_url, lang, as_of, return_state=True)) if standalone else None
            )
            stage = Stage.open("report", cycle_dir, out_dir, db_url, lang)
            send = standalone if email is None else email
            state = guarded(stage, lambda: run_report(stage, as_of, force, send, tracked))
            if standalone:  # what fund status says of tracking and the report is this run's
                results = [r for r in (tracked, tracking_result(state)) if isinstance(r, StageOutcome)]
                record_statuses(stage.db_url, stage.cycle_id, results, whole_cycle=False)
                build_quality_docs(str(Path(out_dir) / "quality"))
                write_head(stage.db_url, stage.cycle_id, Path(out_dir))
            return state
    except Busy as exc:
        message = sentence("cycle_being_run_another", lang, o=exc)
        return stopped_state([StageOutcome("report", Outcome.STOPPED, message)])
    finally:
        if token is not None:
            DEPLOYED_DATABASE.reset(token)


class Busy(Exception):
    pass


def tracking_result(state) -> StageOutcome | BaseException:
    """The tracking stage's outcome, or the defect that ended it (the report then says so)."""
    try:
        return stage_results(state)[-1]
    except Exception as error:
        return error


@contextmanager
def cycle_lock_for(cycle_dir: str, out_dir: str, db_url: str | None):
    """The cycle's run lock (one run per output folder at a time): a report run on its own must
    not interleave with a `fund run` of the same cycle (inside the cycle flow it already holds it)."""
    cycle_id = load_config(Path(cycle_dir)).cycle.id
    try:
        with cycle_lock(db_url or default_db_url(Path(out_dir)), cycle_id, Path(out_dir)):
            yield
    except CycleBusy as exc:
        raise Busy(str(exc)) from None


def quality_rows(db_url: str, cycle_id: str) -> list[dict]:
    rows = []
    for run in load_rows(db_url, StageRun, cycle_id):
        if run["stage"] == "report":
            continue
        s = json.loads(run["summary"])
        evaluated, passed = s.get("expectations", 0), s.get("passed", 0)
        rows.append(
            {
                "stage": run["stage"],
                "outcome": run["outcome"],
                "rows_in": s.get("rows_in"),
                "rows_rejected": s.get("rows_rejected"),
                "expectations": evaluated,
                "passed": passed,
                "failed": evaluated - passed,
            }
        )
    return sorted(rows, key=lambda r: STAGE_ORDER.index(r["stage"]) if r["stage"] in STAGE_ORDER else 99)


def cycle_figures(db_url: str, cfg, cid: str, as_of: dt.date) -> tuple[list[dict], list[dict], dict]:
    """Each funded project's status as of `as_of`, the stages' quality rows and the headline
    numbers of one cycle, from its database (the leadership report's and the city overview's)."""
    projects, _ = funded_projects(db_url, cid)
    load = lambda table, *order: load_rows(db_url, table, cid, order)  # noqa: E731
    spending: dict[str, list[dt.date]] = {}
    for r in load(Rejection, "stage", "id"):
        if r["stage"] == "tracking" and r["rule"] == "spent_above_disbursed":
            pid, _, day = r["record_id"].rpartition("/")
            spending.setdefault(pid, []).append(dt.date.fromisoformat(day))
    agreements = load(Agreement, "proposal_id")
    live = {a["proposal_id"] for a in agreements}
    rows = project_statuses(
        cfg,
        as_of,
        [p for p in projects if p["proposal_id"] in live],
        agreements,
        load(Tranche, "proposal_id", "seq"),
        load(Payment, "entry"),
        load(Progress, "proposal_id", "period_end"),
        load(ProjectEvaluation, "proposal_id", "phase"),
        load(Incentive, "proposal_id"),
        spending,
    )
    quality = quality_rows(db_url, cid)
    reconciled = next(
        (
            json.loads(r["summary"])
            for r in load_rows(db_url, StageRun, cid)
            if r["stage"] == "reconciliation" and r["outcome"] == "done"
        ),
        None,
    )
    head = headline(cfg, rows, quality, reconciled, len(load(Payment, "entry")))
    return rows, quality, head


def district_history(db_url: str, cfg, cid: str, as_of: dt.date, head: dict) -> list[dict]:
    """The district's cycles in this database, oldest first, with their headline numbers as of
    `as_of` (this cycle's are `head`): those whose cycle.toml names the same `[cycle] district`.
    Empty unless this cycle names its district and the database holds another of its cycles."""
    district = cfg.cycle.district
    if not district:
        return []
    with engine_for(db_url).connect() as connection:
        stored = connection.execute(select(Cycle.id, Cycle.config_toml)).all()
    cycles = []
    for other_id, text in stored:
        try:
            other = cfg if other_id == cid else parse_config(text)
        except ConfigError:  # a cycle.toml an older release accepted: not part of the trend
            continue
        if other.cycle.district == district:
            figures = head if other_id == cid else cycle_figures(db_url, other, other_id, as_of)[2]
            cycles.append(
                {
                    "id": other_id,
                    "name": other.cycle.name,
                    "opens": other.cycle.opens,
                    "current": other_id == cid,
                    "head": figures,
                }
            )
    return sorted(cycles, key=lambda c: (c["opens"], c["id"])) if len(cycles) > 1 else []


def run_report(stage: Stage, as_of_text: str | None, force: bool, send: bool, tracked) -> StageOutcome:
    lang, cfg, cid = stage.lang, stage.cfg, stage.cycle_id
    try:
        settings = smtp_settings()
        settings_problem = None
    except SettingsError as exc:
        settings, settings_problem = None, exc.text(lang)
    send = send and (settings is not None or settings_problem is not None)
    plan = plan_report(stage, as_of_text, tracked, force, send)
    if not plan.runs:
        return plan.result
    input_hash, as_of, snapshots, out = plan.input_hash, plan.context["as_of"], plan.context["snapshots"], stage.out_dir
    note = None
    if isinstance(tracked, BaseException):
        note = sentence("report_note_tracking_failed", lang, m=f"{type(tracked).__name__}: {tracked}")
    elif isinstance(tracked, StageOutcome) and tracked.outcome == Outcome.STOPPED:
        note = sentence("report_note_tracking_stopped", lang, m=tracked.message)
    stage.step("writing")
    rows, quality, head = cycle_figures(stage.db_url, cfg, cid, as_of)
    baseline = next((s for s in reversed(snapshots) if s["delivery"] == "emailed"), None) if send else None
    baseline = baseline or (snapshots[-1] if snapshots else None)
    delta = changes(head, json.loads(baseline["headline"]) if baseline else None)
    generated = dt.datetime.now(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    context = report_context(
        cfg, as_of, rows, head, delta, quality, baseline["as_of"].isoformat() if baseline else None, generated, lang, note
    )
    context["needs"] = needs_context(stage)
    context["history"] = history_context(district_history(stage.db_url, cfg, cid, as_of, head), lang)
    write_text(out / REPORT, render_html(context))
    write_status(out, rows, lang)
    snapshot = {
        "id": (snapshots[-1]["id"] + 1) if snapshots else 1,
        "at": utc_now(),
        "as_of": as_of,
        "input_hash": input_hash,
        "headline": json.dumps(head, sort_keys=True, ensure_ascii=False),
        "delivery": "not_sent",
    }
    stage.gate(
        "report_snapshot",
        [snapshot],
        ReportSnapshot,
        {
            "disbursed_within_committed": [head["disbursed_fen"] <= head["committed_fen"]],
            "spent_within_disbursed": [head["spent_fen"] <= head["disbursed_fen"]],
            "committed_within_budget": [head["committed_fen"] <= head["budget_fen"]],
            "committed_and_returned_make_the_awards": [
                head["committed_fen"] + head["returned_fen"] == sum(r["awarded_fen"] for r in rows)
            ],
            "every_project_has_a_status": [sum(head[g] for g in ("on_track", "late", "at_risk", "on_hold")) == len(rows)],
        },
    )
    lines = headline_lines(cfg, as_of, head, lang)
    create_markdown_artifact(
        markdown=headline_markdown(cfg, as_of, head, delta, lang),
        key=f"report-headline-{artifact_key(cid)}",
        description=f"leadership report of {cid}, as of {as_of}",
    )
    delivered, problem = deliver(stage, settings, settings_problem, send, lines, as_of)
    snapshot["delivery"] = delivered
    summary = {
        "as_of": as_of.isoformat(),
        "projects": len(rows),
        "delivery": delivered,
        **stage.gate_summary(),
        **{k: head[k] for k in ("committed_fen", "disbursed_fen", "spent_fen", "on_track", "late", "at_risk")},
    }
    with transaction(stage.db_url) as session:
        insert_rows(session, ReportSnapshot, cid, [snapshot])
        stage.record(session, input_hash, "stopped" if problem else "done", summary, tables=(ReportSnapshot,))
    stage.crash_point("stored")
    where = sentence("leadership_report_written", lang, p=out / REPORT)
    body = "\n".join([where, *lines])
    if problem:
        return outcome(stage, Outcome.STOPPED, body + "\n" + sentence("but_could_not_e", lang, e=problem), summary)
    if delivered == "emailed":
        body += "\n" + sentence("e_mailed", lang, to=", ".join(settings.recipients))
    return outcome(stage, Outcome.DONE, body, summary)


def deliver(
    stage: Stage, settings, settings_problem: str | None, send: bool, lines: list[str], as_of: dt.date
) -> tuple[str, str | None]:
    """('emailed' | 'not_sent' | 'failed', problem)."""
    if not send:
        return "not_sent", None
    if settings_problem:
        return "failed", settings_problem
    subject = sentence("status_report", stage.lang, n=stage.cfg.cycle.name, d=as_of.isoformat())
    text = "\n".join(lines) + "\n\n" + sentence("full_report_attached_this", stage.lang)
    try:
        environment = load_settings()
    except SettingsError as exc:
        return "failed", exc.text(stage.lang)
    retrying = email_report.with_options(retries=environment.smtp_retries, retry_delay_seconds=environment.smtp_retry_delay)
    state = retrying(
        subject,
        text,
        str(stage.out_dir / REPORT),
        [
            (str(stage.out_dir / REPORT), f"report-{stage.cycle_id}-{as_of.isoformat()}.html"),
            (str(stage.out_dir / STATUS), f"status-{stage.cycle_id}-{as_of.isoformat()}.csv"),
        ],
        return_state=True,
    )
    if state.is_completed():
        return "emailed", None
    error = state.result(raise_on_failure=False)
    if isinstance(error, EmailProblem):
        message = error.text(stage.lang)
    else:  # not from the mail server (e.g. the written report could not be read back)
        message = type(error).__name__ if isinstance(error, BaseException) else sentence("unknown_error", stage.lang)
    return "failed", message

"""`fund report`, `fund pay`, `fund objection`, `fund reconcile`: the tracking commands.

    fund report CYCLE_DIR --out OUT_DIR [--db URL] [--lang zh|en] [--as-of DATE] [--force] [--email/--no-email]
    fund pay CYCLE_DIR --out OUT_DIR --proposal ID --tranche signing|midterm|final --by NAME [--on DATE] [--amount X] [--ref NO]
    fund pay CYCLE_DIR --out OUT_DIR --reverse REF --by NAME [--on DATE] [--ref NO]
    fund objection CYCLE_DIR --out OUT_DIR --proposal ID --by NAME --text TEXT [--on DATE] [--id ID]
    fund objection CYCLE_DIR --out OUT_DIR --resolve ID --decision upheld|dismissed --by NAME [--note TEXT]
    fund reconcile CYCLE_DIR --out OUT_DIR --statement FILE [--db URL] [--lang zh|en] [--as-of DATE]

`--as-of` (or env FUND_AS_OF, or `[tracking] as_of` in cycle.toml) sets the date tracking is
"as of" (default: today in Asia/Shanghai); `fund pay --on` and `fund objection --on`
default to that date. The commands ask the same rules as the tracking stage
(`fund.tasks.tracking.services`) and only turn their verdict into words and an exit code:
0 done (or already done), 1 refused or stopped (with the reason), 2 bad command line.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from fund.cli.common import CycleDir, DbUrl, Lang, LangOpt, OutDir, console, err, existing_run, fail, load_cycle, with_prefect
from fund.tasks.messages import render, sentence, yuan

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False)


class Decision(str, Enum):
    upheld = "upheld"
    dismissed = "dismissed"


AsOf = Annotated[Optional[str], typer.Option("--as-of", help="the date tracking is 'as of' (YYYY-MM-DD; default today)")]


def _context(cycle_dir: Path, out: Path, db: str | None, lang: str, as_of: str | None = None):
    """(config, database URL, as-of date); exits 2 on a bad cycle.toml or date, 1 when nothing ran yet."""
    from fund.tasks.tracking import TrackingConfigError, resolve_as_of

    cfg = load_cycle(cycle_dir, lang)
    url = existing_run(out, db, lang)
    try:
        day = resolve_as_of(cfg, as_of)
    except TrackingConfigError as exc:
        fail(2, render("cli_bad_as_of", {"key": exc.key, "problem": exc.problem}, lang))
    return cfg, url, day


def _date(text: str | None, default: dt.date, option: str, lang: str) -> dt.date:
    from fund.schemas.cells import CellError, parse_date

    if not text:
        return default
    try:
        return parse_date(text)
    except CellError:
        fail(2, render("cli_bad_date", {"option": option, "value": text}, lang))


def _busy(cycle_id: str, where: str, lang: str):
    from fund.runtime.messages import text

    fail(1, text("cycle_busy", lang, cycle=cycle_id, where=where))


@app.command()
def report(
    cycle_dir: CycleDir,
    out: OutDir,
    db: DbUrl = None,
    lang: LangOpt = Lang.zh,
    as_of: AsOf = None,
    force: Annotated[bool, typer.Option("--force", help="write it even if nothing changed")] = False,
    email: Annotated[
        Optional[bool], typer.Option("--email/--no-email", help="e-mail it (default: when FUND_SMTP_HOST is set)")
    ] = None,
):
    """生成领导报告，配置了邮件时发送 / write the leadership report, e-mail it when SMTP is set."""

    lang_ = lang.value
    _context(cycle_dir, out, db, lang_, as_of)
    from fund.flows.report import report_flow

    from fund.flows.stage import stage_results

    state = with_prefect(lang_, lambda: report_flow(str(cycle_dir), str(out), db, lang_, as_of, force, email, return_state=True))
    try:
        result = stage_results(state)[-1]
    except Exception as error:  # a defect: one paragraph, never a traceback
        err.print(sentence("report_stopped", lang_, e=f"{type(error).__name__}: {error}"), markup=False)
        raise typer.Exit(1)
    target = err if result.failed else console
    target.print(result.message, markup=False)
    raise typer.Exit(1 if result.failed else 0)


@app.command()
def pay(
    cycle_dir: CycleDir,
    out: OutDir,
    by: Annotated[str, typer.Option("--by", help="who pays (name)", show_default=False)],
    proposal: Annotated[Optional[str], typer.Option("--proposal", help="project (proposal id)", show_default=False)] = None,
    tranche: Annotated[
        Optional[str], typer.Option("--tranche", help="signing / midterm / final (签约/中期/结项)", show_default=False)
    ] = None,
    on: Annotated[Optional[str], typer.Option("--on", help="payment date (default: the as-of date)")] = None,
    amount: Annotated[Optional[str], typer.Option("--amount", help="yuan (default: what remains of the tranche)")] = None,
    ref: Annotated[Optional[str], typer.Option("--ref", help="voucher / bank reference of this entry")] = None,
    reverse: Annotated[Optional[str], typer.Option("--reverse", help="reverse (冲正) the entry with this reference")] = None,
    db: DbUrl = None,
    lang: LangOpt = Lang.zh,
    as_of: AsOf = None,
):
    """记录一笔拨付（可分笔拨付）或冲正 / record a payment of a tranche (partial ones add up), or reverse one."""
    from fund.schemas.cells import CellError, parse_vocab
    from fund.tasks.store import CycleBusy
    from fund.tasks.tracking import EntryRequest, record_entry
    from fund.tasks.tracking_messages import KIND_LABELS, TRANCHE_STATUS, label

    lang_ = lang.value
    cfg, url, today = _context(cycle_dir, out, db, lang_, as_of)
    try:
        kind = parse_vocab(tranche, "tranche") if tranche else None
    except CellError:
        kind = None
    if not by.strip() or (tranche and kind is None) or (not reverse and (not proposal or kind is None)):
        fail(2, render("cli_pay_usage", {}, lang_))
    paid_on = _date(on, today, "--on", lang_)
    request = EntryRequest(
        proposal,
        kind,
        _fen(amount, lang_) if amount is not None else None,
        paid_on,
        by.strip(),
        ref.strip() if ref and ref.strip() else None,
        reverse.strip() if reverse else None,
        "cli",
    )
    try:
        verdict = record_entry(url, cfg.cycle.id, out, request, today)
    except CycleBusy as busy:
        _busy(cfg.cycle.id, str(busy), lang_)
    entry = verdict.record or verdict.known
    if entry is None:
        why = render(verdict.rule, verdict.params, lang_)
        if reverse:
            fail(1, render("cli_reversal_refused", {"reference": reverse, "why": why}, lang_))
        fail(1, render("cli_entry_refused", {"proposal": proposal, "why": why}, lang_))
    said = {
        "proposal": entry["proposal_id"],
        "tranche": entry["kind"],
        "tranche_zh": label(KIND_LABELS, entry["kind"], "zh"),
        "amount": yuan(entry["amount_fen"]),
        "paid_on": entry["paid_on"].isoformat(),
        "by": entry["paid_by"],
        "original": entry.get("reverses") or "",
        "reference": render("cli_reference", {"reference": entry["reference"]}, lang_) if entry.get("reference") else "",
    }
    if verdict.known is not None:
        console.print(render("cli_entry_known", said, lang_), markup=False)
        return
    status = verdict.params["status"]
    said |= {"state": label(TRANCHE_STATUS, status, "zh"), "state_en": label(TRANCHE_STATUS, status, "en")}
    console.print(render("cli_reversal_recorded" if entry.get("reverses") else "cli_payment_recorded", said, lang_), markup=False)


def _fen(text: str, lang: str) -> int:
    from fund.schemas.cells import CellError, parse_money

    try:
        return parse_money(text)
    except CellError:
        fail(2, render("cli_bad_amount", {"value": text}, lang))


@app.command()
def objection(
    cycle_dir: CycleDir,
    out: OutDir,
    by: Annotated[str, typer.Option("--by", help="who records it (name)", show_default=False)],
    proposal: Annotated[Optional[str], typer.Option("--proposal", help="project objected to")] = None,
    text: Annotated[Optional[str], typer.Option("--text", help="the objection")] = None,
    on: Annotated[Optional[str], typer.Option("--on", help="date received / resolved (default: the as-of date)")] = None,
    id_: Annotated[Optional[str], typer.Option("--id", help="objection number (default: CLI-001, …)")] = None,
    resolve: Annotated[Optional[str], typer.Option("--resolve", help="resolve this objection id")] = None,
    decision: Annotated[Optional[Decision], typer.Option("--decision", help="upheld or dismissed")] = None,
    note: Annotated[Optional[str], typer.Option("--note", help="how it was resolved")] = None,
    db: DbUrl = None,
    lang: LangOpt = Lang.zh,
    as_of: AsOf = None,
):
    """登记或处理公示异议 / record an objection to the public notice, or resolve one."""
    from fund.schemas.codes import RESOLUTIONS
    from fund.tasks.store import CycleBusy
    from fund.tasks.tracking import record_objection, resolve_objection

    lang_ = lang.value
    cfg, url, today = _context(cycle_dir, out, db, lang_, as_of)
    day = _date(on, today, "--on", lang_)
    if resolve and decision is None:
        fail(2, render("cli_resolve_usage", {}, lang_))
    if not resolve and (not proposal or not text or not by.strip()):
        fail(2, render("cli_objection_usage", {}, lang_))
    try:
        if resolve:
            verdict = resolve_objection(url, cfg.cycle.id, out, resolve, decision.value, by.strip(), day, note)
        else:
            verdict = record_objection(url, cfg, out, proposal, by.strip(), text, day, id_)
    except CycleBusy as busy:
        _busy(cfg.cycle.id, str(busy), lang_)
    if verdict.record is None:
        fail(
            1,
            render(
                "cli_objection_refused",
                {"proposal": proposal or resolve, "why": render(verdict.rule, verdict.params, lang_)},
                lang_,
            ),
        )
    found = verdict.record
    if resolve:
        console.print(
            render(
                "cli_objection_resolved",
                {
                    "objection_id": resolve,
                    "proposal": found["proposal_id"],
                    "decision": decision.value if lang_ == "en" else RESOLUTIONS[decision.value],
                },
                lang_,
            ),
            markup=False,
        )
        return
    console.print(
        render("cli_objection_recorded", {"objection_id": found["objection_id"], "proposal": proposal}, lang_), markup=False
    )


@app.command()
def reconcile(
    cycle_dir: CycleDir,
    out: OutDir,
    statement: Annotated[
        Path, typer.Option("--statement", help="the finance office's export (CSV or .xlsx)", show_default=False)
    ],
    db: DbUrl = None,
    lang: LangOpt = Lang.zh,
    as_of: AsOf = None,
):
    """与财务流水对账 / reconcile the ledger with the finance office's statement."""
    lang_ = lang.value
    _context(cycle_dir, out, db, lang_, as_of)
    if not statement.exists() and not statement.is_symlink():
        fail(1, render("cli_no_statement", {"path": statement}, lang_))

    def run() -> list:
        from fund.flows.reconciliation import reconciliation_flow
        from fund.flows.stage import stage_results

        return stage_results(
            reconciliation_flow(str(cycle_dir), str(out), str(statement.resolve()), db, lang_, as_of, return_state=True)
        )

    results = with_prefect(lang_, run)
    stopped = results[0].failed
    for result in results:
        (err if result.failed else console).print(result.message, markup=False)
    raise typer.Exit(1 if stopped else 0)

"""`fund report`, `fund pay`, `fund objection`: the tracking commands.

    fund report CYCLE_DIR --out OUT_DIR [--db URL] [--lang zh|en] [--as-of DATE] [--force] [--email/--no-email]
    fund pay CYCLE_DIR --out OUT_DIR --proposal ID --tranche signing|midterm|final --by NAME [--on DATE] [--amount X] [--ref NO]
    fund objection CYCLE_DIR --out OUT_DIR --proposal ID --by NAME --text TEXT [--on DATE] [--id ID]
    fund objection CYCLE_DIR --out OUT_DIR --resolve ID --decision upheld|dismissed --by NAME [--note TEXT]

`--as-of` (or env FUND_AS_OF, or `[tracking] as_of` in cycle.toml) sets the date tracking is
"as of" (default: today in Asia/Shanghai); `fund pay --on` and `fund objection --on`
default to that date. Exit status as for `fund run`: 0 done, 1 refused or stopped (with the
reason), 2 bad command line.
"""
from __future__ import annotations

import datetime as dt
import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from fund.cli.common import CycleDir, DbUrl, Lang, LangOpt, OutDir, console, err, existing_run, fail, load_cycle
from fund.tasks.messages import say

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
        fail(2, say(lang, "日期有误（{k}）：{p}", "bad date ({k}): {p}", k=exc.key, p=exc.problem))
    return cfg, url, day


def _date(text: str | None, default: dt.date, option: str, lang: str) -> dt.date:
    from fund.tasks.reading import CellError, parse_date

    if not text:
        return default
    try:
        return parse_date(text)
    except CellError:
        fail(2, say(lang, "{o} 应为日期（YYYY-MM-DD）：{v}", "{o} takes a date (YYYY-MM-DD): {v}", o=option, v=text))


@app.command()
def report(cycle_dir: CycleDir, out: OutDir, db: DbUrl = None, lang: LangOpt = Lang.zh, as_of: AsOf = None,
           force: Annotated[bool, typer.Option("--force", help="write it even if nothing changed")] = False,
           email: Annotated[Optional[bool], typer.Option("--email/--no-email", help="e-mail it (default: when FUND_SMTP_HOST is set)")] = None):
    """生成领导报告，配置了邮件时发送 / write the leadership report, e-mail it when SMTP is set."""

    lang_ = lang.value
    _context(cycle_dir, out, db, lang_, as_of)
    from fund.flows.report import report_flow

    from fund.flows.stage import stage_results

    state = report_flow(str(cycle_dir), str(out), db, lang_, as_of, force, email, return_state=True)
    try:
        result = stage_results(state)[-1]
    except Exception as error:  # a defect: one paragraph, never a traceback
        err.print(say(lang_, "报告中断：{e}", "the report stopped: {e}", e=f"{type(error).__name__}: {error}"), markup=False)
        raise typer.Exit(1)
    target = err if result["outcome"] in ("stopped", "error") else console
    target.print(result["message"], markup=False)
    raise typer.Exit(1 if result["outcome"] in ("stopped", "error") else 0)


@app.command()
def pay(cycle_dir: CycleDir, out: OutDir,
        proposal: Annotated[str, typer.Option("--proposal", help="project (proposal id)", show_default=False)],
        tranche: Annotated[str, typer.Option("--tranche", help="signing / midterm / final (签约/中期/结项)", show_default=False)],
        by: Annotated[str, typer.Option("--by", help="who pays (name)", show_default=False)],
        on: Annotated[Optional[str], typer.Option("--on", help="payment date (default: the as-of date)")] = None,
        amount: Annotated[Optional[str], typer.Option("--amount", help="amount in yuan (default: the tranche)")] = None,
        ref: Annotated[Optional[str], typer.Option("--ref", help="voucher / bank reference")] = None,
        db: DbUrl = None, lang: LangOpt = Lang.zh, as_of: AsOf = None):
    """记录一笔拨付（每个批次只拨付一次）/ record the payment of a tranche (each tranche is paid once)."""
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    from fund.schemas.codes import TrancheStatus
    from fund.schemas.tables import Payment, Tranche, utc_now
    from fund.tasks.messages import yuan
    from fund.tasks.reading import CellError, parse_vocab
    from fund.tasks.audit import audit, write_head
    from fund.tasks.store import load_rows, transaction
    from fund.tasks.tracking import reason_text
    from fund.tasks.tracking_messages import KIND_LABELS, label

    lang_ = lang.value
    cfg, url, today = _context(cycle_dir, out, db, lang_, as_of)
    try:
        kind = parse_vocab(tranche, "tranche")
    except CellError:
        kind = None
    if kind is None or not by.strip():
        fail(2, say(lang_, "--tranche 应为 signing/midterm/final（签约/中期/结项），--by 填经办人",
                      "--tranche takes signing, midterm or final; --by names who pays"))
    paid_on = _date(on, today, "--on", lang_)
    cid = cfg.cycle.id
    rows = {(t["proposal_id"], t["kind"]): t for t in load_rows(url, Tranche, cid)}
    name = label(KIND_LABELS, kind, lang_)
    t = rows.get((proposal, kind))
    if t is None:
        fail(1, say(lang_, "{p} 没有{k}款：请先运行 fund run（公示期满后签订协议才有拨付计划）",
                      "{p} has no {k} tranche: run fund run first (tranches exist once the notice has ended)",
                      p=proposal, k=name))
    ledger = {(p["proposal_id"], p["kind"]): p for p in load_rows(url, Payment, cid)}
    before = ledger.get((proposal, kind))
    if before is not None:
        same = (on is None or before["paid_on"] == paid_on) and (amount is None or _fen(amount, lang_) == before["amount_fen"])
        message = say(lang_, "{p} {k}款已于 {d} 拨付（{by}，{a}），不重复记录。", "{p}'s {k} tranche was already paid on {d} "
                       "({by}, {a}); nothing recorded twice.", p=proposal, k=name, d=before["paid_on"].isoformat(),
                       by=before["paid_by"], a=yuan(before["amount_fen"]))
        if same:
            console.print(message, markup=False)
            raise typer.Exit(0)
        fail(1, message)
    if t["status"] != TrancheStatus.DUE:
        fail(1, say(lang_, "{p} {k}款尚不能拨付：{why}", "{p}'s {k} tranche cannot be paid: {why}", p=proposal, k=name,
                      why=reason_text(t["reason"], t["detail"], lang_)))
    if t["due_on"] and paid_on < t["due_on"]:
        fail(1, say(lang_, "拨付日期 {d} 早于拨付条件满足之日 {c}", "payment date {d} is before its condition held ({c})",
                      d=paid_on.isoformat(), c=t["due_on"].isoformat()))
    if paid_on > today:
        fail(1, say(lang_, "拨付日期 {d} 晚于今天（{t}）", "payment date {d} is after today ({t})", d=paid_on.isoformat(),
                      t=today.isoformat()))
    fen = t["amount_fen"] if amount is None else _fen(amount, lang_)
    if fen != t["amount_fen"]:
        fail(1, say(lang_, "拨付金额 {a} 与该批次应拨金额 {e} 不一致", "paid {a}, but the tranche is {e}", a=yuan(fen),
                      e=yuan(t["amount_fen"])))
    row = {"cycle_id": cid, "proposal_id": proposal, "kind": kind, "amount_fen": fen, "paid_on": paid_on,
           "paid_by": by.strip(), "reference": ref, "source": "cli", "recorded_at": utc_now()}
    try:
        with transaction(url) as session:
            session.add(Payment(**row))
            session.execute(update(Tranche).where(Tranche.cycle_id == cid, Tranche.proposal_id == proposal,
                                                  Tranche.kind == kind)
                            .values(status=TrancheStatus.PAID, reason="paid",
                                    detail=json.dumps({"by": by.strip(), "paid_on": paid_on.isoformat()}, ensure_ascii=False)))
            audit(session, cid, by.strip(), "payment", f"{proposal}/{kind}",
                  {"amount_fen": fen, "paid_on": paid_on, "source": "cli", "reference": ref}, tables=(Payment, Tranche))
        write_head(url, cid, out)
    except IntegrityError:
        fail(1, say(lang_, "{p} {k}款刚刚已被记录拨付，未重复记录。", "{p}'s {k} tranche was just recorded by someone else; "
                      "nothing recorded twice.", p=proposal, k=name))
    console.print(say(lang_, "已记录拨付：{p} {k}款 {a}（{d}，经办人 {by}）。运行 fund report 更新报告。",
                       "payment recorded: {p} {k} tranche {a} ({d}, by {by}). Run fund report to update the report.",
                       p=proposal, k=name, a=yuan(fen), d=paid_on.isoformat(), by=by.strip()), markup=False)


def _fen(text: str, lang: str) -> int:
    from fund.tasks.reading import CellError, parse_money

    try:
        return parse_money(text)
    except CellError:
        fail(2, say(lang, "--amount 应为金额（元，最多两位小数）：{v}", "--amount takes yuan with at most two decimals: {v}", v=text))


@app.command()
def objection(cycle_dir: CycleDir, out: OutDir,
              by: Annotated[str, typer.Option("--by", help="who records it (name)", show_default=False)],
              proposal: Annotated[Optional[str], typer.Option("--proposal", help="project objected to")] = None,
              text: Annotated[Optional[str], typer.Option("--text", help="the objection")] = None,
              on: Annotated[Optional[str], typer.Option("--on", help="date received / resolved (default: the as-of date)")] = None,
              id_: Annotated[Optional[str], typer.Option("--id", help="objection number (default: CLI-001, …)")] = None,
              resolve: Annotated[Optional[str], typer.Option("--resolve", help="resolve this objection id")] = None,
              decision: Annotated[Optional[Decision], typer.Option("--decision", help="upheld or dismissed")] = None,
              note: Annotated[Optional[str], typer.Option("--note", help="how it was resolved")] = None,
              db: DbUrl = None, lang: LangOpt = Lang.zh, as_of: AsOf = None):
    """登记或处理公示异议 / record an objection to the public notice, or resolve one."""
    from sqlalchemy import update

    from fund.flows.plans import stage_summary_of
    from fund.schemas.tables import Award, Objection
    from fund.tasks.audit import audit, write_head
    from fund.tasks.store import load_rows, transaction
    from fund.tasks.tracking import publicity_window

    lang_ = lang.value
    cfg, url, today = _context(cycle_dir, out, db, lang_, as_of)
    cid = cfg.cycle.id
    day = _date(on, today, "--on", lang_)
    existing = {o["objection_id"]: o for o in load_rows(url, Objection, cid)}
    if resolve:
        if decision is None:
            fail(2, say(lang_, "--resolve 需要 --decision upheld 或 dismissed", "--resolve needs --decision upheld or dismissed"))
        found = existing.get(resolve)
        if found is None or found["source"] != "cli":
            fail(1, say(lang_, "没有用 fund objection 登记的异议 {i}（objections.csv 中的异议请在文件中处理）",
                          "no objection {i} recorded with fund objection (objections in objections.csv are resolved in the file)",
                          i=resolve))
        with transaction(url) as session:
            session.execute(update(Objection).where(Objection.cycle_id == cid, Objection.objection_id == resolve)
                            .values(resolution=decision.value, resolved_on=day, note=note))
            audit(session, cid, by.strip(), f"objection_{decision.value}", resolve, {"proposal_id": found["proposal_id"],
                                                                                     "note": note}, tables=(Objection,))
        write_head(url, cid, out)
        console.print(say(lang_, "异议 {i}（{p}）已处理：{d}。运行 fund run 更新协议与拨付。",
                           "objection {i} ({p}) resolved: {d}. Run fund run to update agreements and tranches.",
                           i=resolve, p=found["proposal_id"], d={"upheld": "成立", "dismissed": "不成立"}[decision.value]
                           if lang_ != "en" else decision.value), markup=False)
        return
    if not proposal or not text or not by.strip():
        fail(2, say(lang_, "登记异议需要 --proposal、--text 和 --by", "recording an objection needs --proposal, --text and --by"))
    funded = {a["proposal_id"] for a in load_rows(url, Award, cid) if a["status"] == "funded"}
    if proposal not in funded:
        fail(1, say(lang_, "{p} 不在公示的拟资助名单中", "{p} is not on the public notice", p=proposal))
    published = stage_summary_of(url, cid, "publication")
    if not published or not published.get("publicity_from"):
        fail(1, say(lang_, "尚未公示，无法登记异议", "nothing is published yet; no objection can be recorded"))
    start, end, _ = publicity_window(cfg, dt.date.fromisoformat(published["publicity_from"]))
    if not start <= day <= end:
        fail(1, say(lang_, "收到日期 {d} 不在公示期（{a} 至 {b}）内", "received on {d}, outside the notice period ({a} to {b})",
                      d=day.isoformat(), a=start.isoformat(), b=end.isoformat()))
    oid = id_ or next(f"CLI-{n:03d}" for n in range(1, 10_000) if f"CLI-{n:03d}" not in existing)
    if oid in existing:
        fail(1, say(lang_, "异议编号 {i} 已存在", "objection {i} already exists", i=oid))
    with transaction(url) as session:
        session.add(Objection(cycle_id=cid, objection_id=oid, proposal_id=proposal, received_on=day, objector=by.strip(),
                              content=text, resolution="pending", source="cli"))
        audit(session, cid, by.strip(), "objection", oid, {"proposal_id": proposal, "content": text}, tables=(Objection,))
    write_head(url, cid, out)
    console.print(say(lang_, "已登记异议 {i}（{p}），待处理；处理前该项目暂缓签约。处理：fund objection … --resolve {i} --decision upheld|dismissed --by 姓名",
                       "objection {i} ({p}) recorded as pending; the project's signing waits. Resolve it with "
                       "fund objection … --resolve {i} --decision upheld|dismissed --by NAME", i=oid, p=proposal), markup=False)

"""`fund audit verify|show`: the audit trail of a cycle."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from fund.cli.common import CycleDir, DbUrl, Lang, LangOpt, OutDir, console, existing_run, fail, load_cycle
from fund.tasks.messages import say

app = typer.Typer(help="审计记录 / the audit trail", no_args_is_help=True)




def _audit_url(cycle_dir: Path, out: Path, db: str | None, lang: str):
    cfg = load_cycle(cycle_dir, lang)
    return cfg.cycle.id, existing_run(out, db, lang)


@app.command("verify")
def audit_verify(cycle_dir: CycleDir, out: OutDir, db: DbUrl = None, lang: LangOpt = Lang.zh):
    """检查审计链是否完整 / check that the hash chain of the audit trail is intact."""
    from fund.tasks.store import load_audit, verify_audit

    cycle_id, url = _audit_url(cycle_dir, out, db, lang.value)
    broken = verify_audit(url, cycle_id)
    count = len(load_audit(url, cycle_id))
    if broken:
        fail(1, say(lang.value, "审计链被改动：第 {ids} 条记录与哈希链不符（共 {n} 条）",
                      "the audit trail was altered: events {ids} do not match the hash chain ({n} events)",
                      ids=", ".join(map(str, broken)), n=count))
    console.print(say(lang.value, "审计链完整：{n} 条记录", "audit trail intact: {n} events", n=count), markup=False)


@app.command("show")
def audit_show(cycle_dir: CycleDir, out: OutDir,
               proposal: Annotated[Optional[str], typer.Option(help="only this proposal's history")] = None,
               db: DbUrl = None, lang: LangOpt = Lang.zh):
    """列出审计记录 / list the audit trail (or one proposal's history)."""
    from fund.tasks.store import load_audit

    cycle_id, url = _audit_url(cycle_dir, out, db, lang.value)
    for event in load_audit(url, cycle_id):
        if proposal and proposal != event["subject"] and proposal not in event["detail"]:
            continue
        console.print(f"{event['at']}  {event['actor']}  {event['action']}  {event['subject']}  {event['detail']}",
                      markup=False)

"""`fund audit verify|show`: the audit trail of a cycle, and whether the data still matches it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from fund.cli.common import CycleDir, DbUrl, Lang, LangOpt, OutDir, console, err, existing_run, fail, load_cycle
from fund.tasks.messages import sentence

app = typer.Typer(help="审计记录 / the audit trail", no_args_is_help=True)

FINDINGS = {
    "chain": (
        "审计链被改动：第 {ids} 条记录与哈希链不符（共 {count} 条）",
        "the audit trail was altered: events {ids} do not match the hash chain ({count} in all)",
    ),
    "unkeyed": (
        "审计链的所有记录都与 FUND_AUDIT_KEY 不符：链被重写，或该周期开始时未设置密钥",
        "no event of the audit trail matches FUND_AUDIT_KEY: the chain was rewritten, or the cycle began without the key",
    ),
    "truncated": (
        "审计链被截短：输出文件夹中保存的链头为第 {kept} 条，数据库中只有 {found} 条记录",
        "the audit trail was cut short: the head kept in the output folder is event {kept}, the database holds {found} events",
    ),
    "rewritten": (
        "审计链被重写：第 {kept} 条记录与输出文件夹中保存的链头不符",
        "the audit trail was rewritten: event {kept} is not the head kept in the output folder",
    ),
    "head_unreadable": (
        "审计链头文件 {path} 无法读取（被改动？）",
        "the kept head of the audit trail, {path}, cannot be read (altered?)",
    ),
    "table": (
        "表 {table} 自第 {event} 条审计记录以来被改动，且其逐条摘要也被改写",
        "table {table} changed after audit event {event}, and its record digests were rewritten too",
    ),
    "record": (
        "表 {table} 自第 {event} 条审计记录以来有 {count} 条记录被{how}：{records}",
        "table {table}: {count} records {how} after audit event {event}: {records}",
    ),
    "stored_output": (
        "数据库中保存的输出文件 {path} 与其阶段记录的哈希不符",
        "the stored copy of output {path} does not match the hash its stage recorded",
    ),
    "output": (
        "输出文件 {path} 与生成时不一致（{how}）；fund run 将从数据库恢复",
        "output {path} differs from what was written ({how}); fund run restores it from the database",
    ),
}
HOW = {"changed": ("改动", "changed"), "added": ("添加", "added"), "removed": ("删除", "removed")}


def finding_text(kind: str, params: dict, lang: str) -> str:
    params = dict(params)
    if "how" in params:
        params["how"] = HOW.get(params["how"], (params["how"],) * 2)[1 if lang == "en" else 0]
    for key in ("ids", "records"):
        if key in params:
            params[key] = ", ".join(map(str, params[key])) + (" …" if params.get("count", 0) > len(params[key]) else "")
    zh, en = FINDINGS[kind]
    return (en if lang == "en" else zh).format(**params)


def _audit_url(cycle_dir: Path, out: Path, db: str | None, lang: str):
    cfg = load_cycle(cycle_dir, lang)
    return cfg.cycle.id, existing_run(out, db, lang)


@app.command("verify")
def audit_verify(cycle_dir: CycleDir, out: OutDir, db: DbUrl = None, lang: LangOpt = Lang.zh):
    """检查审计链与数据是否一致 / check the audit chain, and that the data still matches it."""
    from fund.tasks.audit import fingerprint, head, verify
    from fund.tasks.seals import differing_outputs

    lang_ = lang.value
    cycle_id, url = _audit_url(cycle_dir, out, db, lang_)
    findings = [(f.kind, f.params) for f in verify(url, cycle_id, out)]
    findings += [
        ("output", {"path": d.path, "how": "changed" if d.found else "removed"}) for d in differing_outputs(url, cycle_id, out)
    ]
    current = head(url, cycle_id)
    if findings:
        for kind, params in findings:
            err.print("✗ " + finding_text(kind, params, lang_), markup=False)
        fail(1, sentence("audit_failed_findings_audit", lang_, n=len(findings), e=current["events"]))
    console.print(sentence("audit_trail_intact_data", lang_, n=current["events"], f=fingerprint(current)), markup=False)


@app.command("show")
def audit_show(
    cycle_dir: CycleDir,
    out: OutDir,
    proposal: Annotated[Optional[str], typer.Option(help="only this proposal's history")] = None,
    db: DbUrl = None,
    lang: LangOpt = Lang.zh,
):
    """列出审计记录 / list the audit trail (or one proposal's history)."""
    from fund.schemas.tables import Proposal
    from fund.tasks.audit import events_about, load_events
    from fund.tasks.store import load_rows

    cycle_id, url = _audit_url(cycle_dir, out, db, lang.value)
    events = load_events(url, cycle_id)
    if proposal:
        if proposal not in {p["proposal_id"] for p in load_rows(url, Proposal, cycle_id)}:
            fail(1, sentence("there_no_proposal_this", lang.value, p=proposal))
        events = events_about(events, proposal)
    for event in events:
        console.print(
            f"{event['id']}  {event['at']}  {event['actor']}  {event['action']}  {event['subject']}  {event['detail']}",
            markup=False,
        )

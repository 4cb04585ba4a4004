"""`fund whatif`: the allocation rerun on stored scores under changed rules. It prints
who enters and who leaves and changes nothing stored or published."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from fund.schemas.config import ConfigError, CycleConfig, apply_overrides
from fund.schemas.tables import Award, Evaluation, Need, Proposal
from fund.tasks.decision import AllocationStopped, candidates_frame, select
from fund.tasks.messages import centi_text, render, sentence, yuan
from fund.tasks.store import default_db_url, load_rows


def what_if(cfg: CycleConfig, overrides: dict, out: Path, db: str | None, lang: str, console: Console, err: Console) -> int:
    try:
        changed = apply_overrides(cfg, overrides)
    except ConfigError as exc:
        err.print(sentence("bad_rule_value", lang, k=exc.key, p=exc.problem), markup=False)
        return 2
    url = db or default_db_url(out)
    if db is None and not (Path(out) / "fund.db").exists():
        err.print(sentence("no_run_found_run", lang, o=out), markup=False)
        return 1
    awards = {a["proposal_id"]: a for a in load_rows(url, Award, cfg.cycle.id)}
    if not awards:
        err.print(sentence("no_allocation_yet_what", lang), markup=False)
        return 1
    proposals = load_rows(url, Proposal, cfg.cycle.id, ("proposal_id",))
    evaluations = {e["proposal_id"]: e for e in load_rows(url, Evaluation, cfg.cycle.id)}
    needs = load_rows(url, Need, cfg.cycle.id, ("need_id",))
    candidates = candidates_frame(proposals, evaluations, int(changed.rules.score_threshold * 100), needs)
    try:
        selection = select(changed, candidates, lang)
    except AllocationStopped as exc:
        err.print(str(exc), markup=False)
        return 1
    before = {pid for pid, a in awards.items() if a["status"] == "funded"}
    after = set(selection.funded)
    requested = {p["proposal_id"]: p["requested_fen"] for p in proposals}
    table = Table(title=sentence("what_if", lang, o=", ".join(f"{k}={v}" for k, v in overrides.items()) or "—"))
    for column in (
        sentence("change", lang),
        sentence("proposal", lang),
        sentence("final_score", lang),
        sentence("requested", lang),
    ):
        table.add_column(column)
    for pid in sorted(after - before):
        table.add_row(sentence("enters", lang), pid, centi_text(evaluations[pid]["final_centi"]), yuan(requested[pid]))
    for pid in sorted(before - after):
        table.add_row(sentence("leaves", lang), pid, centi_text(evaluations[pid]["final_centi"]), yuan(requested[pid]))
    console.print(table)
    total_before = sum(requested[p] for p in before)
    total_after = sum(requested[p] for p in after)
    console.print(
        sentence(
            "now_funded_what_if",
            lang,
            a=len(before),
            x=yuan(total_before),
            b=len(after),
            y=yuan(total_after),
            budget=yuan(changed.budget_fen),
            policy=selection.policy,
        ),
        markup=False,
    )
    if needs:
        urgent = {pid: set(answered) for pid, answered in zip(candidates["proposal_id"], candidates["needs"])}
        answerable = set().union(*urgent.values())
        console.print(
            render(
                "whatif_urgent",
                {"n": len(answerable), "before": len(covered(before, urgent)), "after": len(covered(after, urgent))},
                lang,
            ),
            markup=False,
        )
    return 0


def covered(funded: set[str], urgent: dict[str, set[str]]) -> set[str]:
    """The urgent needs a funded set answers (of those a fundable proposal answers)."""
    return set().union(*(urgent.get(pid, set()) for pid in funded))

"""What the administrator does next, in their terms, from where the run stopped."""

from __future__ import annotations

from pathlib import Path

from fund.flows.stage import StageOutcome
from fund.schemas.codes import Outcome
from fund.tasks.messages import sentence


def next_steps(results: list[StageOutcome], cycle_dir: Path, out: Path, db_url: str | None, lang: str) -> list[str]:
    if not results:
        return []
    last = results[-1]
    stage, kind, waiting = last.stage, last.outcome, last.waiting_for
    again = sentence("then_run_again_fund", lang, c=cycle_dir, o=out)
    if last.failed:
        if kind == Outcome.ERROR:
            return [sentence("next_this_internal_error", lang, log=last.summary.get("log", ""))]
        return [sentence("next_fix_what_described", lang, c=cycle_dir, o=out)]
    if stage == "intake" and kind == Outcome.WAITING:
        return [sentence("next_put", lang, f="、".join(waiting.get("files", [])), c=cycle_dir) + again]
    if stage == "assignment" and kind == Outcome.WAITING:
        return [sentence("next_put_reviewer_list", lang, c=cycle_dir) + again]
    if stage == "scoring" and kind == Outcome.WAITING and "proposals" in waiting:
        return scoring_steps(waiting["proposals"], cycle_dir, out, db_url, lang) + [again]
    if stage == "publication" and "approval" in waiting:
        return [sentence("next_review_allocation_allocation", lang, c=cycle_dir, o=out)]
    if stage == "publication" and "rejected" in waiting:
        return [sentence("next_change_rules_or", lang) + again]
    if stage == "tracking" and kind == Outcome.WAITING and "publicity_until" in waiting:
        return [sentence("next_notice_runs_until", lang, d=waiting["publicity_until"])]
    report = Path(out) / "reports" / "index.html"
    if report.exists():
        return [
            sentence("next_leadership_report_public", lang, r=report, p=Path(out) / "allocation" / "publicity.html", c=cycle_dir)
        ]
    return []


def scoring_steps(waiting: dict[str, dict], cycle_dir: Path, out: Path, db_url: str | None, lang: str) -> list[str]:
    """Whom to send which sheet, and whose ratings are missing."""
    reviewers: dict[str, int] = {}
    ratings = 0
    for need in waiting.values():
        for rid in need.get("reviewers", []):
            reviewers[rid] = reviewers.get(rid, 0) + 1
        ratings += bool(need.get("community"))
    people = reviewer_contacts(db_url, cycle_dir) if reviewers else {}
    lines = []
    if reviewers:
        listed = (
            "；".join(
                f"{rid}（{people[rid]}，{n} 项）" if people.get(rid) else f"{rid}（{n} 项）"
                for rid, n in sorted(reviewers.items())[:15]
            )
            if lang != "en"
            else "; ".join(
                f"{rid} ({people[rid]}, {n})" if people.get(rid) else f"{rid} ({n})" for rid, n in sorted(reviewers.items())[:15]
            )
        )
        more = " …" if len(reviewers) > 15 else ""
        lines.append(sentence("next_send_sheets_review", lang, o=out, r=listed, m=more, c=cycle_dir))
    if ratings:
        lines.append(sentence("add_community_ratings_proposals", lang, n=ratings, c=cycle_dir))
    return lines


def reviewer_contacts(db_url: str | None, cycle_dir: Path) -> dict[str, str]:
    from fund.schemas.config import load_config
    from fund.schemas.tables import Reviewer
    from fund.tasks.store import load_rows

    if db_url is None:
        return {}
    rows = load_rows(db_url, Reviewer, load_config(Path(cycle_dir)).cycle.id)
    return {r["reviewer_id"]: " ".join(x for x in (r["name"], r.get("email") or "") if x) for r in rows}

"""The needs list and the resource pledges (四张清单) where the stages meet them: what the intake
stored of them, the needs outputs the allocation stage writes once the award is decided
(needs/coverage.csv, unmet.csv, resources.csv, leverage.csv) and the leadership report's section.
A cycle without needs.csv and resources.csv writes none of them."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from fund.flows.plans import stage_summary_of
from fund.flows.stage import Stage
from fund.schemas.tables import Award, Need, Proposal, Resource
from fund.tasks.messages import render
from fund.tasks.needs import count_coverage, leverage_by_street, leverage_total, need_coverage, resource_ledger, unmet_needs
from fund.tasks.needs.report import needs_section
from fund.tasks.needs.writers import write_coverage, write_resources
from fund.tasks.store import load_rows


def lists_given(stage: Stage) -> tuple[bool, bool]:
    """Whether the cycle's intake had a needs list and a resources list (kept in its stage summary)."""
    summary = stage_summary_of(stage.db_url, stage.cycle_id, "intake") or {}
    return bool(summary.get("needs_list")), bool(summary.get("resources_list"))


def stored_needs(stage: Stage) -> list[dict]:
    return load_rows(stage.db_url, Need, stage.cycle_id, ("need_id",))


@task(name="needs coverage and resources", cache_policy=NO_CACHE)
def write_needs_outputs(
    out_dir,
    needs_given: bool,
    resources_given: bool,
    needs: list[dict],
    resources: list[dict],
    proposals: list[dict],
    awards: list[dict],
    lang: str,
) -> list[str]:
    """Write the needs outputs of the allocation; the lines the stage adds to its message."""
    coverage = need_coverage(needs, proposals, awards)
    lines = []
    if needs_given:
        write_coverage(out_dir, coverage, unmet_needs(coverage), lang)
        count = count_coverage(coverage)
        lines.append(
            render(
                "needs_allocation",
                {"urgent_covered": count.urgent_covered, "urgent": count.urgent, "covered": count.covered, "needs": count.needs},
                lang,
            )
        )
    if resources_given:
        ledger = resource_ledger(resources, needs, awards, coverage)
        streets = leverage_by_street(ledger, proposals, awards)
        write_resources(out_dir, ledger, streets)
        lines.append(render("resources_allocation", {"leverage": leverage_total(streets)["leverage"] or "—"}, lang))
    return lines


def needs_step(stage: Stage, needs: list[dict], proposals: list[dict], awards: list[dict]) -> list[str]:
    """The allocation stage's needs outputs, when the cycle has a needs or resources list."""
    needs_given, resources_given = lists_given(stage)
    if not (needs_given or resources_given):
        return []
    stage.step("needs")
    resources = load_rows(stage.db_url, Resource, stage.cycle_id, ("resource_id",)) if resources_given else []
    return write_needs_outputs(
        stage.out_dir, needs_given, resources_given, quote(needs), quote(resources), quote(proposals), quote(awards), stage.lang
    )


def needs_context(stage: Stage) -> dict | None:
    """The leadership report's needs section, when the cycle has a needs or resources list."""
    needs_given, resources_given = lists_given(stage)
    if not (needs_given or resources_given):
        return None
    load = lambda table, *order: load_rows(stage.db_url, table, stage.cycle_id, order)  # noqa: E731
    return needs_section(
        load(Need, "need_id"),
        load(Proposal, "proposal_id"),
        load(Award, "proposal_id"),
        load(Resource, "resource_id"),
        needs_given,
        resources_given,
        stage.lang,
    )

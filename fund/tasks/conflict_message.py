"""What an administrator reads when the allocation rules cannot all hold: each group of rules
that really conflict, with each rule's own figure, then the smallest change of each rule that
settles everything on its own (fund run's stop message, the stage's Prefect artifact and
fund whatif all show this text).

One line per group and per change, as a Markdown list, so the same text reads in a terminal
and renders as a list in the Prefect UI.
"""

from __future__ import annotations

from fund.schemas.codes import CATEGORIES
from fund.tasks.allocation import AllocationInfeasible, Conflict, Relaxation
from fund.tasks.messages import render, yuan


def infeasible_message(exc: AllocationInfeasible, lang: str) -> str:
    """Paragraphs separated by a blank line, so a list never runs into the next sentence."""
    blocks = [
        "\n".join([render("conflicts_intro", lang=lang)] + [f"- {conflict_set_text(group, lang)}" for group in exc.conflict_sets])
    ]
    if exc.relaxations:
        blocks.append("\n".join([render("fixes_intro", lang=lang)] + [f"- {relaxation_text(r, lang)}" for r in exc.relaxations]))
        if exc.not_alone:
            blocks.append(render("not_alone", {"rules": names(exc.not_alone, lang)}, lang))
    else:
        blocks.append(render("no_single_fix", lang=lang))
    return "\n\n".join(blocks)


def rule_name(rule: str, lang: str) -> str:
    kind, _, group = rule.partition(":")
    if kind == "floor":
        return render("rule_floor", {"group": CATEGORIES.get(group, group) if lang == "zh" else group}, lang)
    return render(f"rule_{rule}", lang=lang)


def names(rules, lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(rule_name(r, lang) for r in rules)


def street_list(streets, lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(streets)


def conflict_set_text(group: tuple[Conflict, ...], lang: str) -> str:
    """ "<rules>: <each rule's figure>", the budget last, against the others' total."""
    budget = next((c for c in group if c.rule == "budget"), None)
    others = [c for c in group if c.rule != "budget"]
    figures = [figure_text(c, [o.rule for o in group if o is not c], budget is not None, lang) for c in others]
    text = ("：" if lang == "zh" else ": ") + ("；" if lang == "zh" else "; ").join(figures)
    if budget is not None:
        single = len(others) == 1 and others[0].own_fen == budget.needed_fen
        if single or budget.needed_fen is None or budget.needed_fen <= budget.available_fen:
            text += render("conflict_budget_short", {"budget": yuan(budget.available_fen)}, lang)
        else:
            text += render(
                "conflict_budget_total", {"needed": yuan(budget.needed_fen), "budget": yuan(budget.available_fen)}, lang
            )
    return names([c.rule for c in group], lang) + text


def figure_text(conflict: Conflict, others: list[str], with_budget: bool, lang: str) -> str:
    """One rule's own figure.  Beside the budget: what the rule costs on its own; otherwise:
    what the other rules of its group leave for it."""
    name = rule_name(conflict.rule, lang)
    if conflict.rule == "org_limit":
        return render("conflict_org_limit", {"limit": conflict.limit}, lang)
    if conflict.rule == "cover_urgent":
        if with_budget and conflict.own_fen is not None:
            return render("conflict_urgent_cost", {"needs": conflict.need_count, "cost": yuan(conflict.own_fen)}, lang)
        params = {
            "others": names(others, lang),
            "needs": conflict.need_count,
            "most": conflict.need_count - len(conflict.needs),
            "uncovered": street_list(conflict.needs, lang),
        }
        return render("conflict_urgent_most" if conflict.needs else "conflict_urgent_not_all", params, lang)
    if conflict.rule == "cover_every_street":
        if with_budget and conflict.own_fen is not None:
            return render("conflict_coverage_cost", {"streets": conflict.street_count, "cost": yuan(conflict.own_fen)}, lang)
        params = {
            "others": names(others, lang),
            "streets": conflict.street_count,
            "most": conflict.street_count - len(conflict.streets),
            "uncovered": street_list(conflict.streets, lang),
        }
        return render("conflict_coverage_most" if conflict.streets else "conflict_coverage_not_all", params, lang)
    floor = yuan(conflict.needed_fen)
    if not with_budget and conflict.available_fen is not None:
        return render(
            "conflict_floor_available",
            {"rule": name, "floor": floor, "others": names(others, lang), "available": yuan(conflict.available_fen)},
            lang,
        )
    if conflict.own_fen is not None and conflict.own_fen > conflict.needed_fen:
        return render("conflict_floor_cost", {"rule": name, "floor": floor, "cost": yuan(conflict.own_fen)}, lang)
    return render("conflict_floor", {"rule": name, "floor": floor}, lang)


def relaxation_text(relaxation: Relaxation, lang: str) -> str:
    rule = relaxation.rule
    if rule == "cover_every_street":
        key = "fix_coverage" if relaxation.exact else "fix_coverage_found"
        return render(
            key,
            {
                "most": relaxation.suggested,
                "streets": relaxation.current,
                "bound": relaxation.bound,
                "uncovered": street_list(relaxation.streets, lang),
            },
            lang,
        )
    if rule == "cover_urgent":
        key = "fix_urgent" if relaxation.exact else "fix_urgent_found"
        return render(
            key,
            {
                "most": relaxation.suggested,
                "needs": relaxation.current,
                "bound": relaxation.bound,
                "uncovered": street_list(relaxation.needs, lang),
            },
            lang,
        )
    if rule == "org_limit":
        return render("fix_org_limit", {"current": relaxation.current, "suggested": relaxation.suggested}, lang)
    amounts = {"current": yuan(relaxation.current), "suggested": yuan(relaxation.suggested)}
    if rule == "budget":
        text = render("fix_budget", amounts, lang)
        if relaxation.floors_fen:
            floors = ("、" if lang == "zh" else ", ").join(
                f"{rule_name('floor:' + g, lang)} {yuan(f)}" for g, f in relaxation.floors_fen
            )
            text += render("fix_budget_floors", {"floors": floors}, lang)
        if not relaxation.exact and relaxation.bound is not None:
            text += render("fix_budget_bound", {"bound": yuan(relaxation.bound)}, lang)
        return text
    text = render("fix_floor", {"rule": rule_name(rule, lang), **amounts}, lang)
    share = {"share": relaxation.share, "share_bound": relaxation.share_bound, "bound": yuan(relaxation.bound)}
    if relaxation.share is None:
        return text
    if relaxation.exact or relaxation.bound is None:
        return text + render("fix_floor_share", share, lang)
    if relaxation.share == relaxation.share_bound:
        return text + render("fix_floor_largest_share", share, lang)
    return text + render("fix_floor_bound", share, lang)

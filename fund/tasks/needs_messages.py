"""The sentences of the needs list and the resource pledges (四张清单), in Chinese and English
(same shape as `tasks.messages`, whose catalogue includes these rules), and their labels."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # closed vocabularies
    "urgency_unknown": ("紧急程度未知，应为：{allowed}", "unknown urgency; use one of: {allowed}"),
    "resource_kind_unknown": ("资源类型未知，应为：{allowed}", "unknown resource kind; use one of: {allowed}"),
    # needs.csv and resources.csv
    "duplicate_need_id": (
        "需求编号重复（第 {lines} 行），所有副本均不予采用",
        "duplicate need id (lines {lines}); no copy is used",
    ),
    "duplicate_resource_id": (
        "资源编号重复（第 {lines} 行），所有副本均不予采用",
        "duplicate resource id (lines {lines}); no copy is used",
    ),
    "pledge_unknown": (
        "对接的 {target} 既不是需求清单（needs.csv）中的需求，也不是已申报的项目",
        "{target} is neither a need of needs.csv nor a submitted proposal",
    ),
    "pledge_ambiguous": (
        "对接的 {target} 既是需求编号又是项目编号，无法确定对接哪一个：请改用不重复的编号",
        "{target} is both a need id and a proposal id, so what it is pledged to is unclear: use ids that differ",
    ),
    "quantity_format": (
        "场地、志愿者、物资按数量填写，应为不小于 0 的整数（场地：可用次数；志愿者：人次；物资：件数）",
        "a venue, volunteers or goods are a quantity: a whole number, 0 or more (venue: times it can "
        "be used; volunteers: person-times; goods: items)",
    ),
    # the needs a proposal names (proposals.csv, need_ids)
    "need_unknown": ("对应需求 {need} 不在需求清单（needs.csv）中", "need {need} is not in the needs list (needs.csv)"),
    "need_invalid": (
        "需求 {need} 的记录有误（见 needs.csv 第 {line} 行），不能对接",
        "the record of need {need} is invalid (needs.csv line {line}); nothing can answer it",
    ),
    "need_other_street": (
        "对应需求 {need} 属于{need_street}，而项目服务{street}",
        "need {need} is in {need_street}, but the project serves {street}",
    ),
    "need_ids_format": (
        "对应需求应填需求清单中的需求编号（字母、数字、“-”和“_”），多个编号用“;”或“；”分隔",
        "need ids are the ids of needs.csv (letters, digits, - and _), several separated by ; or ；",
    ),
    "need_missing": (
        "本期要求每个项目对应需求清单中的需求（[needs] require_need），但未填写对应需求",
        "this cycle requires every proposal to answer a need of the needs list ([needs] require_need), and it names none",
    ),
    # the allocation rule "urgent needs coverage" ([needs] cover_urgent, optimal policy)
    "rule_cover_urgent": ("紧急需求全覆盖", "urgent needs coverage"),
    "conflict_urgent_cost": (
        "覆盖全部 {needs} 项紧急需求至少需要 {cost}",
        "covering all {needs} urgent needs takes at least {cost}",
    ),
    "conflict_urgent_most": (
        "紧急需求全覆盖：在{others}的限制下最多覆盖 {most}/{needs} 项紧急需求（例如 {uncovered} 未覆盖）",
        "urgent needs coverage: under {others} at most {most} of {needs} urgent needs can be covered (e.g. {uncovered} left out)",
    ),
    "conflict_urgent_not_all": (
        "紧急需求全覆盖：在{others}的限制下无法覆盖全部 {needs} 项紧急需求",
        "urgent needs coverage: under {others} not all {needs} urgent needs can be covered",
    ),
    "fix_urgent": (
        "取消紧急需求全覆盖（其余规则下最多覆盖 {most}/{needs} 项紧急需求，例如 {uncovered} 未覆盖）",
        "drop urgent needs coverage (the other rules allow at most {most} of {needs} urgent needs, e.g. "
        "with {uncovered} left out)",
    ),
    "fix_urgent_found": (
        "取消紧急需求全覆盖（其余规则下可覆盖 {most}/{needs} 项紧急需求，未证明最多能覆盖几项，不超过 {bound} 项）",
        "drop urgent needs coverage (the other rules allow {most} of {needs} urgent needs; the most "
        "is not proven, at most {bound})",
    ),
    "need_secured": (
        "紧急需求 {need}（{title}）唯一资助项目（紧急需求全覆盖）",
        "the only funded project for the urgent need {need} ({title}; urgent needs coverage)",
    ),
    # why a need is unmet after the allocation (needs/unmet.csv)
    "unmet_no_proposal": ("没有项目对应该需求", "no proposal answers it"),
    "unmet_no_eligible": ("对应的项目均未通过资格审查：{proposals}", "the proposals answering it are not eligible: {proposals}"),
    "unmet_not_funded": ("对应的项目未获资助：{proposals}", "the proposals answering it are not funded: {proposals}"),
    "whatif_urgent": (
        "紧急需求（有可资助项目对应的 {n} 项）：现结果覆盖 {before} 项，假设结果覆盖 {after} 项。",
        "urgent needs ({n} with a fundable proposal answering them): {before} covered now, {after} in the what-if.",
    ),
    # stage lines
    "needs_intake": (
        "需求清单 {needs} 项（紧急 {urgent} 项），资源 {resources} 项",
        "needs list: {needs} needs ({urgent} urgent), {resources} resources pledged",
    ),
    "needs_allocation": (
        "紧急需求已覆盖 {urgent_covered}/{urgent} 项，全部需求已覆盖 {covered}/{needs} 项；未满足的需求见 needs/unmet.csv",
        "urgent needs covered: {urgent_covered} of {urgent}; all needs covered: {covered} of {needs}; "
        "the unmet ones are in needs/unmet.csv",
    ),
    "resources_allocation": (
        "资源台账与撬动比见 needs/resources.csv、needs/leverage.csv（每 1 元资金撬动配套与认捐资金 {leverage} 元）",
        "resource ledger and leverage in needs/resources.csv, needs/leverage.csv ({leverage} yuan "
        "of co-funding and pledged money per yuan of the fund)",
    ),
}

URGENCY_LABELS = {"high": ("高", "high"), "medium": ("中", "medium"), "low": ("低", "low")}
RESOURCE_LABELS = {
    "money": ("资金", "money"),
    "venue": ("场地", "venue"),
    "volunteers": ("志愿者", "volunteers"),
    "goods": ("物资", "goods"),
}
QUANTITY_UNITS = {"venue": ("次", "uses"), "volunteers": ("人次", "person-times"), "goods": ("件", "items")}
STATUS_LABELS = {"covered": ("已覆盖", "covered"), "unmet": ("未满足", "unmet")}

# the leadership report's needs section and the notice's column
SECTION_TEXT: dict[str, tuple[str, str]] = {
    "title": ("需求清单与资源", "Needs and resources"),
    "summary": (
        "需求清单 {needs} 项，本轮已覆盖 {covered} 项（{share}）；紧急需求 {urgent} 项，已覆盖 {urgent_covered} 项。",
        "{needs} needs on the list, {covered} covered this round ({share}); {urgent} urgent, {urgent_covered} covered.",
    ),
    "by_street": ("按街道", "By street"),
    "by_group": ("按服务对象", "By group"),
    "street": ("街道", "street"),
    "group": ("服务对象", "group"),
    "needs": ("需求", "needs"),
    "covered": ("已覆盖", "covered"),
    "urgent_unmet": ("紧急未满足", "urgent unmet"),
    "unmet_urgent_title": ("本轮之后仍未满足的紧急需求", "Urgent needs still unmet after this round"),
    "unmet_urgent_none": ("所有紧急需求均已有项目覆盖。", "Every urgent need is covered by a funded project."),
    "people": ("涉及 {people} 人", "{people} people"),
    "unmet_more": (
        "全部未满足需求见 needs/unmet.csv，可直接作为下一轮征集的需求清单。",
        "Every unmet need is in needs/unmet.csv, ready to be the next call's needs list.",
    ),
    "resources_title": ("驻区单位资源认捐", "Resources pledged by units in the area"),
    "unit": ("提供单位", "unit"),
    "kind": ("类型", "kind"),
    "amount": ("金额或数量", "amount"),
    "leverage_title": ("资金撬动（配套资金与认捐资金 / 本轮资助）", "Leverage (co-funding and pledged money per yuan awarded)"),
    "awarded": ("本轮资助", "awarded"),
    "cofunding": ("项目配套", "co-funding"),
    "pledged": ("认捐资金", "pledged money"),
    "leverage": ("撬动比", "leverage"),
    "total": ("合计", "total"),
    "no_resources": ("本期没有资源清单（resources.csv）。", "This cycle has no resources list (resources.csv)."),
    "answers": ("对应需求", "Need answered"),
}

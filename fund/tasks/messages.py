"""Every sentence an administrator, reviewer or applicant reads, in Chinese and English.

Stored records keep a rule code and its parameters; the text is rendered here, in the
language asked for (`zh` by default, `en`).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from fund.schemas.codes import VOCABULARIES
from fund.tasks.approval_messages import MESSAGES as APPROVAL_MESSAGES
from fund.tasks.needs_messages import MESSAGES as NEEDS_MESSAGES
from fund.tasks.run_messages import MESSAGES as RUN_MESSAGES
from fund.tasks.tracking_messages import MESSAGES as TRACKING_MESSAGES

LANGS = ("zh", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    # cells
    "required": ("必填项为空", "required field is empty"),
    "extra_cells": (
        "本行的单元格比表头多（可能有多余的分隔符或未加引号的逗号）",
        "the row has more cells than the header (stray delimiter or unquoted comma)",
    ),
    "money_negative": ("金额不能为负数", "amount must not be negative"),
    "money_format": (
        "不是有效金额：应为元，小数点用“.”，逗号只能作千位分隔、每三位一组（如 150000.00 或 150,000.00）",
        'not an amount in yuan: "." is the decimal point and "," only separates thousands in groups of '
        "three (e.g. 150000.00 or 150,000.00)",
    ),
    "money_precision": ("金额最多保留两位小数（到分）", "amounts have at most two decimals (fen)"),
    "integer_format": ("应为整数", "must be a whole number"),
    "value_below_min": ("不能小于 {min}", "must be at least {min}"),
    "value_above_max": ("不能大于 {max}", "must be at most {max}"),
    "number_format": ("应为数字", "must be a number"),
    "score_format": (
        "分值的小数点应为“.”，逗号只能作千位分隔、每三位一组（如 12.5，而不是 12,5）",
        '"." is the decimal point and "," only separates thousands in groups of three (12.5, not 12,5)',
    ),
    "number_precision": ("小数位数过多（最多 {max} 位）", "too many decimals (at most {max})"),
    "date_format": ("日期格式应为 YYYY-MM-DD、YYYY/M/D 或 YYYY年M月D日", "dates are YYYY-MM-DD, YYYY/M/D or YYYY年M月D日"),
    "date_invalid": ("日期不存在", "no such date"),
    "credit_code_format": (
        "统一社会信用代码应为 18 位（数字及大写字母，不含 I、O、Z、S、V）",
        "a unified social credit code has 18 characters (digits and capitals except I, O, Z, S, V)",
    ),
    "credit_code_checksum": (
        "统一社会信用代码校验位错误（按 GB 32100 应为 {expected}）",
        "wrong check character of the credit code (GB 32100 gives {expected})",
    ),
    "credit_code_scientific": (
        "统一社会信用代码被表格软件（Excel/WPS）转成了科学计数法数字，原代码已丢失：请把该列设为“文本”格式，"
        "重新输入或粘贴完整的 18 位代码后再另存为 CSV",
        "a spreadsheet (Excel/WPS) turned the credit code into a number in scientific notation and "
        "the code is lost: format the column as Text, type or paste the full 18-character code "
        "again, then save as CSV",
    ),
    "id_format": (
        "编号只能由字母、数字、“-”和“_”组成，1 到 32 个字符",
        "ids are 1 to 32 characters: letters, digits, - and _ only",
    ),
    "category_unknown": ("服务类别未知，应为：{allowed}", "unknown service category; use one of: {allowed}"),
    "budget_kind_unknown": ("支出类别未知，应为：{allowed}", "unknown budget kind; use one of: {allowed}"),
    "inspection_unknown": ("年检结果未知，应为：{allowed}", "unknown inspection result; use one of: {allowed}"),
    "yes_no_unknown": ("应填“是”或“否”（yes/no）", "use yes or no (是/否)"),
    "cell_too_long": ("单元格内容过长（超过 {limit} 个字符）", "cell is too long (over {limit} characters)"),
    # organizations and proposals
    "duplicate_identical": ("与第 {first} 行完全相同，重复行已忽略", "identical to line {first}; the copy is ignored"),
    "duplicate_organization": (
        "同一信用代码出现多次且内容不同（第 {lines} 行），均不予采用",
        "the same credit code appears on several different lines ({lines}); none is used",
    ),
    "duplicate_proposal_id": (
        "项目编号重复（第 {lines} 行），所有副本均不予受理",
        "duplicate proposal id (lines {lines}); every copy is rejected",
    ),
    "org_unknown": ("申报机构未在机构名单（organizations.csv）中登记", "the organization is not in organizations.csv"),
    "org_invalid": (
        "申报机构的登记信息有误（见 organizations.csv 第 {line} 行）",
        "the organization's own record is invalid (organizations.csv line {line})",
    ),
    "org_inspection_failed": ("申报机构年检不合格", "the organization failed its annual inspection"),
    "org_too_young": (
        "机构登记于 {registered}，须在 {latest} 或之前登记（满 {days} 天）",
        "registered on {registered}; must be registered on or before {latest} ({days} days)",
    ),
    "org_barred": (
        "该机构在上一周期的项目 {project} 结项评估不合格，本周期不得申报（previous_incentives.csv）",
        "the organization's project {project} failed the previous cycle's final evaluation; it is barred from "
        "this cycle (previous_incentives.csv)",
    ),
    "bonus_invalid": (
        "下一周期加分应在 0 到 {max} 分之间，最多两位小数",
        "the next-cycle bonus must be 0 to {max} points, with at most two decimals",
    ),
    "duplicate_prior_incentive": (
        "项目编号重复（第 {lines} 行），所有副本均不予采用",
        "duplicate proposal id (lines {lines}); no copy is used",
    ),
    "org_proposal_limit": (
        "该机构共申报 {count} 个项目，超过上限 {limit} 个，全部不予受理",
        "the organization submitted {count} proposals, over the limit of {limit}; all are rejected",
    ),
    "request_below_min": ("申请金额 {amount} 低于下限 {limit}", "requested {amount} is below the minimum {limit}"),
    "request_above_max": ("申请金额 {amount} 超过上限 {limit}", "requested {amount} is above the maximum {limit}"),
    "budget_lines_missing": ("没有预算明细（budget_lines.csv）", "no budget lines in budget_lines.csv"),
    "budget_sum_mismatch": (
        "预算明细合计 {total} 与申请金额 {amount} 不一致",
        "budget lines add up to {total}, not the requested {amount}",
    ),
    "budget_lines_invalid": (
        "有 {count} 行预算明细有误（见 budget_lines.csv 的拒收记录），项目预算不完整",
        "{count} of its budget lines are invalid (see the budget_lines.csv rejections)",
    ),
    "admin_share": (
        "管理费 {admin} 占申请金额的 {share}，超过上限 {limit}",
        "admin costs {admin} are {share} of the request, over the limit {limit}",
    ),
    "dates_order": ("开始日期 {start} 晚于结束日期 {end}", "start date {start} is after end date {end}"),
    "start_before_open": ("开始日期 {start} 早于本期开始日 {opens}", "start date {start} is before the cycle opens ({opens})"),
    "end_after_close": ("结束日期 {end} 晚于本期结束日 {closes}", "end date {end} is after the cycle closes ({closes})"),
    "submitted_late": ("提交日期 {submitted} 晚于截止日 {deadline}", "submitted on {submitted}, after the deadline {deadline}"),
    "budget_line_unknown_proposal": (
        "预算明细对应的项目编号不存在",
        "the budget line names a proposal id that was not submitted",
    ),
    # reviewers and scores
    "duplicate_reviewer": ("评审编号重复（第 {lines} 行），均不予采用", "duplicate reviewer id (lines {lines}); none is used"),
    "affiliation_unknown": ("关联机构代码无效", "affiliation is not a valid credit code"),
    "score_proposal_unknown": ("评分表中的项目不是已受理项目", "the score names a proposal that is not an accepted proposal"),
    "not_assigned": ("该评审专家未被分配评审此项目", "this reviewer is not assigned to this proposal"),
    "score_out_of_range": ("分值应在 0 到 {max} 之间", "score must be between 0 and {max}"),
    "score_step": ("分值只能是整数或 .5", "scores are whole or half points"),
    "duplicate_review": (
        "同一专家对同一项目有多行不同评分（第 {lines} 处），均不予采用",
        "the same reviewer scored the same proposal differently more than once ({lines}); none is used",
    ),
    "rating_out_of_range": ("评分应在 0 到 100 之间", "rating must be between 0 and 100"),
    "rating_precision": ("评分最多保留两位小数", "ratings have at most two decimals"),
    "duplicate_rating": (
        "同一项目同一评议主体出现多次（第 {lines} 行），均不予采用",
        "the same proposal and rater group appear more than once (lines {lines}); none is used",
    ),
    "rating_proposal_unknown": (
        "社区评议对应的项目不是已受理项目",
        "the rating names a proposal that is not an accepted proposal",
    ),
    # files
    "file_encoding": (
        "文件编码无法识别：请另存为 UTF-8 或 GB18030/GBK 编码的 CSV",
        "cannot read the file's encoding: save it as CSV in UTF-8 or GB18030/GBK",
    ),
    "file_unreadable": ("文件无法读取（{error}）", "the file cannot be read ({error})"),
    "file_empty": ("文件是空的，没有表头行", "the file is empty: no header line"),
    "file_malformed": ("文件第 {line} 行无法按 CSV 解析（{error}）", "line {line} cannot be parsed as CSV ({error})"),
    "missing_column": (
        "缺少必需的列“{column}”（或中文表头“{zh}”）；文件中的列为：{found}",
        "the required column '{column}' (Chinese header '{zh}') is missing; the file has: {found}",
    ),
    "file_missing": ("缺少文件 {file}", "the file {file} is missing"),
    # allocation rules that cannot all hold (optimal policy)
    "rule_budget": ("总预算", "the budget"),
    "rule_org_limit": ("每个机构资助上限", "the per-organization limit"),
    "rule_cover_every_street": ("街道全覆盖", "street coverage"),
    "rule_floor": ("{group}类最低份额", "the {group} floor"),
    "conflicts_intro": (
        "分配规则无法同时满足。下列每组规则互相冲突（去掉组内任何一条，组内其余规则即可同时满足）：",
        "the allocation rules cannot all hold. Each group below conflicts (drop any one rule of a group "
        "and the rest of that group can hold):",
    ),
    "conflict_floor_cost": (
        "{rule} {floor}（项目整体资助，至少需要 {cost}）",
        "{rule} of {floor} (whole proposals: at least {cost})",
    ),
    "conflict_floor": ("{rule} {floor}", "{rule} of {floor}"),
    "conflict_floor_available": (
        "{rule} {floor}，但在{others}的限制下该类最多只能资助 {available}",
        "{rule} of {floor}, while under {others} at most {available} of it can be funded",
    ),
    "conflict_coverage_cost": (
        "覆盖全部 {streets} 个街道至少需要 {cost}（各街道最低申请额之和）",
        "covering all {streets} streets needs at least {cost} (the smallest request of each street, added up)",
    ),
    "conflict_coverage_most": (
        "街道全覆盖：在{others}的限制下最多覆盖 {most}/{streets} 个街道（例如 {uncovered} 未覆盖）",
        "street coverage: under {others} at most {most} of {streets} streets can be covered (e.g. {uncovered} left out)",
    ),
    "conflict_coverage_not_all": (
        "街道全覆盖：在{others}的限制下无法覆盖全部 {streets} 个街道",
        "street coverage: under {others} not all {streets} streets can be covered",
    ),
    "conflict_org_limit": ("每个机构最多资助 {limit} 项", "at most {limit} funded per organization"),
    "conflict_budget_short": ("，但总预算只有 {budget}", ", but the budget is {budget}"),
    "conflict_budget_total": (
        "；同时满足这些规则至少需要 {needed}，但总预算只有 {budget}",
        "; meeting them together needs at least {needed}, but the budget is {budget}",
    ),
    "fixes_intro": (
        "单独做下列任何一项调整，全部规则即可同时满足（除注明外，都是该规则的最小调整）：",
        "Any one of these changes alone lets every rule hold (each the smallest change of its rule unless noted):",
    ),
    "fix_budget": ("把总预算从 {current} 提高到 {suggested}", "raise the budget from {current} to {suggested}"),
    "fix_budget_floors": ("（按新预算，{floors}）", " (at that budget: {floors})"),
    "fix_budget_bound": (
        "（未证明到分：所需最少预算不低于 {bound}）",
        " (not proven to the fen: the least budget that works is at least {bound})",
    ),
    "fix_floor": ("把{rule}从 {current} 降到 {suggested}", "lower {rule} from {current} to {suggested}"),
    "fix_floor_share": ("（份额 {share}）", " (share {share})"),
    "fix_floor_largest_share": (
        "（份额 {share}，已是可行的最大份额（四位小数）；可行的最高额未证明到分，不超过 {bound}）",
        " (share {share}, the largest share of 4 decimals that works; the largest floor that "
        "works is not proven to the fen, at most {bound})",
    ),
    "fix_floor_bound": (
        "（份额 {share}；未证明到分：可行的最高额不超过 {bound}，份额不超过 {share_bound}）",
        " (share {share}; not proven to the fen: the largest floor that works is at most {bound}, "
        "its share at most {share_bound})",
    ),
    "fix_coverage": (
        "取消街道全覆盖（其余规则下最多覆盖 {most}/{streets} 个街道，例如 {uncovered} 未覆盖）",
        "drop street coverage (the other rules allow at most {most} of {streets} streets, e.g. with {uncovered} left out)",
    ),
    "fix_coverage_found": (
        "取消街道全覆盖（其余规则下可覆盖 {most}/{streets} 个街道，未证明最多能覆盖几个，不超过 {bound} 个）",
        "drop street coverage (the other rules allow {most} of {streets} streets; the most is not proven, at most {bound})",
    ),
    "fix_org_limit": (
        "把每个机构资助上限从 {current} 项提高到 {suggested} 项",
        "raise the per-organization limit from {current} to {suggested}",
    ),
    "not_alone": ("单独调整{rules}不足以让全部规则同时满足。", "Changing {rules} alone is not enough."),
    "no_single_fix": (
        "没有哪一条规则单独调整就能解决：请在上面每组中至少调整一条规则。",
        "No single rule change settles it: change at least one rule in each group above.",
    ),
    "file_format": (
        "无法读取 {ext} 格式的文件：评分表请在 Excel 或 WPS 中另存为 .xlsx 或 CSV（UTF-8 或 GBK）后放回 scores/ 文件夹",
        "a {ext} file cannot be read: save the score sheet as .xlsx or CSV (UTF-8 or GBK) in Excel or WPS "
        "and put it back in the scores/ folder",
    ),
    "workbook_unreadable": (
        "无法作为 Excel 工作簿（.xlsx）打开（{error}）：请在 Excel 或 WPS 中重新另存为 .xlsx 或 CSV",
        "cannot be opened as an Excel workbook (.xlsx) ({error}): save it again as .xlsx or CSV in Excel or WPS",
    ),
    "file_is_folder": ("这是一个文件夹，不是文件：请放入同名的 CSV 文件", "this is a folder, not a file: put the CSV file here"),
    "file_broken_link": (
        "这是一个指向不存在文件的链接（快捷方式）：请放入文件本身",
        "this is a link to a file that does not exist: put the file itself here",
    ),
    "file_not_regular": (
        "这不是普通文件（设备或管道）：请放入 CSV 文件",
        "this is not a regular file (a device or pipe): put the CSV file here",
    ),
    # e-mail: summarised from the status code, never from what the server sent back
    "smtp_unreachable": ("无法连接邮件服务器 {server}（{error}）", "cannot reach the mail server {server} ({error})"),
    "smtp_timeout": ("邮件服务器 {server} 无响应（超时）", "the mail server {server} did not answer (timeout)"),
    "smtp_tls_failed": (
        "与邮件服务器 {server} 的加密连接（TLS）失败",
        "the encrypted (TLS) connection to the mail server {server} failed",
    ),
    "smtp_no_tls": (
        "邮件服务器 {server} 不支持加密连接（TLS），密码不会以明文发送",
        "the mail server {server} offers no TLS; the password is not sent in clear",
    ),
    "smtp_login_refused": (
        "邮件服务器 {server} 拒绝登录（代码 {code}）：请检查 FUND_SMTP_USER 和 FUND_SMTP_PASSWORD",
        "the mail server {server} refused the login (code {code}): check FUND_SMTP_USER and FUND_SMTP_PASSWORD",
    ),
    "smtp_not_supported": (
        "邮件服务器 {server} 不支持所需的功能（如登录）",
        "the mail server {server} does not support what is needed (e.g. login)",
    ),
    "smtp_sender_refused": (
        "邮件服务器 {server} 拒绝了发件人 {sender}（代码 {code}）",
        "the mail server {server} refused the sender {sender} (code {code})",
    ),
    "smtp_recipients_refused": (
        "邮件服务器 {server} 拒绝了全部收件人（代码 {code}）：请检查 FUND_REPORT_TO",
        "the mail server {server} refused every recipient (code {code}): check FUND_REPORT_TO",
    ),
    "smtp_message_refused": (
        "邮件服务器 {server} 拒收了邮件（代码 {code}）",
        "the mail server {server} refused the message (code {code})",
    ),
    "smtp_refused": (
        "邮件服务器 {server} 拒绝了请求（代码 {code}）",
        "the mail server {server} refused the request (code {code})",
    ),
    "smtp_disconnected": ("邮件服务器 {server} 中断了连接", "the mail server {server} closed the connection"),
    "smtp_failed": ("向邮件服务器 {server} 发送失败（{error}）", "sending through the mail server {server} failed ({error})"),
    "smtp_no_recipient": ("FUND_REPORT_TO 没有收件人", "FUND_REPORT_TO names no recipient"),
}

MESSAGES.update(TRACKING_MESSAGES)  # tracking's rules, kept in their own file
MESSAGES.update(NEEDS_MESSAGES)  # the needs list's and the resource pledges' rules
MESSAGES.update(RUN_MESSAGES)  # what stages, plans and commands say
MESSAGES.update(APPROVAL_MESSAGES)  # the approval form and states on a Prefect server
ALLOWED = {f"{name}_unknown": words for name, words in VOCABULARIES.items()}


def yuan(fen: int | None) -> str:
    """¥150,000.00 — for sentences; CSV cells use `money_cell`."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def money_cell(fen: int | None) -> str:
    if fen is None:
        return ""
    return f"{'-' if fen < 0 else ''}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def centi_text(centi: int | None) -> str:
    if centi is None:
        return ""
    return f"{'-' if centi < 0 else ''}{abs(centi) // 100}.{abs(centi) % 100:02d}"


def percent(value: Decimal) -> str:
    return f"{(Decimal(value) * 100).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"


def render(rule: str, params: dict | None = None, lang: str = "zh") -> str:
    templates = MESSAGES.get(rule)
    if templates is None:
        return rule
    params = dict(params or {})
    if rule in ALLOWED:
        params.setdefault(
            "allowed", " / ".join(f"{k}（{v}）" if lang == "zh" else f"{k} ({v})" for k, v in ALLOWED[rule].items())
        )
    template = templates[LANGS.index(lang)] if lang in LANGS else templates[0]
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


def sentence(key: str, lang: str, **params) -> str:
    """One sentence of the catalogue in the asked language, its placeholders filled (all required)."""
    return MESSAGES[key][LANGS.index(lang) if lang in LANGS else 0].format(**params)

"""The sentences of tracking, the ledger, reconciliation, the tracking commands and the
leadership report, in Chinese and English (same shape as `tasks.messages`, whose catalogue
includes these rules), and their labels."""

from __future__ import annotations

from fund.schemas.codes import PHASES, TRANCHE_KINDS, AgreementStatus, ReconciliationOutcome, TrancheStatus

MESSAGES: dict[str, tuple[str, str]] = {
    # closed vocabularies
    "tranche_unknown": ("拨付批次未知，应为：{allowed}", "unknown tranche; use one of: {allowed}"),
    "phase_unknown": ("评估阶段未知，应为：{allowed}", "unknown evaluation phase; use one of: {allowed}"),
    "resolution_unknown": ("处理结果未知，应为：{allowed}", "unknown resolution; use one of: {allowed}"),
    "duplicate_copy": ("与 {first} 完全相同，重复行已忽略", "identical to {first}; the copy is ignored"),
    # objections (公示异议)
    "objection_not_funded": (
        "异议针对的项目不在公示的拟资助名单中",
        "the objection names a project that is not on the public notice",
    ),
    "objection_outside_period": (
        "收到日期 {received} 不在公示期（{start} 至 {end}）内",
        "received on {received}, outside the notice period ({start} to {end})",
    ),
    "duplicate_objection": (
        "异议编号重复且内容不同（{lines}），均不予采用",
        "the same objection id with different contents ({lines}); none is used",
    ),
    # progress reports
    "progress_proposal_unknown": ("进度报告中的项目编号不存在", "the progress report names a proposal id that does not exist"),
    "progress_not_funded": (
        "该项目没有有效的资助协议（未获资助或协议已终止），不应提交进度报告",
        "the project has no valid funding agreement (not funded, or the agreement was cancelled)",
    ),
    "period_before_start": (
        "截止日期 {period_end} 早于项目开始日期 {start}",
        "period end {period_end} is before the project starts ({start})",
    ),
    "period_after_end": (
        "截止日期 {period_end} 晚于项目结束日期 {end}",
        "period end {period_end} is after the project ends ({end})",
    ),
    "period_end_future": ("截止日期 {period_end} 晚于统计日 {as_of}", "period end {period_end} is after the report date {as_of}"),
    "submitted_before_period_end": (
        "提交日期 {submitted} 早于截止日期 {period_end}",
        "submitted on {submitted}, before the period ends ({period_end})",
    ),
    "duplicate_period": (
        "同一项目同一截止日期有多份不同的进度报告（{lines}），均不予采用",
        "the same project and period end appear with different figures ({lines}); none is used",
    ),
    "satisfaction_out_of_range": ("满意度应在 0 到 100 之间", "satisfaction must be between 0 and 100"),
    "satisfaction_precision": ("满意度最多保留两位小数", "satisfaction has at most two decimals"),
    "spent_above_disbursed": (
        "截至 {period_end} 累计支出 {spent}，超过已拨付资金 {disbursed}",
        "by {period_end} the project reports {spent} spent, more than the {disbursed} disbursed",
    ),
    # evaluation sheets
    "evaluation_not_funded": ("该项目没有已签订的资助协议，不能评估", "the project has no signed funding agreement to evaluate"),
    "evaluation_score_out_of_range": ("评分应在 0 到 100 之间", "the score must be between 0 and 100"),
    "evaluation_score_precision": ("评分最多保留两位小数", "the score has at most two decimals"),
    "evaluation_date_future": ("评估日期 {date} 晚于统计日 {as_of}", "evaluation date {date} is after the report date {as_of}"),
    "evaluation_before_start": (
        "评估日期 {date} 早于项目开始日期 {start}",
        "evaluation date {date} is before the project starts ({start})",
    ),
    "final_before_end": (
        "结项评估日期 {date} 早于项目结束日期 {end}",
        "the final evaluation ({date}) is before the project ends ({end})",
    ),
    "duplicate_evaluation": (
        "同一项目同一阶段有多份不同的评估（{lines}），均不予采用",
        "the same project and phase appear with different evaluations ({lines}); none is used",
    ),
    # the ledger (拨付台账): payments and reversals, from payments.csv or fund pay
    "payment_no_agreement": (
        "该项目没有已签订的资助协议，不能拨付",
        "the project has no signed funding agreement; nothing can be paid",
    ),
    "tranche_not_payable": (
        "{tranche_zh}款在 {paid_on} 尚不能拨付：{why_zh}",
        "the {tranche} tranche cannot be paid on {paid_on}: {why_en}",
    ),
    "payment_future": ("拨付日期 {paid_on} 晚于统计日 {as_of}", "payment date {paid_on} is after the report date {as_of}"),
    "tranche_already_paid": (
        "该批次已于 {paid_on} 拨付（经办人 {by}，{amount}），不能重复拨付",
        "this tranche was already paid on {paid_on} (by {by}, {amount}); it is paid once",
    ),
    "payment_above_remaining": (
        "拨付金额 {amount} 超过该批次尚未拨付的 {remaining}（批次 {tranche_amount}，已拨付 {paid}）",
        "{amount} is more than the {remaining} that remains of the tranche ({tranche_amount}, {paid} paid)",
    ),
    "payment_zero": ("拨付金额为 0", "the amount is zero"),
    "reference_in_use": (
        "凭证号 {reference} 已用于另一笔拨付（{proposal} {tranche_zh}款 {amount}，{paid_on}）",
        "reference {reference} is already another entry's ({proposal} {tranche} tranche, {amount}, {paid_on})",
    ),
    "payment_conflict": (
        "同一凭证号有多行不同的拨付记录（{lines}），均不予采用",
        "the same reference appears on several different lines ({lines}); none is used",
    ),
    "reversal_unknown_reference": (
        "台账中没有凭证号为 {reference} 的拨付，无法冲正",
        "the ledger has no entry with the reference {reference} to reverse",
    ),
    "reversal_of_reversal": (
        "{reference} 本身是一笔冲正（冲正 {original}），冲正不能再被冲正；如需更正请重新拨付",
        "{reference} is itself a reversal (of {original}); a reversal is not reversed: pay again instead",
    ),
    "already_reversed": (
        "{reference} 已于 {on} 被冲正（{by_reference}），不能重复冲正",
        "{reference} was already reversed on {on} ({by_reference}); it is reversed once",
    ),
    "reversal_mismatch": (
        "{reference} 是 {proposal} 的{tranche_zh}款，与本行的项目或批次不一致",
        "{reference} is {proposal}'s {tranche} tranche, not this row's project or tranche",
    ),
    "reversal_amount_mismatch": (
        "冲正金额 {amount} 与原拨付 {reference} 的金额 {original} 不一致（冲正整笔原拨付）",
        "reversing {amount}, but {reference} was {original} (a reversal reverses the whole entry)",
    ),
    "reversal_before_original": (
        "冲正日期 {paid_on} 早于原拨付 {reference} 的日期 {original_on}",
        "the reversal ({paid_on}) is dated before {reference} itself ({original_on})",
    ),
    "no_tranches_yet": (
        "{proposal} 还没有拨付计划：公示期满、签订协议后运行 fund run 才有拨付计划",
        "{proposal} has no tranches yet: they exist once the notice has ended and fund run has signed the agreements",
    ),
    # rectification (整改) after a failed mid-term evaluation
    "rectification_not_needed": (
        "该项目没有未通过的中期评估，无需整改复评",
        "the project has no failed mid-term evaluation to be re-evaluated",
    ),
    "rectification_before_midterm": (
        "整改复评日期 {date} 不晚于未通过的中期评估（{midterm}）",
        "the re-evaluation ({date}) is not after the failed mid-term evaluation ({midterm})",
    ),
    "rectification_too_late": (
        "整改复评日期 {date} 晚于整改期限 {deadline}，不予采用",
        "the re-evaluation ({date}) is after the rectification deadline {deadline}; it is not used",
    ),
    "evaluation_after_suspension": (
        "协议已于 {date} 中止，此后的评估不予采用",
        "the agreement was suspended on {date}; a later evaluation is not used",
    ),
    # tranche states (why a tranche is due, waiting or withheld)
    "signed": ("协议已于 {date} 签订", "agreement signed on {date}"),
    "midterm_passed": ("中期评估已通过（{score} 分）", "mid-term evaluation passed ({score})"),
    "final_passed": ("结项评估已通过（{score} 分）", "final evaluation passed ({score})"),
    "awaiting_midterm": ("待中期评估通过", "waits for a passed mid-term evaluation"),
    "awaiting_final": ("待结项评估通过", "waits for a passed final evaluation"),
    "awaiting_satisfaction": (
        "{phase}评估已评分，待进度报告中的受益人满意度",
        "the {phase} evaluation waits for beneficiary satisfaction from the progress reports",
    ),
    "midterm_failed": (
        "中期评估未通过（{score} 分，合格线 {mark}），暂停拨付",
        "mid-term evaluation failed ({score}, pass mark {mark}); payment withheld",
    ),
    "final_failed": (
        "结项评估未通过（{score} 分，合格线 {mark}），暂停拨付",
        "final evaluation failed ({score}, pass mark {mark}); payment withheld",
    ),
    "objection_pending": ("公示异议待处理，暂缓签约", "an objection to the notice is pending; signing waits"),
    "objection_upheld": ("公示异议成立，协议终止", "an objection to the notice was upheld; the agreement is cancelled"),
    "paid": ("已于 {paid_on} 拨付（{by}）", "paid on {paid_on} ({by})"),
    "not_planned": ("本期未设置该批次", "this cycle has no such tranche"),
    "condition_later": ("拨付条件于 {date} 才满足", "its condition only held from {date}"),
    "paid_in_parts": (
        "已分 {count} 笔拨付完毕，最后一笔 {paid_on}（{by}）",
        "paid in full in {count} entries, the last on {paid_on} ({by})",
    ),
    "paid_after_reversal": (
        "{reversed} 冲正后已重新拨付完毕（共 {count} 笔记录），最后一笔 {paid_on}（{by}）",
        "paid in full again after {reversed} was reversed ({count} entries), the last on {paid_on} ({by})",
    ),
    "partly_paid": (
        "已拨付 {paid}，尚余 {remaining}（批次 {amount}；{count} 笔，最近一笔 {paid_on}）",
        "{paid} paid, {remaining} remaining of {amount} ({count} entries, the latest on {paid_on})",
    ),
    "due_after_reversal": (
        "原拨付 {reference} 已于 {on} 冲正，待重新拨付（{why}）",
        "the payment {reference} was reversed on {on}; to be paid again ({why})",
    ),
    "nothing_to_pay": ("该批次金额为 ¥0.00，无需拨付", "this tranche is ¥0.00; nothing to pay"),
    "returned": (
        "协议已于 {date} 中止（{why}），未拨付的 {returned} 退回专项资金",
        "the agreement was suspended on {date} ({why}); the {returned} not paid goes back to the fund",
    ),
    "rectifying": (
        "中期评估未通过（{score} 分，合格线 {mark}），须于 {deadline} 前整改并复评，复评通过后拨付",
        "mid-term evaluation failed ({score}, pass mark {mark}); the project rectifies and is re-evaluated "
        "by {deadline}, and the tranche is paid once it passes",
    ),
    "rectification_passed": (
        "中期评估未通过，{date} 整改复评通过（{score} 分）",
        "failed its mid-term evaluation, passed the re-evaluation on {date} ({score})",
    ),
    "released_by_final": (
        "中期评估未通过，{date} 结项评估通过（{score} 分），中期款随之可拨付",
        "failed its mid-term evaluation, passed its final evaluation on {date} ({score}); the mid-term tranche is released",
    ),
    "rectification_failed": (
        "整改复评未通过（{score} 分，合格线 {mark}）",
        "the re-evaluation failed ({score}, pass mark {mark})",
    ),
    "rectification_final_failed": (
        "整改期间结项评估未通过（{score} 分，合格线 {mark}）",
        "the final evaluation during rectification failed ({score}, pass mark {mark})",
    ),
    "rectification_missed": (
        "整改期限 {deadline} 已过，未通过复评",
        "the rectification deadline {deadline} passed without a passed re-evaluation",
    ),
    "suspended": (
        "协议已于 {date} 中止：{why}；未拨付的 {returned} 退回专项资金",
        "agreement suspended on {date}: {why}; the {returned} not paid goes back to the fund",
    ),
    # reconciliation (对账) with the finance office's statement
    "statement_format": (
        "无法读取 {ext} 格式的财务流水：请在 Excel 或 WPS 中另存为 .xlsx 或 CSV（UTF-8 或 GBK）",
        "a {ext} statement cannot be read: save it as .xlsx or CSV (UTF-8 or GBK) in Excel or WPS",
    ),
    "money_signed_format": (
        "不是有效金额：应为元，小数点用“.”，逗号只能作千位分隔，退回的款项可写负数（如 -150,000.00）",
        'not an amount in yuan: "." is the decimal point, "," only separates thousands, money '
        "returned may be negative (e.g. -150,000.00)",
    ),
    "reconciled_amount_mismatch": (
        "金额不符：台账 {ledger}，财务流水 {statement}（相差 {difference}）",
        "amounts differ: ledger {ledger}, statement {statement} (a difference of {difference})",
    ),
    "reconciled_payee_mismatch": (
        "收款人不符：应为 {expected}，财务流水为 {found}",
        "payee differs: {expected} in the ledger, {found} in the statement",
    ),
    "reconciled_only_in_ledger": (
        "台账有此笔，财务流水中没有凭证号 {reference} 的记录",
        "in the ledger, but the statement has no row with reference {reference}",
    ),
    "reconciled_only_in_ledger_unreferenced": (
        "台账中的这笔拨付没有凭证号，无法与财务流水核对",
        "this ledger entry has no reference to match the statement by",
    ),
    "reconciled_only_in_statement": (
        "财务流水有此笔，台账中没有凭证号 {reference} 的记录",
        "in the statement, but the ledger has no entry with reference {reference}",
    ),
    "reconciled_only_in_statement_unreferenced": (
        "财务流水中的这笔没有凭证号，无法与台账核对",
        "this statement row has no reference to match the ledger by",
    ),
    "reconciled_matched": ("一致", "matches"),
    "reconciliation_done": (
        "对账（{statement}）：台账 {ledger_entries} 笔 {ledger}，财务流水 {rows_accepted} 笔 {total}；"
        "一致 {matched} 笔，差异 {discrepancies} 笔（{kinds}）；未对平金额 {unreconciled}；明细见 {path}",
        "reconciliation ({statement}): ledger {ledger_entries} entries, {ledger}; statement "
        "{rows_accepted} rows, {total}; {matched} matched, discrepancies: {discrepancies} ({kinds}); "
        "unreconciled {unreconciled}; the lines are in {path}",
    ),
    "reconciliation_unreadable": (
        "；财务流水中有 {rows_rejected} 行无法读取，见 validation/rejected.csv",
        "; {rows_rejected} statement rows could not be read, see validation/rejected.csv",
    ),
    "reconciliation_unchanged": (
        "财务流水 {file} 与台账自上次对账以来均未变化",
        "neither the statement {file} nor the ledger changed since the last reconciliation",
    ),
    "reconciliation_no_ledger": (
        "项目跟踪尚未开始，还没有拨付台账可供对账：{why}",
        "tracking has not started; there is no ledger to reconcile yet: {why}",
    ),
    "reconciliation_busy": (
        "周期正在由另一个运行处理（{where}），本次未对账；请稍后再运行。",
        "the cycle is being run by another process ({where}); nothing was reconciled. Run again later.",
    ),
    # the tracking commands (fund pay, fund objection, fund reconcile)
    "cli_bad_date": ("{option} 应为日期（YYYY-MM-DD）：{value}", "{option} takes a date (YYYY-MM-DD): {value}"),
    "cli_bad_as_of": ("日期有误（{key}）：{problem}", "bad date ({key}): {problem}"),
    "cli_bad_amount": (
        "--amount 应为金额（元，最多两位小数）：{value}",
        "--amount takes yuan with at most two decimals: {value}",
    ),
    "cli_pay_usage": (
        "拨付需要 --proposal、--tranche（signing/midterm/final，签约/中期/结项）和 --by 经办人；冲正需要 --reverse 凭证号和 --by",
        "a payment needs --proposal, --tranche (signing, midterm or final) and --by; a reversal needs "
        "--reverse REFERENCE and --by",
    ),
    "cli_payment_recorded": (
        "已记录拨付：{proposal} {tranche_zh}款 {amount}（{paid_on}，经办人 {by}{reference}）；该批次{state}。运行 fund report 更新报告。",
        "payment recorded: {proposal} {tranche} tranche {amount} ({paid_on}, by {by}{reference}); the "
        "tranche is {state_en}. Run fund report to update the report.",
    ),
    "cli_reversal_recorded": (
        "已记录冲正：{original} 冲正 {amount}（{proposal} {tranche_zh}款，{paid_on}，经办人 {by}{reference}）；该批次{state}。运行 fund report 更新报告。",
        "reversal recorded: {original} reversed, {amount} ({proposal} {tranche} tranche, {paid_on}, "
        "by {by}{reference}); the tranche is {state_en}. Run fund report to update the report.",
    ),
    "cli_reference": ("，凭证号 {reference}", ", reference {reference}"),
    "cli_entry_known": (
        "{proposal} {tranche_zh}款的这笔记录已在台账中（{paid_on}，{amount}），不重复记录。",
        "this entry of {proposal}'s {tranche} tranche is already in the ledger ({paid_on}, {amount}); nothing recorded twice.",
    ),
    "cli_entry_refused": ("{proposal}：{why}", "{proposal}: {why}"),
    "cli_reversal_refused": ("冲正 {reference}：{why}", "reversing {reference}: {why}"),
    "cli_objection_usage": (
        "登记异议需要 --proposal、--text 和 --by",
        "recording an objection needs --proposal, --text and --by",
    ),
    "cli_resolve_usage": ("--resolve 需要 --decision upheld 或 dismissed", "--resolve needs --decision upheld or dismissed"),
    "objection_not_recorded": (
        "没有用 fund objection 登记的异议 {objection_id}（objections.csv 中的异议请在文件中处理）",
        "no objection {objection_id} recorded with fund objection (objections in objections.csv are resolved in the file)",
    ),
    "objection_not_published": ("尚未公示，无法登记异议", "nothing is published yet; no objection can be recorded"),
    "objection_id_taken": ("异议编号 {objection_id} 已存在", "objection {objection_id} already exists"),
    "cli_objection_refused": ("{proposal}：{why}", "{proposal}: {why}"),
    "cli_objection_recorded": (
        "已登记异议 {objection_id}（{proposal}），待处理；处理前该项目暂缓签约。处理：fund objection … --resolve {objection_id} --decision upheld|dismissed --by 姓名",
        "objection {objection_id} ({proposal}) recorded as pending; the project's signing waits. "
        "Resolve it with fund objection … --resolve {objection_id} --decision upheld|dismissed --by NAME",
    ),
    "cli_objection_resolved": (
        "异议 {objection_id}（{proposal}）已处理：{decision}。运行 fund run 更新协议与拨付。",
        "objection {objection_id} ({proposal}) resolved: {decision}. Run fund run to update agreements and tranches.",
    ),
    "demo_reconciliation": (
        "示例的财务流水已与台账对账（fund reconcile {cycle} --out {out} --statement {statement}）：",
        "The demo's finance office statement, reconciled with the ledger (fund reconcile {cycle} --out "
        "{out} --statement {statement}):",
    ),
    "cli_no_statement": ("找不到财务流水文件：{path}", "no such statement file: {path}"),
    # the tracking stage's outcome
    "tracking_done": (
        "项目跟踪（截至 {as_of}）：签订协议 {signed} 份{hold}；已拨付 {paid} / 资助 {total}（本次新增台账记录 {new_payments} 笔）；"
        "采用进度报告 {progress_reports} 份；中期评估通过 {midterm_passed} 个、未通过 {midterm_failed} 个；"
        "结项评估通过 {final_passed} 个、未通过 {final_failed} 个；{problems} 条问题记录见 validation/rejected.csv",
        "tracking (as of {as_of}): {signed} agreements signed{hold}; disbursed {paid} of {total} "
        "({new_payments} new ledger entries); {progress_reports} progress reports accepted; mid-term "
        "{midterm_passed} passed, {midterm_failed} failed; final {final_passed} passed, {final_failed} failed; "
        "{problems} problems in validation/rejected.csv",
    ),
    "tracking_done_hold": (
        "（暂缓 {on_hold}，终止 {cancelled}，中止 {suspended}）",
        " ({on_hold} on hold, {cancelled} cancelled, {suspended} suspended)",
    ),
    "tracking_done_money": (
        "；部分拨付的批次 {partly_paid} 个，整改中项目 {rectifying} 个，退回专项资金 {returned}",
        "; {partly_paid} tranches partly paid, {rectifying} projects rectifying, {returned} back to the fund",
    ),
    "tracking_project_line": ("- {proposal}：{why}", "- {proposal}: {why}"),
    "tracking_warning": (
        "- 警示：{proposal} {phase}评估未通过（{score} 分），相应拨付暂停",
        "- warning: {proposal} failed its {phase} evaluation ({score}); its tranche is withheld",
    ),
    # project status reasons (leadership report)
    "report_line_money": (
        "- 退回专项资金 {returned}；与财务流水对账（{statement}）未对平 {unreconciled}，差异 {discrepancies} 笔",
        "- returned to the fund {returned}; reconciled with the statement ({statement}): {unreconciled} "
        "unreconciled, discrepancies: {discrepancies}",
    ),
    "report_line_not_reconciled": (
        "- 退回专项资金 {returned}；尚未与财务流水对账（fund reconcile）",
        "- returned to the fund {returned}; not reconciled with the finance office's statement yet (fund reconcile)",
    ),
    "report_missing": (
        "缺少进度报告（应于 {due} 前提交截至 {period} 的报告）",
        "progress report missing (the report up to {period} was due by {due})",
    ),
    "report_late": (
        "进度报告迟交（截至 {period} 的报告应于 {due} 前提交，{submitted} 提交）",
        "progress report late (up to {period}: due {due}, submitted {submitted})",
    ),
    "report_rejected_spending": (
        "进度报告支出超过已拨付资金（截至 {period}），报告未采用",
        "a progress report shows more spent than disbursed (up to {period}); it was not accepted",
    ),
    "behind_plan": (
        "受益人数 {actual}，仅为按期计划 {expected} 的 {share}",
        "{actual} beneficiaries, only {share} of the {expected} planned to date",
    ),
    "low_satisfaction": (
        "受益人满意度 {value}，低于合格线 {mark}",
        "beneficiary satisfaction {value} is below the pass mark {mark}",
    ),
    "midterm_overdue": ("中期评估逾期（应于 {date} 前完成）", "mid-term evaluation overdue (due by {date})"),
    "final_overdue": ("结项评估逾期（应于 {date} 前完成）", "final evaluation overdue (due by {date})"),
    "not_started": ("项目尚未开始（{start} 开始）", "the project has not started yet (starts {start})"),
    "completed": ("已通过结项评估（{score} 分）", "final evaluation passed ({score})"),
    "no_reports_yet": ("尚未到首次进度报告提交期限（{due}）", "no progress report due yet (first due {due})"),
}

STATUS_LABELS = {
    "on_track": ("正常", "on track"),
    "late": ("滞后", "late"),
    "at_risk": ("风险", "at risk"),
    "on_hold": ("暂缓", "on hold"),
    "cancelled": ("终止", "cancelled"),
    "suspended": ("中止", "suspended"),
    "completed": ("已结项", "completed"),
    "not_started": ("未开始", "not started"),
}
TRANCHE_STATUS = {
    TrancheStatus.PLANNED: ("待条件", "planned"),
    TrancheStatus.DUE: ("应拨付", "due"),
    TrancheStatus.PARTLY_PAID: ("部分拨付", "partly paid"),
    TrancheStatus.PAID: ("已拨付", "paid"),
    TrancheStatus.WITHHELD: ("暂停拨付", "withheld"),
    TrancheStatus.CANCELLED: ("取消", "cancelled"),
    TrancheStatus.RETURNED: ("退回专项资金", "returned to the fund"),
}
AGREEMENT_STATUS = {
    AgreementStatus.SIGNED: ("已签订", "signed"),
    AgreementStatus.ON_HOLD: ("暂缓", "on hold"),
    AgreementStatus.CANCELLED: ("终止", "cancelled"),
    AgreementStatus.SUSPENDED: ("中止", "suspended"),
}
RECONCILIATION_OUTCOMES = {
    ReconciliationOutcome.AMOUNT_MISMATCH: ("金额不符", "amount mismatch"),
    ReconciliationOutcome.PAYEE_MISMATCH: ("收款人不符", "payee mismatch"),
    ReconciliationOutcome.ONLY_IN_LEDGER: ("仅在台账", "only in the ledger"),
    ReconciliationOutcome.ONLY_IN_STATEMENT: ("仅在财务流水", "only in the statement"),
    ReconciliationOutcome.MATCHED: ("一致", "matched"),
}
EVALUATION_STATUS = {
    "passed": ("通过", "passed"),
    "failed": ("未通过", "failed"),
    "waiting_satisfaction": ("待满意度", "waiting for satisfaction"),
}
BANDS = {"excellent": ("优秀", "excellent"), "good": ("良好", "good"), "pass": ("合格", "pass"), "fail": ("不合格", "fail")}
MEASURES = {
    "commendation": ("通报表扬", "public commendation"),
    "next_cycle_bonus": ("下一周期评审加 {bonus} 分（优先支持）", "{bonus} bonus points in the next cycle's scoring (priority)"),
    "warning": ("警示约谈", "formal warning"),
    "withhold": ("暂停拨付结项款", "final tranche withheld"),
    "barred": ("取消下一周期申报资格", "barred from the next cycle"),
}
KIND_LABELS = {k: (v, k) for k, v in TRANCHE_KINDS.items()}
PHASE_LABELS = {k: (v, {"midterm": "mid-term", "rectification": "re-evaluation", "final": "final"}[k]) for k, v in PHASES.items()}


def label(table: dict[str, tuple[str, str]], key: str | None, lang: str) -> str:
    if key is None:
        return ""
    pair = table.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]

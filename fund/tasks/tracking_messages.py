"""The sentences of tracking and the leadership report, in Chinese and English (same
shape as `tasks.messages`, whose catalogue includes these rules), and their labels."""
from __future__ import annotations

from fund.schemas.codes import PHASES, TRANCHE_KINDS, TrancheStatus

MESSAGES: dict[str, tuple[str, str]] = {
    # closed vocabularies
    "tranche_unknown": ("拨付批次未知，应为：{allowed}", "unknown tranche; use one of: {allowed}"),
    "phase_unknown": ("评估阶段未知，应为：{allowed}", "unknown evaluation phase; use one of: {allowed}"),
    "resolution_unknown": ("处理结果未知，应为：{allowed}", "unknown resolution; use one of: {allowed}"),
    "duplicate_copy": ("与 {first} 完全相同，重复行已忽略", "identical to {first}; the copy is ignored"),
    # objections (公示异议)
    "objection_not_funded": ("异议针对的项目不在公示的拟资助名单中", "the objection names a project that is not on the public notice"),
    "objection_outside_period": ("收到日期 {received} 不在公示期（{start} 至 {end}）内",
                                 "received on {received}, outside the notice period ({start} to {end})"),
    "duplicate_objection": ("异议编号重复且内容不同（{lines}），均不予采用",
                            "the same objection id with different contents ({lines}); none is used"),
    # progress reports
    "progress_proposal_unknown": ("进度报告中的项目编号不存在", "the progress report names a proposal id that does not exist"),
    "progress_not_funded": ("该项目没有有效的资助协议（未获资助或协议已终止），不应提交进度报告",
                            "the project has no valid funding agreement (not funded, or the agreement was cancelled)"),
    "period_before_start": ("截止日期 {period_end} 早于项目开始日期 {start}", "period end {period_end} is before the project starts ({start})"),
    "period_after_end": ("截止日期 {period_end} 晚于项目结束日期 {end}", "period end {period_end} is after the project ends ({end})"),
    "period_end_future": ("截止日期 {period_end} 晚于统计日 {as_of}", "period end {period_end} is after the report date {as_of}"),
    "submitted_before_period_end": ("提交日期 {submitted} 早于截止日期 {period_end}",
                                    "submitted on {submitted}, before the period ends ({period_end})"),
    "duplicate_period": ("同一项目同一截止日期有多份不同的进度报告（{lines}），均不予采用",
                         "the same project and period end appear with different figures ({lines}); none is used"),
    "satisfaction_out_of_range": ("满意度应在 0 到 100 之间", "satisfaction must be between 0 and 100"),
    "satisfaction_precision": ("满意度最多保留两位小数", "satisfaction has at most two decimals"),
    "spent_above_disbursed": ("截至 {period_end} 累计支出 {spent}，超过已拨付资金 {disbursed}",
                              "by {period_end} the project reports {spent} spent, more than the {disbursed} disbursed"),
    # evaluation sheets
    "evaluation_not_funded": ("该项目没有已签订的资助协议，不能评估", "the project has no signed funding agreement to evaluate"),
    "evaluation_score_out_of_range": ("评分应在 0 到 100 之间", "the score must be between 0 and 100"),
    "evaluation_score_precision": ("评分最多保留两位小数", "the score has at most two decimals"),
    "evaluation_date_future": ("评估日期 {date} 晚于统计日 {as_of}", "evaluation date {date} is after the report date {as_of}"),
    "evaluation_before_start": ("评估日期 {date} 早于项目开始日期 {start}", "evaluation date {date} is before the project starts ({start})"),
    "final_before_end": ("结项评估日期 {date} 早于项目结束日期 {end}", "the final evaluation ({date}) is before the project ends ({end})"),
    "duplicate_evaluation": ("同一项目同一阶段有多份不同的评估（{lines}），均不予采用",
                             "the same project and phase appear with different evaluations ({lines}); none is used"),
    # payments (拨付台账)
    "payment_no_agreement": ("该项目没有已签订的资助协议，不能拨付", "the project has no signed funding agreement; nothing can be paid"),
    "tranche_not_payable": ("{tranche_zh}款在 {paid_on} 尚不能拨付：{why_zh}", "the {tranche} tranche cannot be paid on {paid_on}: {why_en}"),
    "payment_amount_mismatch": ("拨付金额 {amount} 与该批次应拨金额 {expected} 不一致",
                                "paid {amount}, but the tranche is {expected}"),
    "payment_future": ("拨付日期 {paid_on} 晚于统计日 {as_of}", "payment date {paid_on} is after the report date {as_of}"),
    "tranche_already_paid": ("该批次已于 {paid_on} 拨付（经办人 {by}，{amount}），不能重复拨付",
                             "this tranche was already paid on {paid_on} (by {by}, {amount}); it is paid once"),
    "payment_conflict": ("同一批次有多行不同的拨付记录（{lines}），均不予采用",
                         "the same tranche appears on several different lines ({lines}); none is used"),
    # tranche states (why a tranche is due, waiting or withheld)
    "signed": ("协议已于 {date} 签订", "agreement signed on {date}"),
    "midterm_passed": ("中期评估已通过（{score} 分）", "mid-term evaluation passed ({score})"),
    "final_passed": ("结项评估已通过（{score} 分）", "final evaluation passed ({score})"),
    "awaiting_midterm": ("待中期评估通过", "waits for a passed mid-term evaluation"),
    "awaiting_final": ("待结项评估通过", "waits for a passed final evaluation"),
    "awaiting_satisfaction": ("{phase}评估已评分，待进度报告中的受益人满意度", "the {phase} evaluation waits for beneficiary satisfaction from the progress reports"),
    "midterm_failed": ("中期评估未通过（{score} 分，合格线 {mark}），暂停拨付", "mid-term evaluation failed ({score}, pass mark {mark}); payment withheld"),
    "final_failed": ("结项评估未通过（{score} 分，合格线 {mark}），暂停拨付", "final evaluation failed ({score}, pass mark {mark}); payment withheld"),
    "objection_pending": ("公示异议待处理，暂缓签约", "an objection to the notice is pending; signing waits"),
    "objection_upheld": ("公示异议成立，协议终止", "an objection to the notice was upheld; the agreement is cancelled"),
    "paid": ("已于 {paid_on} 拨付（{by}）", "paid on {paid_on} ({by})"),
    "not_planned": ("本期未设置该批次", "this cycle has no such tranche"),
    "condition_later": ("拨付条件于 {date} 才满足", "its condition only held from {date}"),
    # project status reasons (leadership report)
    "report_missing": ("缺少进度报告（应于 {due} 前提交截至 {period} 的报告）",
                       "progress report missing (the report up to {period} was due by {due})"),
    "report_late": ("进度报告迟交（截至 {period} 的报告应于 {due} 前提交，{submitted} 提交）",
                    "progress report late (up to {period}: due {due}, submitted {submitted})"),
    "report_rejected_spending": ("进度报告支出超过已拨付资金（截至 {period}），报告未采用",
                                 "a progress report shows more spent than disbursed (up to {period}); it was not accepted"),
    "behind_plan": ("受益人数 {actual}，仅为按期计划 {expected} 的 {share}", "{actual} beneficiaries, only {share} of the {expected} planned to date"),
    "low_satisfaction": ("受益人满意度 {value}，低于合格线 {mark}", "beneficiary satisfaction {value} is below the pass mark {mark}"),
    "midterm_overdue": ("中期评估逾期（应于 {date} 前完成）", "mid-term evaluation overdue (due by {date})"),
    "final_overdue": ("结项评估逾期（应于 {date} 前完成）", "final evaluation overdue (due by {date})"),
    "not_started": ("项目尚未开始（{start} 开始）", "the project has not started yet (starts {start})"),
    "completed": ("已通过结项评估（{score} 分）", "final evaluation passed ({score})"),
    "no_reports_yet": ("尚未到首次进度报告提交期限（{due}）", "no progress report due yet (first due {due})"),
}

STATUS_LABELS = {"on_track": ("正常", "on track"), "late": ("滞后", "late"), "at_risk": ("风险", "at risk"),
                 "on_hold": ("暂缓", "on hold"), "cancelled": ("终止", "cancelled"), "completed": ("已结项", "completed"),
                 "not_started": ("未开始", "not started")}
TRANCHE_STATUS = {TrancheStatus.PLANNED: ("待条件", "planned"), TrancheStatus.DUE: ("应拨付", "due"),
                  TrancheStatus.PAID: ("已拨付", "paid"), TrancheStatus.WITHHELD: ("暂停拨付", "withheld"),
                  TrancheStatus.CANCELLED: ("取消", "cancelled")}
EVALUATION_STATUS = {"passed": ("通过", "passed"), "failed": ("未通过", "failed"),
                     "waiting_satisfaction": ("待满意度", "waiting for satisfaction")}
BANDS = {"excellent": ("优秀", "excellent"), "good": ("良好", "good"), "pass": ("合格", "pass"), "fail": ("不合格", "fail")}
MEASURES = {"commendation": ("通报表扬", "public commendation"),
            "next_cycle_bonus": ("下一周期评审加 {bonus} 分（优先支持）", "{bonus} bonus points in the next cycle's scoring (priority)"),
            "warning": ("警示约谈", "formal warning"),
            "withhold": ("暂停拨付结项款", "final tranche withheld"),
            "barred": ("取消下一周期申报资格", "barred from the next cycle")}
KIND_LABELS = {k: (v, k) for k, v in TRANCHE_KINDS.items()}
PHASE_LABELS = {k: (v, {"midterm": "mid-term", "final": "final"}[k]) for k, v in PHASES.items()}

def label(table: dict[str, tuple[str, str]], key: str | None, lang: str) -> str:
    if key is None:
        return ""
    pair = table.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]

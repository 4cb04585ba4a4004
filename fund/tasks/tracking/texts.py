"""Reasons, measures and the tracking guide as people read them."""

from __future__ import annotations

import json

from fund.schemas.config import CycleConfig
from fund.tasks.messages import centi_text, render
from fund.tasks.tracking.tranches import tranche_shares
from fund.tasks.tracking_messages import KIND_LABELS, MEASURES, PHASE_LABELS, label


def reason_text(rule: str, params: dict | str | None, lang: str) -> str:
    """A tranche or project-status reason in the asked language."""
    params = json.loads(params) if isinstance(params, str) else dict(params or {})
    params.pop("condition", None)
    if "why_rule" in params:  # a reason that stands on another one (a suspension, a reversal)
        nested = params.pop("why_rule")
        params["why"] = reason_text(nested, params.pop("why_params", {}), lang) if nested else ""
    if "phase" in params:
        params["phase"] = label(PHASE_LABELS, params["phase"], lang)
    return render(rule, params, lang)


def measures_text(codes: str, bonus_centi: int, lang: str) -> str:
    parts = [label(MEASURES, c, lang).format(bonus=centi_text(bonus_centi)) for c in codes.split(";") if c]
    return ("；" if lang != "en" else "; ").join(parts)


def guide_text(cfg: CycleConfig) -> str:
    t = cfg.tracking
    shares = " / ".join(f"{label(KIND_LABELS, k, 'zh')} {float(v * 100):g}%" for k, v in tranche_shares(cfg).items())
    lines = [
        "项目跟踪说明 / How tracking works",
        "",
        f"拨付：资助金额按批次拨付（{shares}）：签约款在协议签订后、中期款在中期评估通过后、结项款在结项评估通过后方可拨付。",
        "Tranches: the signing tranche is payable once the agreement is signed, the mid-term one after a passed "
        "mid-term evaluation, the final one after a passed final evaluation.",
        "拨付记录：运行 fund pay，或在周期文件夹放入 payments.csv（proposal_id, tranche, amount, paid_on, by, reference, reverses）。",
        "Payments: run fund pay, or put payments.csv in the cycle folder (proposal_id, tranche, amount, paid_on, by, reference, "
        "reverses).",
        "一个批次可分多笔拨付，每笔不超过该批次尚未拨付的金额，各笔合计等于批次金额（到分）即为拨付完毕。",
        "A tranche may be paid in several entries, each at most what remains of it; it is paid when they add up to its "
        "amount, to the fen.",
        "冲正：fund pay --reverse 凭证号，或在 payments.csv 中填写 reverses（被冲正的凭证号），金额为原拨付金额；台账只增不改，冲正后可重新拨付。",
        "Reversal: fund pay --reverse REFERENCE, or a payments.csv row whose reverses names the entry's reference, for "
        "its amount; the ledger is never edited, and a reversed tranche can be paid again.",
        "",
        f"进度报告：每 {t.report_period_days} 天一期，期末后 {t.report_grace_days} 天内提交，放入周期文件夹的 progress/ 目录（任意文件名）。",
        f"Progress reports: one every {t.report_period_days} days, due {t.report_grace_days} days after the period ends, "
        "into the cycle's progress/ folder (any file name).",
        "每行填写本期数据：proposal_id, period_end（截止日期）, services（服务人次）, activities（活动场次）, "
        "beneficiaries（受益人数）, spent（本期支出，元）, satisfaction（满意度 0–100，可空）, note, submitted_on（提交日期，可空）。",
        "Each row holds one period's own figures; cumulative spending may not exceed the money disbursed by the period end.",
        "sheets/progress_template.csv 列出每个项目下一期的截止日期，可作为填报模板。",
        "sheets/progress_template.csv lists each project's next period end and can be used as the form.",
        "",
        f"中期/结项评估：第三方评估机构在 sheets/midterm.csv、sheets/final.csv 中填写 score（0–100）和 evaluated_on，"
        f"交回后放入周期文件夹的 evaluations/ 目录。综合得分 = 评分 × {t.expert_weight} + 受益人满意度 × {t.satisfaction_weight}，"
        f"{t.pass_mark} 分合格。",
        f"Evaluations: the evaluator fills score (0–100) and evaluated_on in sheets/midterm.csv or sheets/final.csv and "
        f"returns them into the cycle's evaluations/ folder. Combined = score × {t.expert_weight} + beneficiary "
        f"satisfaction × {t.satisfaction_weight}; pass mark {t.pass_mark}.",
        f"整改：中期评估未通过的项目须在评估后 {t.rectification_days} 天内整改，复评填写 sheets/rectification.csv"
        "（phase 为 rectification 整改复评），复评通过则拨付中期款；复评未通过或逾期未复评，协议中止，未拨付资金退回专项资金。",
        f"Rectification: a project that fails its mid-term evaluation has {t.rectification_days} days to rectify; its "
        "re-evaluation goes in sheets/rectification.csv (phase rectification). Passed, the mid-term tranche is paid; "
        "failed or not done in time, the agreement is suspended and the money not paid goes back to the fund.",
        "",
        "公示异议：运行 fund objection，或在周期文件夹放入 objections.csv（objection_id, proposal_id, received_on, objector, "
        "content, resolution 待处理/成立/不成立, resolved_on, note）。",
        "Objections: run fund objection, or put objections.csv in the cycle folder.",
    ]
    return "\n".join(lines) + "\n"

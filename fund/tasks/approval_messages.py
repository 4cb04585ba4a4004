"""The sentences of the allocation approval on a Prefect server (the form an official fills
in, the run states it ends in, the alerts), in Chinese and English: key → (zh, en)."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "approval_form_decision": ("审批决定", "Decision"),
    "approval_form_decision_help": (
        "请选择“批准”（发布公示）或“驳回”（不发布，需调整后重新分配）。没有默认值。",
        "Choose approve (publish the notice) or reject (nothing is published). There is no default.",
    ),
    "approval_approve": ("批准", "approve"),
    "approval_reject": ("驳回", "reject"),
    "approval_form_approver": ("审批人姓名", "Approver's name"),
    "approval_form_approver_help": (
        "必填：作出决定的人的姓名，记入审计记录。",
        "Required: the name of the person deciding; it goes into the audit trail.",
    ),
    "approval_form_reason": ("意见或驳回理由", "Comment or reason for rejecting"),
    "approval_form_reason_help": ("驳回时必填；批准时可留空。", "Required when rejecting; optional when approving."),
    "approval_context": (
        "## 周期 {cycle}（{name}）资金分配待审批\n\n"
        "| 项目 | 数值 |\n|---|---|\n"
        "| 分配方式 | {policy} |\n| 资助项目数 | {funded} 项（共 {applicants} 个申报） |\n"
        "| 资助总额 | {total} |\n| 预算 | {budget} |\n| 结余 | {unused} |\n| 优先保障底线 | {floors} |\n\n"
        "请先审阅：\n\n- 分配结果：`{allocation}`\n- 两种分配方式对比：`{comparison}`\n\n"
        "批准后将发布公示（publicity.html）并生成结果通知书；驳回则不发布，调整 cycle.toml 或输入后重新运行会再次请求审批。"
        "也可在命令行审批：`{command}`",
        "## Cycle {cycle} ({name}): the allocation awaits approval\n\n"
        "| item | value |\n|---|---|\n"
        "| policy | {policy} |\n| funded | {funded} (of {applicants} applicants) |\n"
        "| total awarded | {total} |\n| budget | {budget} |\n| unused | {unused} |\n| priority floors | {floors} |\n\n"
        "Review first:\n\n- the allocation: `{allocation}`\n- the two policies compared: `{comparison}`\n\n"
        "Approving publishes the notice (publicity.html) and the result letters; rejecting publishes nothing, and "
        "a run after a change to cycle.toml or the inputs asks for approval again. On the command line: `{command}`",
    ),
    "approval_floors_none": ("未设置", "none set"),
    "approval_floor_met": ("{group} {amount}（底线 {floor}）已满足", "{group} {amount} (floor {floor}) met"),
    "approval_floor_short": ("{group} {amount}（底线 {floor}）未满足", "{group} {amount} (floor {floor}) NOT met"),
    "approval_waiting_since": (
        "分配结果自 {since} 起等待审批（运行 {run}），本次未做任何改动。请在 Prefect 界面打开运行 {run} 点击“Resume”填写审批表，"
        "或运行 {command}",
        "The allocation has been waiting for approval since {since} (run {run}); nothing was changed. Decide in the "
        "Prefect UI (open run {run}, Resume) or run {command}",
    ),
    "approval_suspended": (
        "分配结果待审批：本运行已暂停（不占用周期锁和并发名额），请在 Prefect 界面点击“Resume”填写审批表，或运行 {command}",
        "The allocation awaits approval: this run is suspended (it holds neither the cycle lock nor a concurrency "
        "slot). Decide in the Prefect UI (Resume) or run {command}",
    ),
    "approval_recorded": ("{by} 已{decision}分配结果{reason}", "{by} decided: {decision}{reason}"),
    "approval_no_reason": ("（未填写理由）", "(no reason given)"),
    "approval_superseded": (
        "已由 {by} 通过 fund approve 作出决定，此等待审批的运行已取消。",
        "Decided by {by} with fund approve; this run waiting for the decision is cancelled.",
    ),
    "approval_allocation_changed": (
        "分配结果已变化，此等待审批的运行已取消；新的分配结果由最新的运行请求审批。",
        "The allocation changed; this run waiting for a decision on the old one is cancelled. "
        "The latest run asks for a decision on the new one.",
    ),
    "approval_command": (
        "fund approve {cycle_dir} --out {out_dir} --by 姓名 [--reject 理由]",
        "fund approve {cycle_dir} --out {out_dir} --by NAME [--reject REASON]",
    ),
}

MESSAGES.update(
    {
        # alerts (deploy/automations.yaml): Prefect fills in {{ … }} when it sends one, so these are not
        # rendered with str.format; fund.flows.alerts replaces {hours} itself
        "alert_failed_subject": (
            "【公益创投】运行 {{ flow_run.name }} 失败（{{ flow_run.state.name }}）",
            "[fund] run {{ flow_run.name }} ended {{ flow_run.state.name }}",
        ),
        "alert_failed_body": (
            "{{ flow.name }} 的运行 {{ flow_run.name }} 结束于 {{ flow_run.state.name }}："
            "{{ flow_run.state.message }}\n查看：{{ flow_run|ui_url }}",
            "Run {{ flow_run.name }} of {{ flow.name }} ended {{ flow_run.state.name }}: "
            "{{ flow_run.state.message }}\nSee {{ flow_run|ui_url }}",
        ),
        "alert_waiting_subject": (
            "【公益创投】分配结果等待审批已超过 {hours} 小时",
            "[fund] the allocation has waited for approval over {hours} hours",
        ),
        "alert_waiting_body": (
            "运行 {{ flow_run.name }} 自 {{ flow_run.state.timestamp }} 起等待审批（{hours} 小时未处理）。"
            "请在 Prefect 界面打开该运行，点击“Resume”填写审批表，或使用 fund approve。\n查看：{{ flow_run|ui_url }}",
            "Run {{ flow_run.name }} has waited for approval since {{ flow_run.state.timestamp }} "
            "({hours} hours). Open it in the Prefect UI and Resume to decide, or use fund approve.\n"
            "See {{ flow_run|ui_url }}",
        ),
    }
)

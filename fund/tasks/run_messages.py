"""Stage outcomes, plans and command lines: what a run, `fund status` and the commands say
in Chinese and English (same shape as `tasks.messages`, whose catalogue includes these;
rendered with `sentence(key, lang, **params)`)."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # cli.audit
    "audit_trail_intact_data": (
        "审计链完整，数据与审计记录一致：{n} 条记录，记录指纹 {f}",
        "audit trail intact and the data matches it: {n} events, fingerprint {f}",
    ),
    "audit_failed_findings_audit": (
        "审计未通过：{n} 处不一致（共 {e} 条审计记录）",
        "audit failed: {n} findings ({e} audit events)",
    ),
    "there_no_proposal_this": ("本周期没有项目 {p}", "there is no proposal {p} in this cycle"),
    # cli.common
    "no_such_cycle_folder": ("找不到周期文件夹：{d}", "no such cycle folder: {d}"),
    "no_run_found_run": ("{o} 中没有运行记录：请先运行 fund run", "no run found in {o}: run fund run first"),
    "cycle_toml_not_usable": ("cycle.toml 有误（{k}）：{p}", "cycle.toml is not usable ({k}): {p}"),
    # cli.cycle
    "cycle_name_and_id": ("{n}（{c}）", "{n} ({c})"),
    "demo_cycle_results": ("\n示例周期的输入在 {c}，结果在 {o}：", "\nThe demo cycle is in {c}; its results are in {o}:"),
    "approve_needs_approver_name": ("--by 需要填写审批人姓名", "--by needs the approver's name"),
    "there_no_allocation_approve": (
        "还没有可审批的分配结果：请先运行 fund run 完成评分与分配",
        "there is no allocation to approve yet: fund run must finish scoring and allocation first",
    ),
    "allocation_rejected_nothing_will": (
        "已驳回分配结果（{r}），不会发布公示。",
        "allocation rejected ({r}); nothing will be published.",
    ),
    "allocation_approved_funded_run": (
        "已批准分配结果（资助 {n} 项）。运行 fund run 发布公示。",
        "allocation approved ({n} funded). Run fund run to publish the notice.",
    ),
    "set_takes_key_value": (
        "--set 的格式为 键=值，例如 priorities.elderly=0.3",
        "--set takes key=value, e.g. priorities.elderly=0.3",
    ),
    "inputs_changed_since_last": (
        "→ 自上次运行以来输入已变化：运行 fund run 更新",
        "→ its inputs changed since the last run: fund run brings it up to date",
    ),
    "not_run_yet_inputs": ("尚未运行；输入已齐，运行 fund run 开始", "not run yet; its inputs are there: fund run starts it"),
    # cli.city (city.toml, fund city run, fund city report)
    "city_nothing_started": ("未启动任何区县的运行。", "no district was started."),
    "city_needs_server": (
        "fund city run 通过 Prefect 服务器上的部署 {d} 运行各区县的周期，由工作进程池并行执行；服务器 {p} 上没有该部署\n"
        "请先按 deploy/README.md 部署（prefect deploy --prefect-file deploy/prefect.yaml --all），并把 PREFECT_API_URL 指向该服务器。",
        "fund city run starts each district's cycle through the deployment {d} on a Prefect server, run by its pool of workers; "
        "the server at {p} has no such deployment\nDeploy first as deploy/README.md says "
        "(prefect deploy --prefect-file deploy/prefect.yaml --all) and point PREFECT_API_URL at that server.",
    ),
    "city_no_server": (
        "fund city run 需要一个长期运行的 Prefect 服务器及其工作进程（各区县的周期作为部署 {d} 的运行由工作进程并行执行），"
        "但未设置 PREFECT_API_URL，本机也没有 fund server start 启动的服务器。请按 deploy/README.md 部署后再运行。",
        "fund city run needs a long-lived Prefect server and its workers (each district's cycle runs as a run of the deployment {d}, "
        "which the workers run side by side), but PREFECT_API_URL is not set and no server started by fund server start runs here. "
        "Deploy as deploy/README.md says, then run it again.",
    ),
    "city_started": (
        "已启动 {n} 个区县的周期运行（部署 {d}），等待完成……",
        "started {n} districts' cycles (deployment {d}); waiting for them...",
    ),
    "city_runs_started": (
        "已启动 {n} 个区县的周期运行（部署 {d}）；各区县的结果见各自的运行记录",
        "started {n} districts' cycles (deployment {d}); each district's run shows its outcome",
    ),
    "city_district_line": ("{mark} {n}（{c}）：{s}", "{mark} {n} ({c}): {s}"),
    "city_summary": (
        "{city}：{n} 个区县，完成 {done} 个，等待审批 {waiting} 个，停止 {stopped} 个，仍在运行 {running} 个；用时 {t} 秒",
        "{city}: {n} districts, {done} completed, {waiting} waiting for approval, {stopped} stopped, {running} still running; {t} s",
    ),
    "city_run_completed": ("已完成", "completed"),
    "city_run_waiting_approval": (
        "等待审批（在 Prefect 界面中批准或驳回）",
        "waiting for approval (approve or reject in the Prefect UI)",
    ),
    "city_run_not_finished": ("超过等待时间仍未结束（状态：{s}）", "not finished within the wait (state: {s})"),
    "city_run_ended": ("运行结束，状态 {s}：{m}", "the run ended {s}: {m}"),
    "city_report_written": ("城市总览已写入 {p}", "city overview written to {p}"),
    # cli.db
    "database_schema_version_current": ("数据库 {u} 已是结构版本 {v}", "the database {u} is at schema version {v}"),
    "current": ("（最新）", " (current)"),
    "this_release": ("（本程序为 {h}）", " (this release: {h})"),
    "database_schema_version_found": ("数据库 {u} 的结构版本：{v}{s}", "the database {u} is at schema version {v}{s}"),
    "name_database_db_or": (
        "请用 --db 指定数据库地址，或用 --out 指定输出文件夹",
        "name the database with --db, or the output folder with --out",
    ),
    "there_no_fund_db": ("{o} 中没有数据库 fund.db", "there is no fund.db in {o}"),
    "database_has_no_schema": (
        "数据库 {u} 没有版本记录（新库，或旧版本建立）；fund db upgrade 或 fund run 会升级到 {h}",
        "the database {u} has no schema version (new, or made by an older release); fund db upgrade or fund run brings it to {h}",
    ),
    "cannot_read_database": ("无法读取数据库 {u}：{e}", "cannot read the database {u}: {e}"),
    # cli.next_steps
    "then_run_again_fund": ("然后再运行：fund run {c} --out {o}", "then run again: fund run {c} --out {o}"),
    "next_fix_what_described": (
        "下一步：按上面的说明修正后重新运行（fund run {c} --out {o}）；已完成的阶段不会重做。",
        "Next: fix what is described above and run again (fund run {c} --out {o}); finished stages are not redone.",
    ),
    "next_review_allocation_allocation": (
        "下一步：审核 {o}/allocation/allocation.csv 与 comparison.csv，然后批准：fund approve {c} --out {o} --by 姓名（或驳回：加 --reject 理由），再运行 fund run 发布公示。",
        "Next: review {o}/allocation/allocation.csv and comparison.csv, then approve: fund approve {c} --out {o} --by NAME (or reject: add --reject REASON), then fund run to publish the notice.",
    ),
    "next_notice_runs_until": (
        "下一步：公示期至 {d}；期间的异议用 fund objection 登记。期满后运行 fund run 签订协议并开始拨付。",
        "Next: the notice runs until {d}; record objections with fund objection. After it, fund run signs the agreements and starts the payments.",
    ),
    "next_leadership_report_public": (
        "下一步：领导报告 {r}；公示 {p}。新的进度报告、拨付记录或评估表放入 {c} 后再运行 fund run。",
        "Next: the leadership report is {r}; the public notice {p}. Put new progress reports, payments or evaluation sheets in {c} and run fund run again.",
    ),
    "next_send_sheets_review": (
        "下一步：把 {o}/review/sheets/ 中的评分表发给这些专家并催收：{r}{m}；交回的表放入 {c}/scores/。",
        "Next: send the sheets in {o}/review/sheets/ to these reviewers and collect them: {r}{m}; put the returned sheets in {c}/scores/.",
    ),
    "add_community_ratings_proposals": (
        "把 {n} 个项目的社区评议结果补入 {c}/community_ratings.csv。",
        "Add the community ratings of {n} proposals to {c}/community_ratings.csv.",
    ),
    "next_this_internal_error": (
        "下一步：这是程序内部错误，详细信息已写入 {log}，请把它发给技术支持。",
        "Next: this is an internal error; its details are in {log}: send it to technical support.",
    ),
    "next_put": ("下一步：把 {f} 放入 {c}，", "Next: put {f} in {c}, "),
    "next_put_reviewer_list": (
        "下一步：把评审专家名单 reviewers.csv 放入 {c}，",
        "Next: put the reviewer list reviewers.csv in {c}, ",
    ),
    "next_change_rules_or": (
        "下一步：调整 cycle.toml 中的规则或预算（可先用 fund whatif 试算），",
        "Next: change the rules or the budget in cycle.toml (try them first with fund whatif), ",
    ),
    # cli.tracking
    "report_stopped": ("报告中断：{e}", "the report stopped: {e}"),
    # flows.allocation
    "public_notice_written_allocation": (
        "公示已生成：allocation/publicity.html（{n} 个项目，公示期 {a} 至 {b}，共 {d} 天）；{k} 份结果通知书见 allocation/letters/",
        "public notice written: allocation/publicity.html ({n} projects, {a} to {b}, {d} days); {k} result letters in allocation/letters/",
    ),
    "stored_allocation_breaks_rules": (
        "已存储的分配结果不符合规则，未发布公示：{v}",
        "the stored allocation breaks the rules; nothing is published: {v}",
    ),
    "public_notice_unchanged": ("公示未变化", "public notice unchanged"),
    "allocation_done_funded_unused": (
        "分配完成（{policy}）：资助 {n} 项，共 {amount}，预算 {budget}，结余 {left}；求解状态 {status}，最优性差距 {gap}",
        "allocation done ({policy}): {n} funded, {amount} of {budget}, {left} unused; solver {status}, optimality gap {gap}",
    ),
    "note_publicity_cycle_toml": (
        "- 注意：cycle.toml 的 [publicity] 未设置 {k}，公示与通知书中缺少落款单位或异议联系方式",
        "- note: [publicity] in cycle.toml does not set {k}; the notice and the letters lack the issuer or a way to object",
    ),
    # flows.artifacts
    "allocation_cycle": ("周期 {c} 的资金分配结果", "the allocation of cycle {c}"),
    "data_quality_checks_each": ("周期 {c} 各阶段的数据质量检查", "data-quality checks of each stage of cycle {c}"),
    "reviewer_statistics_cycle_negative": (
        "周期 {c} 的专家评审统计（严格度为负表示比同组专家严格）",
        "reviewer statistics of cycle {c} (negative severity: stricter than co-reviewers)",
    ),
    "rejected_rows_cycle_all": (
        "周期 {c} {s} 阶段的问题记录：共 {n} 条，此处列出前 {k} 条（全部见 validation/rejected.csv）",
        "rejected rows of {s} in cycle {c}: {n} in all, the first {k} shown (all in validation/rejected.csv)",
    ),
    # flows.assignment
    "reviewers_proposals_assignments_each": (
        "{r} 位专家评审 {p} 个项目，共 {a} 个评审任务（每位 {lo}–{hi} 个）；评分表见 review/sheets/",
        "{r} reviewers for {p} proposals, {a} assignments ({lo}–{hi} each); sheets in review/sheets/",
    ),
    "not_enough_reviewers_accepted": (
        "评审专家不足：{n} 个受理项目每项需要 {k} 位无利益关联的专家，共需 {slots} 个评审名额，现有专家剩余可用名额 {cap} 个，缺少 {missing} 个（涉及项目：{ids}）。请在 reviewers.csv 中增加专家或提高 max_load 后重新运行。",
        "not enough reviewers: {n} accepted proposals need {k} unaffiliated reviewers each, {slots} slots in all; the pool has {cap} free slots, {missing} are missing (proposals: {ids}). Add reviewers or raise max_load in reviewers.csv and run again.",
    ),
    # flows.cycle
    "cannot_use_cycle_toml": ("无法读取周期配置 {d}/cycle.toml（{k}）：{p}", "cannot use {d}/cycle.toml ({k}): {p}"),
    # flows.intake
    "proposals_accepted_not_eligible": (
        "申报 {n} 项：受理 {a} 项，不予受理 {r} 项；读入 {rows} 行，{p} 条问题记录见 validation/rejected.csv",
        "{n} proposals: {a} accepted, {r} not eligible; {rows} rows read, {p} problems in validation/rejected.csv",
    ),
    # flows.letters
    "result_letters_not_e": (
        "- 结果通知书未发送邮件：邮件设置有误（{e}）",
        "- result letters not e-mailed: the mail settings are not usable ({e})",
    ),
    "these_projects_organization_e": (
        "- 以下项目的机构电子邮箱无法识别，结果通知书未发送：{p}",
        "- these projects' organization e-mail is not an address; their letters were not sent: {p}",
    ),
    "result_letters_e_mailed": ("- 结果通知书已发送邮件 {n} 份", "- {n} result letters e-mailed"),
    "result_letters_could_not": (
        "- 结果通知书邮件发送失败 {k} 份（已重试）：{e}。通知书文件已保存；下次运行 fund run 时将重新发送未发出的通知书。",
        "- {k} result letters could not be e-mailed (after retries): {e}. The letters are saved; the next fund run sends the ones not sent.",
    ),
    "unknown_error": ("未知错误", "unknown error"),
    # flows.plans
    "restored_changed_or_deleted": (
        "已从数据库恢复 {n} 个被改动或删除的输出文件：{f}",
        "restored {n} changed or deleted output files from the database: {f}",
    ),
    "output_files_differ_from": (
        "{n} 个输出文件与生成时不一致：{f}（运行 fund run 将从数据库恢复）",
        "{n} output files differ from what was written: {f} (fund run restores them from the database)",
    ),
    "accepted_proposals_not_fully": (
        "{w}/{n} 个受理项目尚未完成双评，暂停在评分阶段，分配尚未进行：",
        "{w} of {n} accepted proposals are not fully evaluated yet; the run stops after scoring and the allocation has not run:",
    ),
    "no_score_sheet_or": (
        "评分表与社区评议自上次运行以来没有变化。",
        "No score sheet or community rating changed since the last run. ",
    ),
    "third_reviews_or_conflict": (
        "- 本次新派第三轮评审或回避替补 {k} 项，新评分表已写入 review/sheets/（{r}）",
        "- {k} third reviews or conflict replacements were assigned now; new sheets are in review/sheets/ ({r})",
    ),
    "waiting_reviewer_score_proposals": (
        "- 等待专家 {r} 交回 {k} 项评分：{p}",
        "- waiting for reviewer {r} to score {k} proposals: {p}",
    ),
    "proposals_have_no_community": (
        "- {k} 个项目缺少社区评议（community_ratings.csv）：{p}",
        "- {k} proposals have no community rating (community_ratings.csv): {p}",
    ),
    "tracking_setting_not_usable": ("跟踪设置有误（{k}）：{p}", "tracking setting not usable ({k}): {p}"),
    "changed": ("{p}（被改动）", "{p} (changed)"),
    "deleted": ("{p}（被删除）", "{p} (deleted)"),
    "intake_files_missing": ("申报材料未齐：缺少 {f}", "intake files missing: {f}"),
    "intake_files_unchanged": ("申报材料未变化，沿用上次结果", "intake files unchanged"),
    "waiting_reviewer_list_missing": ("等待评审专家名单：缺少 {f}", "waiting for the reviewer list: {f} is missing"),
    "assignment_unchanged": ("评审分配未变化", "assignment unchanged"),
    "scores_ratings_unchanged": ("评分与社区评议未变化", "scores and ratings unchanged"),
    "scoring_not_finished_no": ("评分尚未完成，暂不分配", "scoring is not finished; no allocation yet"),
    "allocation_unchanged": ("分配结果未变化", "allocation unchanged"),
    "no_allocation_yet": ("尚无分配结果", "no allocation yet"),
    "funded_list_not_published": (
        "拟资助名单尚未公示，暂不进入项目跟踪",
        "the funded list is not published yet; tracking starts after the public notice",
    ),
    "public_notice_from_today": (
        "公示期 {a} 至 {b}（截至 {d}）：期满后签订协议、开始拨付与跟踪。公示期内的异议请用 fund objection 或 objections.csv 登记。",
        "public notice from {a} to {b} (today is {d}): agreements, payments and tracking start when it ends. Record objections with fund objection or objections.csv.",
    ),
    "tracking_inputs_unchanged": ("跟踪数据未变化（截至 {d}）", "tracking inputs unchanged (as of {d})"),
    "leadership_report_unchanged": ("领导报告未变化（截至 {d}）：{p}", "leadership report unchanged (as of {d}): {p}"),
    "allocation_awaits_approval_check": (
        "分配结果待审批：请审核 allocation/allocation.csv，然后运行 fund approve {d} --out {o} --by 姓名（或加 --reject 理由），再运行 fund run 发布公示。",
        "the allocation awaits approval: check allocation/allocation.csv, then run fund approve {d} --out {o} --by NAME (or --reject REASON), then fund run to publish.",
    ),
    "allocation_was_rejected_nothing": (
        "分配结果已被 {by} 驳回（{reason}），未发布公示。请调整后重新运行。",
        "the allocation was rejected by {by} ({reason}); nothing is published. Adjust and run again.",
    ),
    "no_tracking_data": ("尚无跟踪数据", "no tracking data"),
    "tracking_has_not_started": ("项目跟踪尚未开始，暂无领导报告：{r}", "tracking has not started; no report yet: {r}"),
    # flows.report
    "leadership_report_written": ("领导报告已生成：{p}", "leadership report written: {p}"),
    "status_report": ("【公益创投】{n}项目跟踪报告（截至 {d}）", "{n}: status report as of {d}"),
    "report_note_tracking_failed": (
        "注意：本次跟踪数据导入出错（{m}），报告使用上次成功导入的数据。",
        "Note: this run's tracking import failed ({m}); the report uses the last imported data.",
    ),
    "full_report_attached_this": (
        "完整报告见附件或本邮件的网页版。",
        "The full report is attached and in this e-mail's HTML part.",
    ),
    "cycle_being_run_another": (
        "周期正在由另一个运行处理（{o}），本次未生成报告；请稍后再运行。",
        "the cycle is being run by another process ({o}); no report now. Run again later.",
    ),
    "report_note_tracking_stopped": (
        "注意：本次跟踪数据导入中止（{m}），报告使用上次成功导入的数据。",
        "Note: this run's tracking import stopped ({m}); the report uses the last imported data.",
    ),
    "e_mailed": ("已发送至：{to}", "e-mailed to: {to}"),
    "but_could_not_e": (
        "但邮件未能发送（已重试）：{e}。报告文件已保存；修复邮件设置后再次运行 fund report 即可重新发送。",
        "but it could not be e-mailed (after retries): {e}. The report is saved; run fund report again once mail works.",
    ),
    # flows.scoring
    "all_accepted_proposals_have": (
        "{n} 个受理项目全部完成双评（专家 {w1} + 社区 {w2}）",
        "all {n} accepted proposals have their double evaluation (expert {w1} + community {w2})",
    ),
    "calibrated_reviewer_severity_proposals": (
        "- 已按评审尺度校准：{k} 个项目排名变化（{s}）；各专家尺度见 evaluation/reviewers.csv",
        "- calibrated for reviewer severity: {k} proposals changed rank ({s}); see evaluation/reviewers.csv",
    ),
    "no_reviewer_left_third": (
        "没有可用的评审专家承担第三轮评审或回避后的替补（项目：{ids}）：所有未关联的专家都已评审过该项目或已满负荷。请在 reviewers.csv 中增加专家或提高 max_load 后重新运行。",
        "no reviewer is left for a third review or a conflict replacement (proposals: {ids}): every unaffiliated reviewer has already reviewed it or is at max_load. Add reviewers or raise max_load in reviewers.csv and run again.",
    ),
    # flows.tracking
    "no_funded_project_track": ("没有获资助的项目，无需跟踪", "no funded project to track"),
    # flows.whatif
    "change": ("变化", "change"),
    "proposal": ("项目编号", "proposal"),
    "final_score": ("综合得分", "final score"),
    "requested": ("申请金额", "requested"),
    "now_funded_what_if": (
        "现结果：资助 {a} 项共 {x}；假设结果：资助 {b} 项共 {y}（预算 {budget}，{policy}）。已发布的结果未改动。",
        "now: {a} funded, {x}; what-if: {b} funded, {y} (budget {budget}, {policy}). Nothing published was changed.",
    ),
    "no_allocation_yet_what": (
        "还没有分配结果：评分完成并分配后才能做假设分析",
        "no allocation yet: what-if needs a finished scoring and allocation",
    ),
    "what_if": ("假设分析：{o}", "what-if: {o}"),
    "enters": ("新入选", "enters"),
    "leaves": ("落选", "leaves"),
    "bad_rule_value": ("规则参数有误（{k}）：{p}", "bad rule value ({k}): {p}"),
    # tasks.decision
    "final_score_value": ("综合得分 {s}", "final score {s}"),
    "not_eligible": ("资格审查未通过：{t}", "not eligible: {t}"),
    "final_score_below_threshold": ("综合得分 {s}，低于入围线 {t}", "final score {s} is below the threshold {t}"),
    "final_score_ranked_fundable": (
        "综合得分 {s}，在 {n} 个入围项目中排名第 {r}，资助 {a}",
        "final score {s}, ranked {r} of {n} fundable proposals, awarded {a}",
    ),
    "final_score_passes_threshold_org_limit": (
        "综合得分 {s} 达到入围线，但同一机构已获资助 {b}（每个机构最多资助 {m} 项）",
        "final score {s} passes the threshold, but the organization is already funded for {b} (at most {m} per organization)",
    ),
    "final_score_passes_threshold_budget_short": (
        "综合得分 {s} 达到入围线，在 {n} 个入围项目中排名第 {r}；预算不足：资助入选项目后剩余 {rem}，申请 {req}，缺口 {short}",
        "final score {s} passes the threshold (rank {r} of {n}); not enough budget: {rem} remains after the funded projects, the request is {req}, {short} short",
    ),
    "minimum_share": ("{g}类最低资金份额", "the {g} minimum share"),
    "only_funded_project_street": ("{s}唯一资助项目（街道全覆盖）", "the only funded project in {s} (street coverage)"),
    "independent_check_found_allocation": (
        "独立复核发现分配结果违反规则，未发布：{v}",
        "the independent check found the allocation breaking rules; nothing published: {v}",
    ),
    "solver_did_not_prove": (
        "求解器未证明最优（相对差距 {gap:.2e}，状态 {s}），未发布",
        "the solver did not prove optimality (gap {gap:.2e}, status {s}); nothing published",
    ),
    "secures": ("；保障了{x}", "; it secures {x}"),
    "would_have_needed_final": ("；综合得分需达到 {x} 才能入选", "; it would have needed a final score of {x}"),
    "solver_gave_no_publishable": (
        "求解器未能给出可发布的结果（状态：{s}），未发布任何分配；可在 cycle.toml 的 [allocation] 中设置 time_limit_s 或 mip_gap 后重试。",
        "the solver gave no publishable result (status: {s}); nothing is published. Set [allocation] time_limit_s or mip_gap in cycle.toml and try again.",
    ),
    # tasks.letters
    "letter_mail_subject": ("【公益创投】{c}评审结果通知：{p}（{s}）", "{c}: the result of your proposal {p} ({s})"),
    "letter_salutation": ("{o}：", "To {o},"),
    "letter_mail_body_result": ("贵机构申报的项目 {p}“{t}”评审结果：{s}。", 'the result of your proposal {p} "{t}": {s}.'),
    "attached_letter_gives_details": ("详见附件中的结果通知书。", "The attached letter gives the details."),
}

# the stages' names, and what else a run reports on (outputs, the run's lock, cycle.toml)
STAGE_LABELS = {
    "intake": ("申报受理", "intake"),
    "assignment": ("专家分配", "assignment"),
    "scoring": ("评分与双评", "scoring"),
    "allocation": ("资金分配", "allocation"),
    "publication": ("公示", "publication"),
    "tracking": ("项目跟踪", "tracking"),
    "reconciliation": ("财务对账", "reconciliation"),
    "report": ("领导报告", "report"),
    "outputs": ("输出文件", "output files"),
    "lock": ("运行", "run"),
    "config": ("周期配置", "cycle.toml"),
}

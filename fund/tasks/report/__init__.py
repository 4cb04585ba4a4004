"""The leadership status report (领导报告): per-project status, headline numbers, what
changed since the last report, a self-contained HTML page and its CSV (the e-mail is `tasks.mail`).

Pure functions over stored rows; `flows.report` loads the rows, calls these and delivers.

Project status, as of the report date (first match decides the group; every reason is listed):
- cancelled 终止 (an objection upheld), on_hold 暂缓 (an objection pending), completed 已结项
  (final evaluation passed), not_started 未开始 (before its start date, nothing wrong yet);
- at_risk 风险: a failed mid-term or final evaluation, a progress report rejected for spending
  more than disbursed, two or more missing reports, beneficiaries under `behind_plan` of the
  plan to date, or satisfaction under the pass mark;
- late 滞后: one missing report, a report submitted after its due date, or a mid-term / final
  evaluation not done one reporting period after the project's midpoint / end;
- otherwise on_track 正常.
"""

from fund.tasks.report.headline import changes, headline
from fund.tasks.report.page import history_context, render_html, report_context, wan
from fund.tasks.report.status import project_statuses, reasons_text
from fund.tasks.report.summaries import headline_lines, headline_markdown, numbers_lines, status_table, write_status

__all__ = [
    "changes",
    "headline",
    "headline_lines",
    "headline_markdown",
    "history_context",
    "numbers_lines",
    "project_statuses",
    "reasons_text",
    "render_html",
    "report_context",
    "status_table",
    "wan",
    "write_status",
]

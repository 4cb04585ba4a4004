"""Reviewer score sheets as people fill them in: the columns of a sheet (CSV and Excel
alike) and the Excel workbook `review/sheets/<reviewer_id>.xlsx` (openpyxl).

A sheet lists the reviewer's proposals with the reference columns first (proposal,
title, …, round, reviewer), then one column per rubric criterion, the comment and the
conflict declaration. Each header cell starts with the column's English key and carries
its Chinese name and, for a criterion, its maximum (`need 需求契合 (0–20)`): the score
sheet reader accepts exactly these cells, as well as the plain English or Chinese ones.
In the workbook the reference cells are locked, the score cells accept only 0 to the
criterion's maximum, `conflict` is a 是/否 list, ids are stored as text, and an
instructions sheet says by when, to whom and how to return it.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from fund.schemas.codes import CATEGORIES, CRITERION_LABELS
from fund.schemas.config import CycleConfig

REFERENCE = (
    ("proposal_id", "项目编号"),
    ("title", "项目名称"),
    ("category", "服务类别"),
    ("street", "街道"),
    ("community", "社区"),
    ("summary", "项目简介"),
    ("round", "评审轮次"),
    ("reviewer_id", "评审编号"),
)
ANSWERS = (("comment", "评语"), ("conflict", "利益冲突"))
WIDTHS = {
    "proposal_id": 12,
    "title": 26,
    "category": 8,
    "street": 11,
    "community": 11,
    "summary": 40,
    "round": 8,
    "reviewer_id": 11,
    "comment": 30,
    "conflict": 10,
}
FIXED_TIME = (2026, 1, 1, 0, 0, 0)  # zip entry times: the same sheet gives the same bytes


def criterion_header(name: str, maximum: int) -> str:
    return f"{name} {CRITERION_LABELS.get(name, name)} (0–{maximum})"


def sheet_header(rubric: dict[str, int]) -> list[str]:
    """The header cells of a reviewer's sheet (CSV and workbook alike)."""
    return (
        [f"{key} {zh}" for key, zh in REFERENCE]
        + [criterion_header(n, m) for n, m in rubric.items()]
        + [f"{key} {zh}" for key, zh in ANSWERS]
    )


def sheet_rows(reviewer_id: str, items: list[dict], proposals: dict[str, dict], rubric: dict[str, int]) -> list[list]:
    """One row per assignment of the reviewer (round, then proposal), scores left blank."""
    rows = []
    for a in sorted(items, key=lambda a: (a["round"], a["proposal_id"])):
        p = proposals[a["proposal_id"]]
        rows.append(
            [
                a["proposal_id"],
                p.get("title") or "",
                CATEGORIES.get(p.get("category"), p.get("category") or ""),
                p.get("street") or "",
                p.get("community") or "",
                p.get("summary") or "",
                a["round"],
                reviewer_id,
                *([""] * len(rubric)),
                "",
                "",
            ]
        )
    return rows


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose entries carry a fixed time, so a workbook's bytes depend on its content only."""

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = zipfile.ZipInfo(zinfo_or_arcname, date_time=FIXED_TIME)
            zinfo_or_arcname.compress_type = zipfile.ZIP_DEFLATED
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        with open(filename, "rb") as handle:  # openpyxl writes worksheets through temporary files
            self.writestr(arcname or str(filename), handle.read())


def instructions(cfg: CycleConfig, reviewer: dict | None, count: int) -> list[tuple[str, str]]:
    """The instruction sheet's lines: (Chinese, English)."""
    review = cfg.review
    name = (reviewer or {}).get("name")
    deadline = review.deadline.isoformat() if review.deadline else None
    lines = [
        (f"{cfg.cycle.name} 专家评分表", f"{cfg.cycle.name}: reviewer's score sheet"),
        (
            f"评审专家：{name}（{(reviewer or {}).get('reviewer_id', '')}），共 {count} 个项目" if name else f"共 {count} 个项目",
            f"Reviewer: {name} ({(reviewer or {}).get('reviewer_id', '')}), {count} proposals" if name else f"{count} proposals",
        ),
        (
            f"交回截止日期：{deadline}" if deadline else "交回截止日期：请向管理员确认",
            f"Return it by: {deadline}" if deadline else "Return it by: ask the administrator",
        ),
        (
            f"联系人：{review.contact}" if review.contact else "联系人：本期公益创投管理员",
            f"Contact: {review.contact}" if review.contact else "Contact: the administrator of this cycle",
        ),
        ("", ""),
        ("填写方法", "How to fill it in"),
        (
            "在“评分表”中为每个项目的各评分项打分（整数或 .5 分，不超过该项满分），可填写评语。",
            "On the score sheet, score each proposal on each criterion (whole or half points, up to the criterion's "
            "maximum); a comment is welcome.",
        ),
        (
            "如与申报机构存在利益关系，请在“利益冲突”列选“是”，评分列留空；系统将另派专家。",
            "If you have a conflict of interest with the organization, choose 是 (yes) under conflict and leave the "
            "scores empty; another reviewer will be assigned.",
        ),
        (
            "灰色的参考列（项目编号至评审编号）已锁定；请不要增删行列或修改表头。",
            "The grey reference columns (proposal to reviewer) are locked; do not add or remove rows or columns or "
            "change the header.",
        ),
        (
            "填好后直接保存为 .xlsx（也可另存为 CSV），按文件原名发回联系人，由管理员放入本期的 scores/ 文件夹。",
            "Save it as .xlsx (or CSV) under its own name and send it back to the contact, who puts it in the "
            "cycle's scores/ folder.",
        ),
        ("", ""),
        ("评分项及满分", "Criteria and maximum points"),
    ]
    lines += [(f"{n} {CRITERION_LABELS.get(n, n)}：0–{m} 分", f"{n}: 0–{m} points") for n, m in cfg.rubric.items()]
    lines.append((f"合计满分 {sum(cfg.rubric.values())} 分", f"Total: out of {sum(cfg.rubric.values())}"))
    return lines


def workbook_bytes(cfg: CycleConfig, reviewer_id: str, reviewer: dict | None, header: list[str], rows: list[list]) -> bytes:
    """The .xlsx workbook of one reviewer's sheet (same header and rows as the CSV)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, NamedStyle, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.properties import PageSetupProperties
    from openpyxl.writer.excel import ExcelWriter

    rubric = cfg.rubric
    workbook = Workbook()
    stamp = dt.datetime(*FIXED_TIME)
    workbook.properties.creator = "fund"
    workbook.properties.title = f"{cfg.cycle.name} {reviewer_id}"
    workbook.properties.created = workbook.properties.modified = stamp
    top = Alignment(wrap_text=True, vertical="top")
    heading = NamedStyle(
        "表头",
        font=Font(bold=True),
        fill=PatternFill("solid", fgColor="D9E2EC"),
        alignment=Alignment(wrap_text=True, vertical="center"),
    )
    # reference cells: grey, locked, text (an all-digit id stays an id, never 1.2E+17)
    reference = NamedStyle("参考", fill=PatternFill("solid", fgColor="EEF1F4"), alignment=top, number_format="@")
    workbook.add_named_style(heading)
    workbook.add_named_style(reference)
    sheet = workbook.active
    sheet.title = "评分表"
    first_answer = len(REFERENCE) + 1  # the first column a reviewer fills in
    last_row = len(rows) + 1
    for column, text in enumerate(header, start=1):
        sheet.cell(1, column, text).style = heading
    for r, row in enumerate(rows, start=2):
        for column, value in enumerate(row[: len(REFERENCE)], start=1):
            cell = sheet.cell(r, column, value)
            cell.style = reference
            if cell.data_type == "f":  # text that looks like a formula stays text
                cell.data_type = "s"
        for column, value in enumerate(row[len(REFERENCE) :], start=first_answer):
            if value not in ("", None):
                sheet.cell(r, column, value).protection = Protection(locked=False)
    keys = [key for key, _ in REFERENCE] + list(rubric) + [key for key, _ in ANSWERS]
    for index, key in enumerate(keys, start=1):
        dimension = sheet.column_dimensions[get_column_letter(index)]
        dimension.width = WIDTHS.get(key, 12)
        if index >= first_answer:  # the cells a reviewer fills in are open (they take the column's format)
            dimension.protection, dimension.alignment = Protection(locked=False), top
    sheet.row_dimensions[1].height = 32
    if rows:
        for offset, (name, maximum) in enumerate(rubric.items()):
            letter = get_column_letter(first_answer + offset)
            rule = DataValidation(
                type="decimal",
                operator="between",
                formula1="0",
                formula2=str(maximum),
                allow_blank=True,
                showInputMessage=True,
                showErrorMessage=True,
                promptTitle=f"{name} {CRITERION_LABELS.get(name, name)}"[:32],
                prompt=f"0–{maximum} 分，整数或 .5 / 0 to {maximum}, whole or half points",
                errorTitle="分值超出范围 / out of range",
                error=f"请填写 0 到 {maximum} 之间的分数 / enter a score from 0 to {maximum}",
            )
            rule.add(f"{letter}2:{letter}{last_row}")
            sheet.add_data_validation(rule)
        conflict = get_column_letter(len(keys))
        choice = DataValidation(
            type="list",
            formula1='"是,否"',
            allow_blank=True,
            showInputMessage=True,
            showErrorMessage=True,
            promptTitle="利益冲突 / conflict",
            prompt="与申报机构有利益关系选“是”，评分留空 / 是 (yes) if you have a conflict of interest",
            errorTitle="请选择 / choose",
            error="请选择“是”或“否” / choose 是 (yes) or 否 (no)",
        )
        choice.add(f"{conflict}2:{conflict}{last_row}")
        sheet.add_data_validation(choice)
    sheet.freeze_panes = "C2"
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False  # reviewers may widen columns and rows
    sheet.protection.formatRows = False
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)

    guide = workbook.create_sheet("填写说明")
    for zh, en in instructions(cfg, reviewer, len(rows)):
        guide.append([zh, en])
    guide["A1"].font = guide["B1"].font = Font(bold=True, size=13)
    for cell in ("A6", "B6", "A12", "B12"):
        guide[cell].font = Font(bold=True)
    guide.column_dimensions["A"].width = 70
    guide.column_dimensions["B"].width = 80
    for row in guide.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    workbook.active = 0

    buffer = io.BytesIO()
    archive = _FixedTimeZip(buffer, "w", zipfile.ZIP_DEFLATED)
    ExcelWriter(workbook, archive).save()  # not workbook.save(): that stamps the time of writing
    return buffer.getvalue()

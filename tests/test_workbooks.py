"""Reviewer sheets as reviewers get and return them: the CSV and Excel sheets the product
writes (bilingual headers with maximum points, reference columns first and locked, score
cells validated, ids as text, instructions), read back through the same cell rules, and a
returned sheet in any other format reported by name."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from builders import RUBRIC, full_scores, make_config, score_row, write_scores
from fund.cli.cycle import demo_folder
from fund.tasks.reading import FileProblem
from fund.tasks.scoring import read_score_sheets, validate_reviews
from fund.tasks.workbooks import sheet_header, sheet_rows, workbook_bytes
from fund.tasks.writers import write_review_files

PROPOSALS = {
    "P1": {
        "title": "永吉社区助老服务",
        "category": "elderly",
        "street": "南关街道",
        "community": "永吉社区",
        "summary": "为独居老人上门服务",
    },
    "0012345678901234567": {
        "title": "四点半课堂",
        "category": "children",
        "street": "南关街道",
        "community": "东盛社区",
        "summary": "=1+1",
    },
}
ASSIGNMENTS = [{"proposal_id": pid, "reviewer_id": "R1", "round": 1} for pid in PROPOSALS]
ACCEPTED = set(PROPOSALS)
ASSIGNED = {(pid, "R1") for pid in PROPOSALS}
CONFIG = make_config(review={"deadline": dt.date(2026, 4, 20), "contact": "区社会组织服务中心 王老师 0431-8888 1234"})


@pytest.fixture
def written(tmp_path) -> Path:
    write_review_files(tmp_path, ASSIGNMENTS, PROPOSALS, CONFIG, {"R1": {"reviewer_id": "R1", "name": "李评审"}})
    return tmp_path / "review" / "sheets"


def csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))


def soffice() -> str:
    binary = shutil.which("soffice") or shutil.which("libreoffice")
    if binary is None:
        pytest.skip("LibreOffice is not installed (e.g. the distribution's libreoffice-calc-nogui package)")
    return binary


def through_libreoffice(files: list[Path], out: Path, profile: Path, to: str = "xlsx") -> list[Path]:
    """Open and save each file with LibreOffice (headless), as a reviewer's office suite would."""
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            soffice(),
            f"-env:UserInstallation={profile.resolve().as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            to,
            "--outdir",
            str(out),
            *map(str, files),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    converted = [out / f"{f.stem}.{to}" for f in files]
    assert all(p.is_file() for p in converted), list(out.iterdir())
    return converted


# ---------------------------------------------------------------- what the reviewer gets


def test_sheet_headers_carry_key_chinese_name_and_maximum_with_reference_columns_first(written):
    header, *rows = csv_rows(written / "R1.csv")
    assert header == [
        "proposal_id 项目编号",
        "title 项目名称",
        "category 服务类别",
        "street 街道",
        "community 社区",
        "summary 项目简介",
        "round 评审轮次",
        "reviewer_id 评审编号",
        "need 需求契合 (0–20)",
        "design 项目设计 (0–20)",
        "feasibility 可行性 (0–15)",
        "capacity 机构能力 (0–15)",
        "budget 预算合理 (0–15)",
        "impact 预期成效 (0–15)",
        "comment 评语",
        "conflict 利益冲突",
    ]
    assert [r[0] for r in rows] == ["0012345678901234567", "P1"]
    assert rows[1][:8] == ["P1", "永吉社区助老服务", "为老", "南关街道", "永吉社区", "为独居老人上门服务", "1", "R1"]
    sheet = load_workbook(written / "R1.xlsx").worksheets[0]
    assert [c.value for c in sheet[1]] == header
    assert [[c.value for c in row][:8] for row in sheet.iter_rows(min_row=2)] == [
        ["0012345678901234567", "四点半课堂", "为小", "南关街道", "东盛社区", "=1+1", 1, "R1"],
        rows[1][:6] + [1, "R1"],
    ]


def test_workbook_locks_reference_cells_and_validates_scores(written):
    book = load_workbook(written / "R1.xlsx")
    sheet, guide = book.worksheets
    assert sheet.protection.sheet
    assert sheet["A2"].protection.locked and sheet["B2"].protection.locked  # reference cells locked
    assert all(sheet.column_dimensions[c].protection.locked is False for c in "IJKLMNOP")  # the ones to fill in open
    ids = sheet["A2"]
    assert ids.data_type == "s" and ids.number_format == "@" and ids.value == "0012345678901234567"  # never 1.2E+17
    assert sheet["F2"].data_type == "s"  # text like a formula stays text
    rules = {str(dv.sqref): dv for dv in sheet.data_validations.dataValidation}
    for letter, (name, maximum) in zip("IJKLMN", RUBRIC.items()):
        rule = rules[f"{letter}2:{letter}3"]
        assert (rule.type, rule.operator, rule.formula1, rule.formula2) == ("decimal", "between", "0", str(maximum))
        assert rule.showInputMessage and f"0–{maximum}" in rule.prompt and rule.showErrorMessage
    assert rules["P2:P3"].type == "list" and rules["P2:P3"].formula1 == '"是,否"'
    assert sheet.freeze_panes == "C2" and sheet.print_title_rows == "$1:$1"
    text = "\n".join(str(c.value) for row in guide.iter_rows() for c in row if c.value)
    assert "交回截止日期：2026-04-20" in text and "Return it by: 2026-04-20" in text
    assert "区社会组织服务中心 王老师 0431-8888 1234" in text and "李评审" in text
    assert "scores/" in text and "need 需求契合：0–20 分" in text


def test_workbook_bytes_are_the_same_for_the_same_sheet():
    header = sheet_header(RUBRIC)
    rows = sheet_rows("R1", ASSIGNMENTS, PROPOSALS, RUBRIC)
    first = workbook_bytes(CONFIG, "R1", None, header, rows)
    assert first == workbook_bytes(CONFIG, "R1", None, header, rows)
    assert first != workbook_bytes(CONFIG, "R1", None, header, rows[:1])


def test_instructions_without_deadline_or_contact_say_whom_to_ask(tmp_path):
    write_review_files(tmp_path, ASSIGNMENTS, PROPOSALS, make_config())
    guide = load_workbook(tmp_path / "review" / "sheets" / "R1.xlsx").worksheets[1]
    text = "\n".join(str(c.value) for row in guide.iter_rows() for c in row if c.value)
    assert "请向管理员确认" in text and "ask the administrator" in text


def test_sheets_of_reviewers_without_assignments_are_removed(written, tmp_path):
    (written / "R9.csv").write_text("old", encoding="utf-8")
    (written / "R9.xlsx").write_bytes(b"old")
    write_review_files(tmp_path, ASSIGNMENTS, PROPOSALS, CONFIG)
    assert sorted(p.name for p in written.iterdir()) == ["R1.csv", "R1.xlsx"]


# ---------------------------------------------------------------- what comes back


def fill_csv(path: Path, scores: dict[str, dict[str, str]], conflict: dict[str, str] | None = None) -> None:
    """Fill the product's own CSV sheet in, leaving its layout as it is."""
    header, *rows = csv_rows(path)
    for row in rows:
        cells = scores.get(row[0], {})
        for i, name in enumerate(header):
            key = name.split(" ")[0]
            if key in cells:
                row[i] = cells[key]
            if key == "conflict" and conflict and row[0] in conflict:
                row[i] = conflict[row[0]]
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])


def fill_workbook(path: Path, scores: dict[str, dict[str, str]], conflict: dict[str, str] | None = None) -> None:
    """Type scores into the product's own workbook (numbers as numbers), as a reviewer does."""
    book = load_workbook(path)
    sheet = book.worksheets[0]
    keys = [str(c.value).split(" ")[0] for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        pid = row[0].value
        for cell, key in zip(row, keys):
            text = scores.get(pid, {}).get(key)
            if text is not None:
                number = Decimal(text)
                cell.value = int(number) if number == number.to_integral_value() else float(number)
            if key == "conflict" and conflict and pid in conflict:
                cell.value = conflict[pid]
    book.save(path)


SCORES = {"P1": full_scores(80) | {"design": "17.5", "impact": "2.5"}, "0012345678901234567": full_scores(75)}


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_sheet_returned_in_the_products_own_layout_imports_cleanly(written, tmp_path, kind):
    scores_dir = tmp_path / "cycle" / "scores"
    scores_dir.mkdir(parents=True)
    returned = Path(shutil.copy(written / f"R1.{kind}", scores_dir / f"R1.{kind}"))
    (fill_csv if kind == "csv" else fill_workbook)(returned, SCORES)
    result = validate_reviews(read_score_sheets(tmp_path / "cycle", RUBRIC), RUBRIC, ACCEPTED, ASSIGNED)
    assert result.problems == []
    totals = {r["proposal_id"]: r["total_half"] for r in result.reviews}
    assert totals == {"P1": 160, "0012345678901234567": 150}
    assert {r["source_row"] for r in result.reviews} == {2, 3}


def test_plain_english_and_chinese_headers_are_still_read(tmp_path):
    folder = tmp_path / "cycle"
    write_scores(folder / "scores" / "english.csv", [score_row("P1", "R1", full_scores(80))])
    chinese = ["项目编号", "评审编号", "需求契合", "项目设计", "可行性", "机构能力", "预算合理", "预期成效", "评语", "回避"]
    with (folder / "scores" / "chinese.csv").open("w", encoding="gbk", newline="") as handle:
        csv.writer(handle).writerows([chinese, ["0012345678901234567", "R1", *full_scores(70).values(), "好", "否"]])
    result = validate_reviews(read_score_sheets(folder, RUBRIC), RUBRIC, ACCEPTED, ASSIGNED)
    assert result.problems == [] and len(result.reviews) == 2


def workbook_like(path: Path, rows: list[list]) -> Path:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def test_workbook_cells_go_through_the_same_rules_and_row_numbers_as_csv(tmp_path):
    """The same content as CSV and as .xlsx: the same problems (rule, field, value, message
    parameters), at the same row numbers — a blank row in the sheet is counted as in a file."""
    header = ["proposal_id", "reviewer_id", *RUBRIC, "comment", "conflict"]
    rows = [
        ["P1", "R1", 25, 20, 15, 15, 15, 15, "", "否"],  # above the maximum
        [],
        ["0012345678901234567", "R1", 10, 10.25, 10, 10, 10, 10, "", "no"],  # not a half point
        ["P1", "R2", 10, 10, 10, 10, 10, 10, "", "否"],  # not assigned
        ["P2", "R1", "十", 10, 10, 10, 10, 10, "", "maybe"],
    ]  # not a number, not yes/no
    csv_dir, xlsx_dir = tmp_path / "a", tmp_path / "b"
    (csv_dir / "scores").mkdir(parents=True)
    with (csv_dir / "scores" / "R1.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    (xlsx_dir / "scores").mkdir(parents=True)
    workbook_like(xlsx_dir / "scores" / "R1.xlsx", [header, *rows])

    def problems(folder):
        result = validate_reviews(read_score_sheets(folder, RUBRIC), RUBRIC, ACCEPTED, ASSIGNED)
        return sorted((p.source_row, p.record_id, p.field, p.value, p.rule, repr(p.params)) for p in result.problems)

    found = problems(csv_dir)
    assert found == problems(xlsx_dir)
    assert [(row, rule) for row, _, _, _, rule, _ in found] == [
        (2, "score_out_of_range"),
        (4, "score_step"),
        (5, "not_assigned"),
        (6, "yes_no_unknown"),
        (6, "number_format"),
    ]


def test_a_workbook_that_is_not_one_stops_the_stage_naming_the_file(tmp_path):
    (tmp_path / "scores").mkdir()
    (tmp_path / "scores" / "R1.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(FileProblem) as caught:
        read_score_sheets(tmp_path, RUBRIC)
    assert caught.value.source_file == "scores/R1.xlsx" and caught.value.rule == "workbook_unreadable"


def test_workbook_without_the_score_columns_names_the_missing_column(tmp_path):
    (tmp_path / "scores").mkdir()
    workbook_like(tmp_path / "scores" / "R1.xlsx", [["proposal_id", "reviewer_id", "comment"], ["P1", "R1", "好"]])
    with pytest.raises(FileProblem) as caught:
        read_score_sheets(tmp_path, RUBRIC)
    assert caught.value.rule == "missing_column" and caught.value.params["column"] == "need"


@pytest.mark.parametrize("name", ["R2.xls", "R2.ods", "R2.docx", "R2.numbers", "R2"])
def test_any_other_format_in_scores_is_named_never_passed_over(tmp_path, name):
    write_scores(tmp_path / "scores" / "R1.csv", [score_row("P1", "R1", full_scores(80))])
    (tmp_path / "scores" / name).write_bytes(b"\xd0\xcf\x11\xe0 office file")
    result = validate_reviews(read_score_sheets(tmp_path, RUBRIC), RUBRIC, ACCEPTED, ASSIGNED)
    assert len(result.reviews) == 1
    [problem] = result.problems
    assert (problem.source_file, problem.rule, problem.value) == (f"scores/{name}", "file_format", name)
    from fund.tasks.messages import render

    assert "xlsx" in render(problem.rule, problem.params, "zh") and "CSV" in render(problem.rule, problem.params, "en")


# ---------------------------------------------------------------- round trips through office software


def demo_sheets_as_workbooks(target: Path) -> list[Path]:
    """Every returned sheet of the bundled demo, typed into an Excel workbook by openpyxl
    (numbers as numbers, text as text; the demo's broken rows included)."""
    target.mkdir(parents=True, exist_ok=True)
    made = []
    for source in sorted((demo_folder() / "scores").glob("*.csv")):
        rows = csv_rows(source)
        typed = [rows[0]]
        for row in rows[1:]:
            cells = []
            for cell in row:
                try:
                    number = Decimal(cell)
                except ArithmeticError:
                    cells.append(cell)
                    continue
                cells.append(int(number) if number == number.to_integral_value() else float(number))
            typed.append(cells)
        made.append(workbook_like(target / f"{source.stem}.xlsx", typed))
    return made


def imported(folder: Path, cfg, accepted, assigned):
    result = validate_reviews(read_score_sheets(folder, cfg.rubric), cfg.rubric, accepted, assigned)
    reviews = sorted(
        (r["proposal_id"], r["reviewer_id"], r["scores_half"], r["conflict"], r["comment"], r["source_row"])
        for r in result.reviews
    )
    problems = sorted(
        (p.source_file.rsplit(".", 1)[0], p.source_row, p.record_id, p.field, p.value, p.rule) for p in result.problems
    )
    return reviews, problems, sorted(result.pending)


@pytest.fixture(scope="module")
def demo_assignments():
    """The demo's accepted proposals and first-round assignments, as the product makes them."""
    from fund.schemas.config import load_config
    from fund.tasks.assignment import assign_initial, read_reviewers, validate_reviewers
    from fund.tasks.intake import read_intake, validate_intake

    cfg = load_config(demo_folder())
    accepted = [p for p in validate_intake(cfg, *read_intake(demo_folder())).proposals if p["eligible"]]
    pool, _ = validate_reviewers(read_reviewers(demo_folder()))
    assignments = assign_initial(accepted, pool, [], cfg.rules.reviewers_per_proposal)
    return cfg, {p["proposal_id"] for p in accepted}, {(a["proposal_id"], a["reviewer_id"]) for a in assignments}


def test_demo_sheets_typed_into_workbooks_import_like_the_csv(tmp_path, demo_assignments):
    cfg, accepted, assigned = demo_assignments
    csv_folder = tmp_path / "csv"
    shutil.copytree(demo_folder() / "scores", csv_folder / "scores")
    xlsx_folder = tmp_path / "xlsx"
    demo_sheets_as_workbooks(xlsx_folder / "scores")
    expected = imported(csv_folder, cfg, accepted, assigned)
    assert expected[0] and expected[1]  # reviews, and the demo's broken rows
    assert imported(xlsx_folder, cfg, accepted, assigned) == expected


def test_workbooks_saved_again_by_libreoffice_import_like_the_csv(tmp_path, demo_assignments):
    cfg, accepted, assigned = demo_assignments
    csv_folder = tmp_path / "csv"
    shutil.copytree(demo_folder() / "scores", csv_folder / "scores")
    made = demo_sheets_as_workbooks(tmp_path / "openpyxl")
    through_libreoffice(made, tmp_path / "libreoffice" / "scores", tmp_path / "profile")
    assert imported(tmp_path / "libreoffice", cfg, accepted, assigned) == imported(csv_folder, cfg, accepted, assigned)


def test_the_products_workbook_filled_and_saved_by_libreoffice_imports_cleanly(written, tmp_path):
    filled = Path(shutil.copy(written / "R1.xlsx", tmp_path / "R1.xlsx"))
    fill_workbook(filled, SCORES)
    [saved] = through_libreoffice([filled], tmp_path / "cycle" / "scores", tmp_path / "profile")
    sheet = load_workbook(saved).worksheets[0]
    assert sheet["A2"].value == "0012345678901234567"  # still text after LibreOffice
    result = validate_reviews(read_score_sheets(tmp_path / "cycle", RUBRIC), RUBRIC, ACCEPTED, ASSIGNED)
    assert result.problems == [] and {r["proposal_id"]: r["total_half"] for r in result.reviews} == {
        "P1": 160,
        "0012345678901234567": 150,
    }


def test_libreoffice_xls_and_ods_copies_are_reported_by_name(tmp_path):
    made = demo_sheets_as_workbooks(tmp_path / "openpyxl")[:1]
    folder = tmp_path / "cycle"
    through_libreoffice(made, folder / "scores", tmp_path / "profile", to="xls")
    through_libreoffice(made, folder / "scores", tmp_path / "profile", to="ods")
    result = validate_reviews(read_score_sheets(folder, RUBRIC), RUBRIC, set(), set())
    assert sorted((p.source_file, p.rule) for p in result.problems) == [
        ("scores/R01.ods", "file_format"),
        ("scores/R01.xls", "file_format"),
    ]


# ---------------------------------------------------------------- the whole run: CSV or workbook, the same results


def test_workbooks_give_byte_identical_scores_and_allocation(tmp_path, prefect_server):
    """A cycle whose sheets come back as the product's workbooks, filled in with the same
    scores (by openpyxl, and saved again by LibreOffice where it is installed), gives the
    same evaluation/scores.csv and allocation/allocation.csv, byte for byte, as with CSV."""
    from typer.testing import CliRunner

    from builders import write_small_cycle
    from fund.cli import app

    def run(cycle: Path, out: Path) -> dict[str, bytes]:
        result = CliRunner().invoke(app, ["run", str(cycle), "--out", str(out)])
        assert result.exit_code == 0, result.stdout
        return {name: (out / name).read_bytes() for name in ("evaluation/scores.csv", "allocation/allocation.csv")}

    settings = {"publicity": {"starts": dt.date(2026, 4, 1)}, "tracking": {"as_of": dt.date(2026, 4, 2)}}
    cycle = write_small_cycle(tmp_path / "csv", **settings)
    expected = run(cycle, tmp_path / "out-csv")
    assert b"funded" in expected["allocation/allocation.csv"]

    typed = write_small_cycle(tmp_path / "xlsx", **settings)
    for sheet in sorted((typed / "scores").glob("*.csv")):
        scores = {row[0]: dict(zip(csv_rows(sheet)[0], row)) for row in csv_rows(sheet)[1:]}
        workbook = Path(
            shutil.copy(
                tmp_path / "out-csv" / "review" / "sheets" / f"{sheet.stem}.xlsx", typed / "scores" / f"{sheet.stem}.xlsx"
            )
        )
        fill_workbook(workbook, {pid: {k: v for k, v in cells.items() if k in RUBRIC} for pid, cells in scores.items()})
        book = load_workbook(workbook)  # the comment, as the reviewer typed it
        for row in book.worksheets[0].iter_rows(min_row=2):
            row[14].value = scores[row[0].value]["comment"] or None
        book.save(workbook)
        sheet.unlink()
    assert run(typed, tmp_path / "out-xlsx") == expected

    if shutil.which("soffice") or shutil.which("libreoffice"):
        office = write_small_cycle(tmp_path / "office", sheets=False, **settings)
        through_libreoffice(sorted((typed / "scores").glob("*.xlsx")), office / "scores", tmp_path / "profile")
        assert run(office, tmp_path / "out-office") == expected

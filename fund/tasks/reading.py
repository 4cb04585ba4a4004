"""Reading the people's files (CSV and Excel workbooks): encodings, delimiters, headers, rows.

Each cell goes through the cell rules of `schemas.cells` (numbers, money, dates, codes).
A cell that cannot be read is a `Problem` for that row only; a file that cannot be
read at all (encoding, missing required column, no header) raises `FileProblem`,
which stops the stage. Nothing here raises anything else on any input bytes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import datetime as dt

from fund.schemas.cells import BLANKS, CellError, clean_text, fold, parse_cell

from fund.schemas.tables import CsvColumn

csv.field_size_limit(2**31 - 1)  # long cells are judged per row (cell_too_long), not as a broken file


@dataclass(frozen=True)
class Problem:
    """One reason one input row (or record) was not accepted."""

    source_file: str
    source_row: int | None
    record_id: str
    field: str
    value: str
    rule: str
    params: dict = field(default_factory=dict, hash=False, compare=False)


class FileProblem(Exception):
    """A file the stage cannot use at all; `rule` and `params` render the message."""

    def __init__(self, source_file: str, rule: str, **params):
        super().__init__(f"{source_file}: {rule} {params}")
        self.source_file = source_file
        self.rule = rule
        self.params = params


# ---------------------------------------------------------------- files


def decode(raw: bytes, source_file: str) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise FileProblem(source_file, "file_encoding") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise FileProblem(source_file, "file_encoding") from exc
    if "\x00" in text:
        raise FileProblem(source_file, "file_encoding")
    return text.replace("\ufeff", "")


def present(path: Path, source_file: str) -> bool:
    """Whether an input file is there: False when nothing at all has that name, True for a
    regular file that can be opened. Anything else under an input's name (a folder, a link
    to nothing, a device or pipe, a file that cannot be opened) is not taken for "missing":
    it stops the stage, naming the file."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise FileProblem(source_file, "file_broken_link") from None
        return False
    except OSError as exc:
        raise FileProblem(source_file, "file_unreadable", error=exc.strerror or type(exc).__name__) from None
    if stat.S_ISDIR(info.st_mode):
        raise FileProblem(source_file, "file_is_folder")
    if not stat.S_ISREG(info.st_mode):
        raise FileProblem(source_file, "file_not_regular")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise FileProblem(source_file, "file_unreadable", error=exc.strerror or type(exc).__name__) from None
    return True


def listed(path: Path, folder: str) -> bool:
    """Whether an entry of an input folder (scores/, progress/, evaluations/) is an input.
    Spreadsheet lock files (~$R05.csv, there while a sheet is open in Excel or WPS) and hidden
    files (.R05.csv.swp) are not; a folder or a broken link under an input's name stops the
    stage (`present`)."""
    path = Path(path)
    return not path.name.startswith(("~$", ".")) and present(path, f"{folder}/{path.name}")


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def header_key(text: str) -> str:
    return re.sub(r"[\s_\-（）()]+", "", fold(clean_text(text)).lower())


@dataclass
class CsvTable:
    """A read file: `rows` hold parsed cells by attribute name plus `_line` and `_ok`
    (False when the row has a Problem; its unreadable cells are None)."""

    source_file: str
    rows: list[dict]
    problems: list[Problem]
    rows_in: int
    extra_headers: list[str]


def read_csv(
    path: Path, source_file: str, columns: list[CsvColumn], record_id: tuple[str, ...], required_headers: tuple[str, ...] = ()
) -> CsvTable:
    """Read one CSV file against its column definitions.

    `record_id` names the attributes that identify a record in messages. Fully blank
    lines are not records. A row with any unreadable cell is rejected whole (`_ok`
    False), with one Problem per unreadable cell; the other rows go on.
    """
    if not present(path, source_file):
        raise FileProblem(source_file, "file_missing", file=source_file)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise FileProblem(source_file, "file_unreadable", error=exc.strerror or type(exc).__name__) from None
    text = decode(raw, source_file)
    skipped = len(text) - len(text.lstrip("\r\n"))
    lines_above = text[:skipped].count("\n")
    text = text[skipped:]  # blank lines above the header
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    # strict: a quote left open to the end of the file is an error, not rows swallowed into one cell
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise FileProblem(source_file, "file_empty") from None
    except csv.Error as exc:
        raise FileProblem(source_file, "file_malformed", error=str(exc)) from exc

    def data_lines():
        line = reader.line_num + lines_above
        while True:
            start = line + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise FileProblem(source_file, "file_malformed", line=start, error=str(exc)) from exc
            line = reader.line_num + lines_above
            yield start, cells

    return read_table(source_file, header, data_lines(), columns, record_id, required_headers)


def read_table(
    source_file: str,
    header: list[str],
    lines,
    columns: list[CsvColumn],
    record_id: tuple[str, ...],
    required_headers: tuple[str, ...] = (),
) -> CsvTable:
    """Data lines `(line number, cells)` under a header, read against the column definitions:
    the one path of CSV files and spreadsheet workbooks alike (same cell rules, same messages)."""
    keys = [header_keys(h) for h in header]
    if not any(k for k, _ in keys):
        raise FileProblem(source_file, "file_empty")
    position: dict[str, int] = {}
    for column in columns:
        names = [header_key(name) for name in (column.header, column.zh, *column_aliases(column))]
        names += [names[0] + other for other in names[1:]]  # "need 需求契合", as the product's own sheets head them
        found = next((i for name in names for i, cell in enumerate(keys) if name in cell), None)
        if found is not None:
            position[column.attr] = found
    missing = [c for c in columns if (c.required or c.attr in required_headers) and c.attr not in position]
    if missing:
        raise FileProblem(
            source_file,
            "missing_column",
            column=missing[0].header,
            zh=missing[0].zh,
            found=", ".join(h for h in header if h.strip()),
        )
    plan = [(c, position.get(c.attr)) for c in columns]
    id_cells = [position.get(attr) for attr in record_id]
    known = set(position.values())
    extra = [header[i] for i in range(len(header)) if i not in known and keys[i][0]]
    rows: list[dict] = []
    problems: list[Problem] = []
    rows_in = 0
    for start, cells in lines:
        cells = [c.strip(BLANKS) for c in cells]  # decode() took every BOM character out already
        if not any(cells):
            continue
        rows_in += 1
        row, row_problems = parse_row(cells, plan, id_cells, source_file, start, len(header))
        row["_ok"] = not row_problems
        problems.extend(row_problems)
        rows.append(row)
    return CsvTable(source_file, rows, problems, rows_in, extra)


def read_xlsx(
    path: Path, source_file: str, columns: list[CsvColumn], record_id: tuple[str, ...], required_headers: tuple[str, ...] = ()
) -> CsvTable:
    """Read an Excel workbook (.xlsx) against the column definitions, through the same cell
    rules as a CSV file: its sheet is the first one whose header has the required columns
    (else the first sheet), and a row's number is the worksheet's row number."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # not a zip, not a workbook, encrypted, damaged: the file cannot be used
        raise FileProblem(source_file, "workbook_unreadable", error=f"{type(exc).__name__}: {exc}"[:200]) from None
    try:
        sheets = []
        for sheet in workbook.worksheets:
            sheet.reset_dimensions()  # some writers record wrong dimensions: read every row there is
            rows = enumerate(sheet.iter_rows(values_only=True), start=1)
            for number, values in rows:
                cells = [cell_text(v) for v in values]
                if any(c.strip(BLANKS) for c in cells):
                    sheets.append((number, cells, rows))
                    break
        if not sheets:
            raise FileProblem(source_file, "file_empty")
        chosen = next((s for s in sheets if _has_columns(s[1], columns, required_headers)), sheets[0])
        _, header, rows = chosen
        while header and not header[-1].strip(BLANKS):
            header.pop()
        lines = ((number, [cell_text(v) for v in values]) for number, values in rows)
        return read_table(source_file, header, lines, columns, record_id, required_headers)
    finally:
        workbook.close()


def _has_columns(header: list[str], columns: list[CsvColumn], required_headers: tuple[str, ...]) -> bool:
    try:
        read_table("", header, iter(()), columns, (), required_headers)
    except FileProblem:
        return False
    return True


def cell_text(value) -> str:
    """A workbook cell as the text a CSV export of it would hold (so the same cell rules apply)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):  # 12 / 8.5 / 1.21200004013591E+17, as a spreadsheet's CSV export writes it
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value).upper()
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


NOTE = re.compile(r"\s*\([^()]*\)\s*$")  # a trailing "(0–20)" on a header cell


def header_keys(text: str) -> tuple[str, str]:
    """A header cell's key, and its key without a trailing note in parentheses."""
    folded = fold(clean_text(text))
    return header_key(folded), header_key(NOTE.sub("", folded))


def column_aliases(column: CsvColumn) -> tuple[str, ...]:
    aliases = {
        "requested": ("申请资助金额",),
        "cofunding": ("配套金额", "自筹资金"),
        "phone": ("电话",),
        "email": ("电子邮箱", "邮件"),
        "conflict": ("利益冲突", "是否回避"),
        "comment": ("意见",),
    }
    return aliases.get(column.header, ())


def parse_row(
    cells: list[str],
    plan: list[tuple[CsvColumn, int | None]],
    id_cells: list[int | None],
    source_file: str,
    line: int,
    width: int,
) -> tuple[dict, list[Problem]]:
    """One data line: `plan` gives each column with its cell's position (None: no such column
    in this file), `id_cells` the positions of the record id's parts."""
    row: dict = {"_line": line}
    found: list[tuple[str, str, str, dict]] = []  # (field, value, rule, params)
    n = len(cells)
    if n > width and any(cells[width:]):
        found.append(("", ",".join(cells[width:])[:200], "extra_cells", {}))
    for column, i in plan:
        text = cells[i] if i is not None and i < n else ""
        if text == "":
            if column.required:
                found.append((column.header, "", "required", {}))
            row[column.attr] = None
            continue
        try:
            row[column.attr] = parse_cell(text, column)
        except CellError as exc:
            row[column.attr] = None
            found.append((column.header, text[:200], exc.rule, exc.params))
    if not found:
        return row, []
    ident = "/".join(fold(cells[i]) if i is not None and i < n else "" for i in id_cells)
    return row, [Problem(source_file, line, ident, name, value, rule, params) for name, value, rule, params in found]


def readable_rows(tables: list[CsvTable], problems: list[Problem]):
    """Each readable row of several files (e.g. all returned score sheets) with its file;
    the files' own row problems are added to `problems` on the way."""
    for table in tables:
        problems.extend(table.problems)
        for row in table.rows:
            if row["_ok"]:
                yield table, row


def problem_recorder(problems: list[Problem], source_file: str, line: int, record_id: str):
    """`fail(field, value, rule, **params)` for one row: appends its Problem."""

    def fail(field_name: str, value, rule: str, **params) -> None:
        problems.append(Problem(source_file, line, record_id, field_name, "" if value is None else str(value), rule, params))

    return fail

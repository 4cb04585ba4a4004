"""The bad-input corpus: one line per case.

Each case replaces ONE input of the clean cycle in `baseline/` (organizations.csv,
proposals.csv, budget_lines.csv, needs.csv, resources.csv, reviewers.csv, the scores/ folder,
or community_ratings.csv) with a small broken file and says exactly what the product
must report for it. Where a rule is about two files (a pledge to a need whose own record is
broken), the case is a folder holding both, each under its name; the problems checked are
those of the case's input. `tests/test_corpus.py` runs each case as one test id and checks

- the problems reported for the replaced file(s), as (source_file, source_row,
  record_id, field, rule), exactly (no more, no fewer), or the `FileProblem` that
  stops the stage (`fails=`);
- that every other row of that file goes through (accepted; for score sheets:
  accepted or pending), and that no row is both accepted and rejected.

Adding a case: put the file under the folder named after the input it replaces
(`scores/<case>/` for several score sheets at once) and add one line below:

    case("proposals/money_negative.csv", (3, "P-002", "requested", "money_negative")),

An expected problem is (source_row, record_id, field, rule) for the case's file, or
(source_file, source_row, record_id, field, rule) when a case has several files.
Rule "*" (only for cases marked `bug=`) means "any rule, as long as the row is
rejected on that field": the rule name is for the fix to choose.
Inputs whose bytes are awkward to keep in a file (encodings, 10 MB) are made by
the `gen(...)` functions below, from the same baseline text; so are inputs that are not
files at all (a folder, a link to nothing, a pipe where a file should be: `as_folder`, …).

Two more kinds of input have cases of their own: `cycle.toml` (`config(...)`: one key set
to a bad value in the baseline's cycle.toml; the case names the key that must be
reported, and `fund run` must exit 2) and the environment (`environment(...)`: FUND_*
variables; the variable must be named, exit 2).

O1…O4 are the baseline organizations' credit codes and O5 a fifth valid one that only the
organization cases use (all with the right GB 32100 check character).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

CORPUS = Path(__file__).parent
BASELINE = CORPUS / "baseline"

O1, O2, O3, O4, O5 = "514400000000000016", "514400000000000029", "51440000000000003C", "51440000000000004F", "51440000000000005J"
GB_EXAMPLE = "91350100M000100Y43"  # the example of GB 32100 itself: valid, but not in the baseline
FORMULA_ID = '=HYPERLINK("http://example.org","P-002")'

# who reviews what in the baseline cycle (scores are checked against this, not re-assigned)
ASSIGNED = {
    ("P-001", "R01"),
    ("P-001", "R02"),
    ("P-002", "R02"),
    ("P-002", "R03"),
    ("P-003", "R03"),
    ("P-003", "R04"),
    ("P-004", "R04"),
    ("P-004", "R05"),
    ("P-005", "R05"),
    ("P-005", "R01"),
    ("P-006", "R01"),
    ("P-006", "R03"),
}
ACCEPTED = {"P-001", "P-002", "P-003", "P-004", "P-005", "P-006"}

TARGETS = {
    "organizations": "organizations.csv",
    "proposals": "proposals.csv",
    "budget_lines": "budget_lines.csv",
    "needs": "needs.csv",
    "resources": "resources.csv",
    "reviewers": "reviewers.csv",
    "scores": "scores",
    "community_ratings": "community_ratings.csv",
    "config": "cycle.toml",
    "environment": "environment",
}


@dataclass(frozen=True)
class Case:
    name: str  # the test id
    target: str  # the replaced input: a file name, or "scores"
    files: Callable[[], dict[str, bytes | Callable[[Path], None]]]  # name → bytes, or what makes the entry
    expect: tuple  # (source_file, source_row, record_id, field, rule), …
    fails: tuple | None = None  # (source_file, rule, {param: value}) of the FileProblem
    bug: str | None = None  # the product is wrong here: strict xfail with this reason
    check: str | None = None  # an extra check in test_corpus.CHECKS
    key: str | None = None  # the cycle.toml key or FUND_* variable the message names
    env: dict | None = None  # environment variables of the case
    run_exit: int | None = None  # `fund run`'s exit code where the stage stops for another reason
    toml: dict | None = None  # cycle.toml sections the case sets, e.g. {"needs": {"require_need": True}}

    @property
    def exit_code(self) -> int:
        """What `fund run` must exit with: 2 for a bad cycle.toml or variable, 1 when the input stops
        its stage, 0 when its rows are accepted or rejected one by one (unless `run_exit` says why not)."""
        if self.run_exit is not None:
            return self.run_exit
        return 2 if self.key else 1 if self.fails else 0


def _default_file(target: str, names: list[str]) -> str | None:
    if target != "scores":
        return target
    return f"scores/{names[0]}" if len(names) == 1 else None


def _make(name, target, files, names, expect, fails, bug, check) -> Case:
    default = _default_file(target, names)
    assert default or all(len(e) == 5 for e in expect) and not fails, (
        f"{name}: with several score sheets, each problem names its source_file"
    )
    full = tuple(e if len(e) == 5 else (default, *e) for e in expect)
    failure = None
    if fails is not None:
        rule, *params = fails if isinstance(fails, tuple) else (fails,)
        failure = (default, rule, params[0] if params else {})
    return Case(name, target, files, full, failure, bug, check)


def case(source: str, *expect, fails=None, bug=None, check=None, run_exit=None, toml=None) -> Case:
    """A stored case: a file (or, for score sheets and cases about two files, a folder of files) under
    tests/corpus/; `toml`: cycle.toml sections the case sets."""
    path = CORPUS / source
    target = TARGETS[source.split("/")[0]]
    paths = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    names = [p.name for p in paths]

    def files() -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in paths}

    made = _make(source.rstrip("/").removesuffix(".csv"), target, files, names, expect, fails, bug, check)
    return replace(made, run_exit=run_exit, toml=toml)


def gen(
    name: str, target: str, make: Callable[[], bytes], *expect, filename: str | None = None, fails=None, bug=None, check=None
) -> Case:
    """A generated case: `make()` gives the bytes of the file."""
    filename = filename or (target if target != "scores" else "R01.csv")
    folder = next(k for k, v in TARGETS.items() if v == target)
    return _make(f"{folder}/{name}", target, lambda: {filename: make()}, [filename], expect, fails, bug, check)


def sheets_with(name: str, extra: dict[str, Callable[[], bytes]]) -> Case:
    """The baseline's returned score sheets with more entries beside them in scores/."""
    sheets = sorted((BASELINE / "scores").iterdir())

    def files() -> dict[str, bytes]:
        return {**{p.name: p.read_bytes() for p in sheets}, **{n: make() for n, make in extra.items()}}

    return _make(f"scores/{name}", "scores", files, [p.name for p in sheets] + list(extra), (), None, None, None)


def config(name: str, section: str, line: str, key: str) -> Case:
    """cycle.toml with `line` (e.g. 'budget = "1e30"') set in `[section]` of the baseline's cycle.toml."""

    def files() -> dict[str, bytes]:
        text = (BASELINE / "cycle.toml").read_text(encoding="utf-8")
        name_of = line.split("=")[0].strip()
        lines, out, current = text.split("\n"), [], None
        for row in lines:
            if row.startswith("["):
                current = row.strip("[] ")
            elif current == section and row.split("=")[0].strip() == name_of:
                continue
            out.append(row)
            if row.strip() == f"[{section}]":
                out.append(line)
        if f"[{section}]" not in lines:
            out += ["", f"[{section}]", line]
        return {"cycle.toml": "\n".join(out).encode("utf-8")}

    return Case(f"config/{name}", "cycle.toml", files, (), key=key)


def environment(name: str, env: dict[str, str], variable: str) -> Case:
    return Case(f"environment/{name}", "environment", dict, (), key=variable, env=env)


# ---------------------------------------------------------------- entries that are not files


def _replace(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        path.rmdir()
    else:
        path.unlink(missing_ok=True)


def as_folder(path: Path) -> None:
    """A folder under the input's name (e.g. an archive unpacked as proposals.csv/)."""
    _replace(path)
    path.mkdir()


def as_broken_link(path: Path) -> None:
    """A link (shortcut) to a file that was moved away."""
    _replace(path)
    path.symlink_to(path.parent / "moved-away.csv")


def as_pipe(path: Path) -> None:
    """A named pipe: opening it for reading would wait for ever."""
    _replace(path)
    os.mkfifo(path)


def excel_lock_file() -> bytes:
    """What Excel leaves beside an open workbook (~$name): the user name in a binary record."""
    return b"\x05\x00\xe5\x8f\xb8\x00" + b"\x00" * 40 + b"\xff\xfe" + b"\x00" * 100


# ---------------------------------------------------------------- generated bytes


def baseline_text(name: str) -> str:
    return (BASELINE / name).read_text(encoding="utf-8")


def corpus_text(name: str) -> str:
    return (CORPUS / name).read_text(encoding="utf-8")


def encoded(text: Callable[[], str], encoding: str, bom: bytes = b"") -> Callable[[], bytes]:
    return lambda: bom + text().encode(encoding)


def tabbed(text: str) -> str:
    return text.replace(",", "\t")


def lines_replaced(name: str, line: int, old: str, new: str) -> str:
    """Baseline file `name` with `old` replaced by `new` on physical line `line` (1-based)."""
    lines = baseline_text(name).split("\n")
    assert old in lines[line - 1], (name, line, old)
    lines[line - 1] = lines[line - 1].replace(old, new)
    return "\n".join(lines)


def latin1_organizations() -> bytes:
    """A file saved as Latin-1 (Western European): é, ü, ÿ are invalid in UTF-8 and in GB18030."""
    text = (
        "credit_code,name,org_type,registered_on,inspection,contact,phone\n"
        f"{O1},Café Müller Seniors,social,2018-05-10,passed,José Pérez,0431-88880001\n"
        f"{O2},Crèche Yvonne ÿ,social,2019-03-01,passed,Zoë,0431-88880002\n"
    )
    return text.encode("latin-1")


def latin1_proposals() -> bytes:
    """The baseline re-typed on a Western European system (Chinese lost as '?'), with 'Café Müller' in a title."""
    text = lines_replaced("proposals.csv", 3, "四点半课堂", "Café Müller")
    return text.encode("latin-1", "replace")


def bom_mid_file() -> bytes:
    """Two exports pasted together: the second part still starts with its BOM (before a data row)."""
    lines = baseline_text("proposals.csv").split("\n")
    lines[4] = "\ufeff" + lines[4]
    return b"\xef\xbb\xbf" + "\n".join(lines).encode("utf-8")


def nul_byte() -> bytes:
    lines = baseline_text("proposals.csv").split("\n")
    lines[3] = lines[3].replace("助残", "助\x00残")
    return "\n".join(lines).encode("utf-8")


def cr_only() -> bytes:
    """Old 'CSV (Macintosh)' export: lines end with CR only; P-005 (line 6) has a negative request."""
    text = lines_replaced("proposals.csv", 6, "60000.00", "-60000.00")
    return text.replace("\n", "\r").encode("utf-8")


def crlf() -> bytes:
    text = lines_replaced("proposals.csv", 7, "2026-11-30", "2026-11-31")
    return text.replace("\n", "\r\n").encode("gbk")


def gb18030_four_byte() -> bytes:
    """GB18030 proper: a title with a character outside GBK (𠮷, four bytes in GB18030)."""
    return lines_replaced("proposals.csv", 3, "四点半课堂", "𠮷祥四点半课堂").encode("gb18030")


def ten_mb_cell() -> bytes:
    """A 10 MB summary on P-004 (line 5): rejected as cell_too_long; every other row goes on."""
    return lines_replaced("proposals.csv", 5, "困境家庭走访与物资帮扶", "x" * (10 * 1024 * 1024)).encode("utf-8")


def utf16_tab() -> bytes:
    """Excel's 'Unicode text' export: UTF-16 LE with BOM, tab-delimited."""
    return b"\xff\xfe" + tabbed(baseline_text("proposals.csv")).replace("\n", "\r\n").encode("utf-16-le")


ZH_REVIEWERS = "评审编号,姓名,邮箱,专长,关联机构,最大评审数"
ZH_RATINGS = "项目编号,评议主体,参评人数,评分"
ZH_ORGS = "统一社会信用代码,机构名称,机构类型,登记日期,年检结果,联系人,联系电话"
ZH_LINES = "项目编号,支出项目,类别,金额"
ZH_NEEDS = "需求编号,街道,社区,服务对象,需求,需求描述,来源,涉及人数,紧急程度,提出日期"
ZH_RESOURCES = "资源编号,提供单位,类型,金额或数量,街道,社区,对接"


def zh_header(name: str, header: str) -> Callable[[], str]:
    return lambda: header + "\n" + baseline_text(name).split("\n", 1)[1]


# ---------------------------------------------------------------- the cases

BUG_DUP_WITH_BROKEN_COPY = (
    "duplicate id where one copy also has a bad cell: the other copy is accepted silently "
    "and nobody is told the id was duplicated; proposals and organizations reject every copy"
)
BUG_GATE_BOUND = (
    "{field} {value} is accepted by validation although the schema says {bound}; the quality gate "
    "then stops the whole stage instead of rejecting this one row"
)

CASES: list[Case] = [
    # ---------------------------------------------------------- organizations.csv
    case("organizations/checksum_bad.csv", (6, O5[:17] + "0", "credit_code", "credit_code_checksum")),
    case("organizations/length_17.csv", (6, O5[:17], "credit_code", "credit_code_format")),
    case("organizations/length_19.csv", (6, O5 + "1", "credit_code", "credit_code_format")),
    case("organizations/forbidden_letter.csv", (6, "5144000000000000IJ", "credit_code", "credit_code_format")),
    case("organizations/lowercase_valid.csv", check="orgs_lowercase_accepted"),
    case("organizations/fullwidth_valid.csv"),
    case("organizations/width_mix_and_spaces_valid.csv"),
    case("organizations/date_impossible.csv", (4, O3, "registered_on", "date_invalid")),
    case("organizations/date_excel_serial.csv", (5, O4, "registered_on", "date_format")),
    case("organizations/date_three_forms.csv"),
    case("organizations/inspection_unknown.csv", (3, O2, "inspection", "inspection_unknown")),
    case("organizations/inspection_variants.csv"),
    case("organizations/merged_cells_blank.csv", (3, O2, "inspection", "required"), (4, O3, "inspection", "required")),
    case("organizations/required_name_blank.csv", (5, O4, "name", "required")),
    case("organizations/duplicate_identical.csv", (6, O1, "credit_code", "duplicate_identical")),
    case(
        "organizations/duplicate_differing.csv",
        (2, O1, "credit_code", "duplicate_organization"),
        (6, O1, "credit_code", "duplicate_organization"),
    ),
    case("organizations/extra_cells.csv", (3, O2, "", "extra_cells")),
    case("organizations/trailing_delimiters.csv"),
    case("organizations/formula_in_name.csv"),
    case("organizations/empty.csv", fails="file_empty"),
    case("organizations/header_only.csv"),
    case("organizations/missing_column_registered_on.csv", fails=("missing_column", {"column": "registered_on"})),
    gen("gbk_chinese_headers", "organizations.csv", encoded(zh_header("organizations.csv", ZH_ORGS), "gbk")),
    gen("latin1", "organizations.csv", latin1_organizations, fails="file_encoding"),
    case(
        "organizations/credit_code_scientific.csv",
        (4, "5.14400000000000E+017", "credit_code", "credit_code_scientific"),
        (5, "5.144E17", "credit_code", "credit_code_scientific"),
    ),
    gen("folder_in_place", "organizations.csv", lambda: as_folder, fails="file_is_folder"),
    gen("pipe_in_place", "organizations.csv", lambda: as_pipe, fails="file_not_regular"),
    # ---------------------------------------------------------- proposals.csv
    case("proposals/checksum_bad.csv", (4, "P-003", "credit_code", "credit_code_checksum")),
    case("proposals/length_wrong.csv", (5, "P-004", "credit_code", "credit_code_format")),
    case("proposals/lowercase_code_valid.csv"),
    case("proposals/fullwidth_digits.csv"),
    case("proposals/width_mix_digits.csv"),
    case(
        "proposals/merged_cells_blank.csv",
        *[
            (line, pid, field, "required")
            for line, pid in ((6, "P-005"), (7, "P-006"))
            for field in ("credit_code", "category", "street")
        ],
    ),
    case(
        "proposals/duplicate_id.csv",
        (4, "P-003", "proposal_id", "duplicate_proposal_id"),
        (8, "P-003", "proposal_id", "duplicate_proposal_id"),
        check="p003_not_eligible",
    ),
    case(
        "proposals/duplicate_id_fullwidth.csv",
        (4, "P-003", "proposal_id", "duplicate_proposal_id"),
        (8, "P-003", "proposal_id", "duplicate_proposal_id"),
    ),
    case(
        "proposals/duplicate_id_copy_also_broken.csv",
        (4, "P-003", "proposal_id", "duplicate_proposal_id"),
        (8, "P-003", "proposal_id", "duplicate_proposal_id"),
        (8, "P-003", "requested", "money_format"),
    ),
    case("proposals/money_negative.csv", (3, "P-002", "requested", "money_negative")),
    case("proposals/money_three_decimals.csv", (3, "P-002", "requested", "money_precision")),
    case("proposals/money_letters.csv", (3, "P-002", "requested", "money_format"), (5, "P-004", "requested", "money_format")),
    case("proposals/money_accepted_forms.csv"),
    case("proposals/cofunding_negative.csv", (6, "P-005", "cofunding", "money_negative")),
    case("proposals/date_impossible.csv", (2, "P-001", "start_on", "date_invalid"), (7, "P-006", "end_on", "date_invalid")),
    case(
        "proposals/date_bad_format.csv",
        (2, "P-001", "start_on", "date_format"),
        (3, "P-002", "end_on", "date_format"),
        (4, "P-003", "start_on", "date_format"),
    ),
    case("proposals/date_three_forms.csv"),
    case(
        "proposals/date_out_of_range.csv",
        (2, "P-001", "start_on", "start_before_open"),
        (3, "P-002", "end_on", "end_after_close"),
        (4, "P-003", "start_on", "dates_order"),
        (5, "P-004", "start_on", "start_before_open"),
        (5, "P-004", "end_on", "end_after_close"),
    ),
    case("proposals/submitted_late.csv", (4, "P-003", "submitted_on", "submitted_late")),
    case(
        "proposals/category_unknown.csv",
        (3, "P-002", "category", "category_unknown"),
        (5, "P-004", "category", "category_unknown"),
    ),
    case("proposals/category_variants.csv"),
    case("proposals/formula_in_id.csv", (3, FORMULA_ID, "proposal_id", "id_format")),
    case("proposals/formula_in_money.csv", (3, "P-002", "requested", "money_format")),
    case("proposals/formula_in_text.csv", check="formula_text_neutralised"),
    case(
        "proposals/id_format.csv", (3, "项目-002", "proposal_id", "id_format"), (5, "P " + "4" * 70, "proposal_id", "id_format")
    ),
    case(
        "proposals/beneficiaries_not_integer.csv",
        (2, "P-001", "beneficiaries", "integer_format"),
        (3, "P-002", "beneficiaries", "integer_format"),
    ),
    case("proposals/beneficiaries_negative.csv", (4, "P-003", "beneficiaries", "value_below_min")),
    case("proposals/org_unknown.csv", (5, "P-004", "credit_code", "org_unknown")),
    case("proposals/extra_columns.csv"),
    case("proposals/missing_column_requested.csv", fails=("missing_column", {"column": "requested"})),
    case("proposals/chinese_headers_aliases.csv"),
    case("proposals/tab_delimited.csv"),
    case("proposals/semicolon_delimited.csv", fails=("missing_column", {"column": "proposal_id"})),
    case("proposals/trailing_delimiters_empty.csv"),
    case("proposals/trailing_cells_nonempty.csv", (5, "P-004", "", "extra_cells")),
    case(
        "proposals/unquoted_comma_in_title.csv",
        (7, "P-006", "", "extra_cells"),
        (7, "P-006", "category", "category_unknown"),
        (7, "P-006", "requested", "money_format"),
        (7, "P-006", "start_on", "date_format"),
    ),
    case(
        "proposals/repeated_header_mid_file.csv",
        *[
            (5, "proposal_id", field, rule)
            for field, rule in (
                ("credit_code", "credit_code_format"),
                ("category", "category_unknown"),
                ("requested", "money_format"),
                ("cofunding", "money_format"),
                ("beneficiaries", "integer_format"),
                ("start_on", "date_format"),
                ("end_on", "date_format"),
            )
        ],
    ),
    case("proposals/blank_lines_and_line_numbers.csv", (9, "P-004", "requested", "money_negative")),
    case("proposals/multiline_cell_line_numbers.csv", (7, "P-004", "start_on", "date_invalid")),
    case("proposals/unterminated_quote.csv", fails="file_malformed"),
    case("proposals/empty.csv", fails="file_empty"),
    case("proposals/blank_lines_only.csv", fails="file_empty"),
    case("proposals/header_only.csv"),
    gen("utf8_bom", "proposals.csv", encoded(lambda: baseline_text("proposals.csv"), "utf-8", b"\xef\xbb\xbf")),
    gen("gbk_chinese_headers", "proposals.csv", encoded(lambda: corpus_text("proposals/chinese_headers_aliases.csv"), "gbk")),
    gen("gb18030_four_byte_char", "proposals.csv", gb18030_four_byte),
    gen("utf16le_bom_tab_excel_unicode_text", "proposals.csv", utf16_tab),
    gen("utf16be_bom", "proposals.csv", encoded(lambda: baseline_text("proposals.csv"), "utf-16-be", b"\xfe\xff")),
    gen("utf16le_no_bom", "proposals.csv", encoded(lambda: baseline_text("proposals.csv"), "utf-16-le"), fails="file_encoding"),
    gen("latin1", "proposals.csv", latin1_proposals, fails="file_encoding"),
    gen("nul_byte", "proposals.csv", nul_byte, fails="file_encoding"),
    gen("bom_mid_file", "proposals.csv", bom_mid_file),
    gen("cr_only_line_endings", "proposals.csv", cr_only, (6, "P-005", "requested", "money_negative")),
    gen("crlf_gbk", "proposals.csv", crlf, (7, "P-006", "end_on", "date_invalid")),
    gen("ten_mb_cell", "proposals.csv", ten_mb_cell, (5, "P-004", "summary", "cell_too_long")),
    case(
        "proposals/money_separators_guessed.csv",
        (4, "P-003", "requested", "money_format"),
        (5, "P-004", "requested", "money_format"),
        (6, "P-005", "requested", "money_format"),
    ),
    case("proposals/separators_in_groups_of_three.csv"),
    case("proposals/beneficiaries_misgrouped.csv", (3, "P-002", "beneficiaries", "integer_format")),
    case(
        "proposals/id_alphabet.csv",
        (4, "P/003", "proposal_id", "id_format"),
        (5, "P.004", "proposal_id", "id_format"),
        (6, "P-005-000000000000000000000000000", "proposal_id", "id_format"),
    ),
    case("proposals/credit_code_scientific.csv", (4, "P-003", "credit_code", "credit_code_scientific")),
    gen("folder_in_place", "proposals.csv", lambda: as_folder, fails="file_is_folder"),
    gen("broken_link_in_place", "proposals.csv", lambda: as_broken_link, fails="file_broken_link"),
    # ---------------------------------------------------------- budget_lines.csv
    case("budget_lines/money_negative.csv", (5, "P-002", "amount", "money_negative")),
    case("budget_lines/money_three_decimals.csv", (2, "P-001", "amount", "money_precision")),
    case("budget_lines/money_letters.csv", (9, "P-004", "amount", "money_format"), (10, "P-005", "amount", "money_format")),
    case("budget_lines/money_accepted_forms.csv"),
    case("budget_lines/kind_unknown.csv", (7, "P-003", "kind", "budget_kind_unknown")),
    case("budget_lines/kind_variants.csv"),
    case(
        "budget_lines/merged_proposal_id_blank.csv",
        (3, "", "proposal_id", "required"),
        (7, "", "proposal_id", "required"),
        (8, "", "proposal_id", "required"),
    ),
    case("budget_lines/unknown_proposal.csv", (14, "P-999", "proposal_id", "budget_line_unknown_proposal")),
    case("budget_lines/formula_in_amount.csv", (4, "P-002", "amount", "money_format")),
    case("budget_lines/formula_in_item.csv"),
    case("budget_lines/amount_blank.csv", (13, "P-006", "amount", "required")),
    case("budget_lines/missing_column_amount.csv", fails=("missing_column", {"column": "amount"})),
    case("budget_lines/empty.csv", fails="file_empty"),
    case("budget_lines/header_only.csv"),
    gen("gb18030_chinese_headers", "budget_lines.csv", encoded(zh_header("budget_lines.csv", ZH_LINES), "gb18030")),
    case(
        "budget_lines/money_separators_guessed.csv",
        (2, "P-001", "amount", "money_format"),
        (3, "P-001", "amount", "money_format"),
    ),
    case("budget_lines/id_alphabet.csv", (4, "P_002?", "proposal_id", "id_format")),
    gen("broken_link_in_place", "budget_lines.csv", lambda: as_broken_link, fails="file_broken_link"),
    # ---------------------------------------------------------- needs.csv (the needs list, optional)
    case("needs/urgency_unknown.csv", (3, "N-02", "urgency", "urgency_unknown")),
    case("needs/urgency_variants.csv"),
    case("needs/group_unknown.csv", (4, "N-03", "group", "category_unknown")),
    case("needs/group_variants.csv"),
    case("needs/duplicate_id.csv", (2, "N-01", "need_id", "duplicate_need_id"), (6, "N-01", "need_id", "duplicate_need_id")),
    case("needs/id_format.csv", (3, "N 02", "need_id", "id_format"), (5, "需求04", "need_id", "id_format")),
    case("needs/people_negative.csv", (3, "N-02", "people", "value_below_min")),
    case("needs/people_not_integer.csv", (2, "N-01", "people", "integer_format"), (5, "N-04", "people", "integer_format")),
    case("needs/people_blank_valid.csv"),
    case("needs/title_blank.csv", (4, "N-03", "title", "required")),
    case("needs/street_blank.csv", (2, "N-01", "street", "required")),
    case("needs/date_invalid.csv", (2, "N-01", "raised_on", "date_invalid"), (3, "N-02", "raised_on", "date_format")),
    case("needs/extra_cells.csv", (3, "N-02", "", "extra_cells")),
    case("needs/missing_column_urgency.csv", fails=("missing_column", {"column": "urgency"})),
    case("needs/empty.csv", fails="file_empty"),
    case("needs/header_only.csv"),
    gen("gbk_chinese_headers", "needs.csv", encoded(zh_header("needs.csv", ZH_NEEDS), "gbk")),
    gen("folder_in_place", "needs.csv", lambda: as_folder, fails="file_is_folder"),
    gen("broken_link_in_place", "needs.csv", lambda: as_broken_link, fails="file_broken_link"),
    # ---------------------------------------------------------- resources.csv (pledges of units in the area, optional)
    case("resources/kind_unknown.csv", (3, "R-02", "kind", "resource_kind_unknown")),
    case("resources/kind_variants.csv"),
    case(
        "resources/quantity_not_whole.csv",
        (3, "R-02", "amount", "quantity_format"),
        (4, "R-03", "amount", "quantity_format"),
        (5, "R-04", "amount", "quantity_format"),
    ),
    case(
        "resources/money_format.csv",
        (2, "R-01", "amount", "money_format"),
        (5, "R-04", "amount", "money_negative"),
        (6, "R-05", "amount", "money_precision"),
    ),
    case(
        "resources/pledge_unknown.csv", (3, "R-02", "pledged_to", "pledge_unknown"), (4, "R-03", "pledged_to", "pledge_unknown")
    ),
    case("resources/pledge_id_format.csv", (2, "R-01", "pledged_to", "id_format")),
    case("resources/pledge_ambiguous/", (3, "R-02", "pledged_to", "pledge_ambiguous")),
    case("resources/need_invalid/", (2, "R-01", "pledged_to", "need_invalid")),
    case("resources/pledged_to_ineligible_proposal_valid.csv"),
    case(
        "resources/duplicate_id.csv",
        (2, "R-01", "resource_id", "duplicate_resource_id"),
        (5, "R-01", "resource_id", "duplicate_resource_id"),
    ),
    case("resources/street_blank.csv", (3, "R-02", "street", "required")),
    case("resources/amount_blank.csv", (2, "R-01", "amount", "required")),
    case("resources/missing_column_kind.csv", fails=("missing_column", {"column": "kind"})),
    case("resources/empty.csv", fails="file_empty"),
    case("resources/header_only.csv"),
    gen("gb18030_chinese_headers", "resources.csv", encoded(zh_header("resources.csv", ZH_RESOURCES), "gb18030")),
    gen("pipe_in_place", "resources.csv", lambda: as_pipe, fails="file_not_regular"),
    # ---------------------------------------------------------- proposals.csv: the needs a proposal answers (need_ids)
    case("proposals/need_ids_accepted.csv"),
    case("proposals/need_unknown.csv", (3, "P-002", "need_ids", "need_unknown"), (7, "P-006", "need_ids", "need_unknown")),
    case("proposals/need_other_street.csv", (2, "P-001", "need_ids", "need_other_street")),
    case(
        "proposals/need_ids_format.csv", (5, "P-004", "need_ids", "need_ids_format"), (7, "P-006", "need_ids", "need_ids_format")
    ),
    case("proposals/need_invalid/", (5, "P-004", "need_ids", "need_invalid")),
    case("proposals/need_missing.csv", (6, "P-005", "need_ids", "need_missing"), toml={"needs": {"require_need": True}}),
    # ---------------------------------------------------------- reviewers.csv
    case(
        "reviewers/duplicate_id.csv",
        (3, "R02", "reviewer_id", "duplicate_reviewer"),
        (7, "R02", "reviewer_id", "duplicate_reviewer"),
    ),
    case(
        "reviewers/duplicate_id_copy_broken.csv",
        (7, "R02", "max_load", "integer_format"),
        (3, "R02", "reviewer_id", "duplicate_reviewer"),
        (7, "R02", "reviewer_id", "duplicate_reviewer"),
    ),
    case("reviewers/affiliation_checksum_bad.csv", (3, "R02", "affiliations", "credit_code_checksum")),
    case("reviewers/affiliations_variants.csv"),
    case("reviewers/expertise_unknown.csv", (5, "R04", "expertise", "category_unknown")),
    case("reviewers/expertise_variants.csv"),
    case(
        "reviewers/max_load_not_integer.csv", (3, "R02", "max_load", "integer_format"), (4, "R03", "max_load", "integer_format")
    ),
    case("reviewers/max_load_zero.csv", (6, "R05", "max_load", "value_below_min")),
    case("reviewers/max_load_negative.csv", (6, "R05", "max_load", "value_below_min")),
    case("reviewers/id_format.csv", (3, "R 02", "reviewer_id", "id_format"), (4, "专家03", "reviewer_id", "id_format")),
    case("reviewers/formula_in_id.csv", (5, '=HYPERLINK("x","R04")', "reviewer_id", "id_format")),
    case("reviewers/merged_name_blank.csv", (4, "R03", "name", "required"), (5, "R04", "name", "required")),
    case("reviewers/missing_column_max_load.csv", fails=("missing_column", {"column": "max_load"})),
    case("reviewers/empty.csv", fails="file_empty"),
    case("reviewers/header_only.csv", run_exit=1),  # no reviewer at all: the assignment stops, "not enough reviewers"
    gen("gbk_chinese_headers", "reviewers.csv", encoded(zh_header("reviewers.csv", ZH_REVIEWERS), "gbk")),
    case("reviewers/id_alphabet.csv", (3, "R/2", "reviewer_id", "id_format"), (5, "R.04", "reviewer_id", "id_format")),
    case("reviewers/id_sharing_a_sheet_file.csv", (3, "R/1", "reviewer_id", "id_format")),  # R/1 and R_1: one R_1.csv
    case("reviewers/affiliation_scientific.csv", (4, "R03", "affiliations", "credit_code_scientific")),
    gen("broken_link_in_place", "reviewers.csv", lambda: as_broken_link, fails="file_broken_link"),
    gen("folder_in_place", "reviewers.csv", lambda: as_folder, fails="file_is_folder"),
    # ---------------------------------------------------------- scores/*.csv
    case("scores/not_assigned.csv", (3, "P-003/R01", "reviewer_id", "not_assigned")),
    case("scores/someone_elses_id/", (3, "P-005/R04", "reviewer_id", "not_assigned")),
    case(
        "scores/above_max.csv", (2, "P-001/R01", "need", "score_out_of_range"), (4, "P-006/R01", "impact", "score_out_of_range")
    ),
    case("scores/negative.csv", (2, "P-001/R01", "design", "score_out_of_range")),
    case("scores/not_half_point.csv", (2, "P-001/R01", "feasibility", "score_step"), (3, "P-005/R01", "budget", "score_step")),
    case("scores/not_a_number.csv", (2, "P-001/R01", "need", "number_format")),
    case("scores/formula_in_score.csv", (2, "P-001/R01", "design", "number_format")),
    case("scores/formula_in_comment.csv"),
    case("scores/conflict_blank_scores.csv", check="conflicts_recorded"),
    case("scores/conflict_with_scores.csv", check="conflicts_recorded"),
    case("scores/conflict_unknown.csv", (2, "P-001/R01", "conflict", "yes_no_unknown")),
    case("scores/blank_row_pending.csv", check="blank_rows_pending"),
    case("scores/partly_blank.csv", (2, "P-001/R01", "design", "required"), (2, "P-001/R01", "budget", "required")),
    case("scores/merged_reviewer_blank.csv", (3, "P-005/", "reviewer_id", "required"), (4, "P-006/", "reviewer_id", "required")),
    case("scores/proposal_unknown.csv", (3, "P-999/R01", "proposal_id", "score_proposal_unknown")),
    case(
        "scores/duplicate_differing_files/",
        ("scores/R01.csv", 2, "P-001/R01", "reviewer_id", "duplicate_review"),
        ("scores/R01_v2.csv", 2, "P-001/R01", "reviewer_id", "duplicate_review"),
    ),
    case(
        "scores/duplicate_differing_same_file.csv",
        (2, "P-001/R01", "reviewer_id", "duplicate_review"),
        (4, "P-001/R01", "reviewer_id", "duplicate_review"),
    ),
    case("scores/duplicate_identical_files/", check="identical_accepted_once"),
    case("scores/fullwidth_and_decimal_forms.csv"),
    case("scores/chinese_headers.csv"),
    case("scores/returned_generated_sheet.csv"),
    case("scores/missing_reviewer_column.csv", fails=("missing_column", {"column": "reviewer_id"})),
    case("scores/missing_criterion_column.csv", fails=("missing_column", {"column": "impact"})),
    case("scores/empty.csv", fails="file_empty"),
    case("scores/header_only.csv"),
    gen("gbk_chinese_headers", "scores", encoded(lambda: corpus_text("scores/chinese_headers.csv"), "gbk")),
    case("scores/decimal_comma.csv", (2, "P-001/R01", "need", "score_format"), (3, "P-005/R01", "design", "score_format")),
    case("scores/id_alphabet.csv", (3, "P-005/R.01", "reviewer_id", "id_format")),
    sheets_with("excel_lock_file_ignored", {"~$R01.csv": excel_lock_file}),  # R01.csv open in Excel
    sheets_with("hidden_files_ignored", {".R02.csv.swp": excel_lock_file, ".~lock.R01.csv#": excel_lock_file}),
    gen("folder_in_place", "scores", lambda: as_folder, filename="R02.csv", fails="file_is_folder"),
    gen("broken_link_in_place", "scores", lambda: as_broken_link, filename="R02.csv", fails="file_broken_link"),
    # ---------------------------------------------------------- community_ratings.csv
    case(
        "community_ratings/out_of_range.csv",
        (2, "P-001/居民代表", "rating", "rating_out_of_range"),
        (5, "P-002/社区两委", "rating", "rating_out_of_range"),
    ),
    case("community_ratings/three_decimals.csv", (4, "P-002/居民代表", "rating", "rating_precision")),
    case("community_ratings/accepted_forms.csv"),
    case("community_ratings/raters_zero.csv", (6, "P-003/居民代表", "raters", "value_below_min")),
    case("community_ratings/raters_negative.csv", (7, "P-004/居民代表", "raters", "value_below_min")),
    case(
        "community_ratings/raters_not_integer.csv",
        (8, "P-005/居民代表", "raters", "integer_format"),
        (9, "P-006/居民代表", "raters", "integer_format"),
    ),
    case(
        "community_ratings/duplicate.csv",
        (4, "P-002/居民代表", "rater_group", "duplicate_rating"),
        (10, "P-002/居民代表", "rater_group", "duplicate_rating"),
    ),
    case(
        "community_ratings/duplicate_copy_broken.csv",
        (10, "P-002/居民代表", "rating", "rating_out_of_range"),
        (4, "P-002/居民代表", "rater_group", "duplicate_rating"),
        (10, "P-002/居民代表", "rater_group", "duplicate_rating"),
    ),
    case(
        "community_ratings/rating_blank_merged.csv",
        (3, "P-001/社区两委", "rating", "required"),
        (5, "/社区两委", "proposal_id", "required"),
    ),
    case("community_ratings/proposal_unknown.csv", (10, "P-999/居民代表", "proposal_id", "rating_proposal_unknown")),
    case("community_ratings/formula_in_rating.csv", (7, "P-004/居民代表", "rating", "number_format")),
    case("community_ratings/missing_column_raters.csv", fails=("missing_column", {"column": "raters"})),
    case("community_ratings/empty.csv", fails="file_empty"),
    case("community_ratings/header_only.csv"),
    gen(
        "utf8_bom_chinese_headers",
        "community_ratings.csv",
        encoded(zh_header("community_ratings.csv", ZH_RATINGS), "utf-8", b"\xef\xbb\xbf"),
    ),
    case("community_ratings/decimal_comma.csv", (2, "P-001/居民代表", "rating", "score_format")),
    case("community_ratings/id_alphabet.csv", (3, "P/001/社区两委", "proposal_id", "id_format")),
    gen("folder_in_place", "community_ratings.csv", lambda: as_folder, fails="file_is_folder"),
    # ---------------------------------------------------------- cycle.toml: exit 2 naming the key
    config("budget_1e30", "cycle", 'budget = "1e30"', "cycle.budget"),
    config("budget_int64_max", "cycle", "budget = 9223372036854775807", "cycle.budget"),
    config("budget_above_maximum", "cycle", 'budget = "1,000,000,000,000.01"', "cycle.budget"),
    config("budget_decimal_comma", "cycle", 'budget = "5000000,00"', "cycle.budget"),
    config("budget_nan", "cycle", "budget = nan", "cycle.budget"),
    config("budget_negative", "cycle", "budget = -1", "cycle.budget"),
    config("max_request_1e20", "rules", 'max_request = "1e20"', "rules.max_request"),
    config("min_org_age_days_int64_max", "rules", "min_org_age_days = 9223372036854775807", "rules.min_org_age_days"),
    config("min_org_age_days_float", "rules", "min_org_age_days = 365.0", "rules.min_org_age_days"),
    config("max_proposals_per_org_negative", "rules", "max_proposals_per_org = -2", "rules.max_proposals_per_org"),
    config("max_funded_per_org_bool", "rules", "max_funded_per_org = true", "rules.max_funded_per_org"),
    config("reviewers_per_proposal_float", "rules", "reviewers_per_proposal = 2.5", "rules.reviewers_per_proposal"),
    config("score_threshold_inf", "rules", "score_threshold = inf", "rules.score_threshold"),
    config("score_threshold_nan", "rules", "score_threshold = nan", "rules.score_threshold"),
    config("discrepancy_threshold_huge", "rules", 'discrepancy_threshold = "1e30"', "rules.discrepancy_threshold"),
    config("publicity_days_float", "cycle", "publicity_days = 7.5", "cycle.publicity_days"),
    config("rubric_points_float", "rubric", "need = 20.0", "rubric.need"),
    config("rubric_points_huge", "rubric", "need = 9223372036854775807", "rubric.need"),
    config("weights_nan", "weights", "expert = nan", "weights.expert"),
    config("tranche_inf", "tranches", "signing = inf", "tranches.signing"),
    config("time_limit_huge", "allocation", "time_limit_s = 1e30", "allocation.time_limit_s"),
    config("report_period_days_zero", "tracking", "report_period_days = 0", "tracking.report_period_days"),
    config("rectification_days_float", "tracking", "rectification_days = 30.5", "tracking.rectification_days"),
    config("rectification_days_above_a_year", "tracking", "rectification_days = 400", "tracking.rectification_days"),
    config("finance_column_empty", "finance", 'payee_column = ""', "finance.payee_column"),
    config("finance_column_two_lines", "finance", 'date_column = "交易\\n日期"', "finance.date_column"),
    config("finance_columns_the_same", "finance", 'reference_column = "amount"', "finance.reference_column"),
    config("needs_cover_urgent_not_a_switch", "needs", 'cover_urgent = "yes please"', "needs.cover_urgent"),
    config("needs_unknown_key", "needs", "cover_all = true", "needs.cover_all"),
    # ---------------------------------------------------------- FUND_* variables: exit 2 naming the variable
    environment("smtp_retries_letters", {"FUND_SMTP_RETRIES": "abc"}, "FUND_SMTP_RETRIES"),
    environment("smtp_retries_negative", {"FUND_SMTP_RETRIES": "-1"}, "FUND_SMTP_RETRIES"),
    environment("smtp_retries_float", {"FUND_SMTP_RETRIES": "2.0"}, "FUND_SMTP_RETRIES"),
    environment("smtp_retry_delay_nan", {"FUND_SMTP_RETRY_DELAY": "nan"}, "FUND_SMTP_RETRY_DELAY"),
    environment("smtp_retry_delay_huge", {"FUND_SMTP_RETRY_DELAY": "1e30"}, "FUND_SMTP_RETRY_DELAY"),
    environment("smtp_port_out_of_range", {"FUND_SMTP_PORT": "70000"}, "FUND_SMTP_PORT"),
    environment("smtp_port_letters", {"FUND_SMTP_PORT": "smtp"}, "FUND_SMTP_PORT"),
    environment("smtp_from_not_an_address", {"FUND_SMTP_FROM": "民政局"}, "FUND_SMTP_FROM"),
    environment("as_of_not_a_date", {"FUND_AS_OF": "2026-13-01"}, "FUND_AS_OF"),
    environment("as_of_far_future", {"FUND_AS_OF": "9999-12-31"}, "FUND_AS_OF"),
    environment("lang_unknown", {"FUND_LANG": "fr"}, "FUND_LANG"),
]

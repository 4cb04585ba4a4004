"""fund.schemas.cells and fund.tasks.reading: cell parsers and the tolerant CSV reader."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import ORG_HEADER, PROPOSAL_HEADER, credit_code, csv_text, org, proposal, write_csv, wrong_check
from fund.schemas.tables import CsvColumn, Organization, Proposal, csv_columns
from fund.tasks.messages import render
from fund.schemas.cells import (
    CREDIT_CHARS,
    CellError,
    credit_check_char,
    parse_categories,
    parse_cell,
    parse_credit_code,
    parse_credit_codes,
    parse_date,
    parse_id,
    parse_int,
    parse_money,
    parse_score,
    parse_vocab,
    parse_yes_no,
)
from fund.tasks.reading import CsvTable, FileProblem, listed, present, read_csv

ORG_COLUMNS = csv_columns(Organization)
PROPOSAL_COLUMNS = csv_columns(Proposal)
FUZZ = settings(max_examples=300, derandomize=True, deadline=None, database=None)
FILE_FUZZ = settings(FUZZ, max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])


def rule_of(parser, text, *args):
    with pytest.raises(CellError) as info:
        parser(text, *args)
    return info.value.rule


# ---------------------------------------------------------------- money


@pytest.mark.parametrize(
    "text, fen",
    [
        ("150000", 15_000_000),
        ("150000.00", 15_000_000),
        ("150,000.00", 15_000_000),
        ("１５００００", 15_000_000),
        ("１５０，０００．５０", 15_000_050),
        ("¥150000", 15_000_000),
        ("￥150,000.00", 15_000_000),
        ("150000元", 15_000_000),
        (" ¥ 150,000.50 元 ", 15_000_050),
        ("1,234,567.89", 123_456_789),
        ("１，２３４，５６７．８９", 123_456_789),  # full-width separators fold to "," and "."
        ("\u3000150000\u3000", 15_000_000),
        ("0.01", 1),
        ("0", 0),
        ("1.10", 110),
        ("1.000", 100),  # a third decimal that is zero is not extra precision
        ("19999.99", 1_999_999),
    ],
)
def test_money_reads_exact_fen(text, fen):
    value = parse_money(text)
    assert value == fen and type(value) is int


@pytest.mark.parametrize(
    "text, rule",
    [
        ("-1", "money_negative"),
        ("-150,000.00", "money_negative"),
        ("1.005", "money_precision"),
        ("0.001", "money_precision"),
        ("abc", "money_format"),
        ("", "money_format"),
        ("1.2.3", "money_format"),
        ("1e5", "money_format"),
        ("十万", "money_format"),
        ("150000-", "money_format"),
        ("9" * 20, "money_format"),  # absurdly large
        # separators are never guessed: "." is the decimal point, "," only groups three digits
        ("12,5", "money_format"),
        ("150000,00", "money_format"),
        ("150 000,00", "money_format"),  # was read as 15,000,000.00: 100 times too much
        ("150 000", "money_format"),
        ("1,00,000", "money_format"),  # was read as 100,000.00
        ("1,0000", "money_format"),
        ("10,00.00", "money_format"),
        (",100", "money_format"),
        ("100,", "money_format"),
        ("1.000,00", "money_format"),
        ("100.000,00", "money_format"),
        ("1,234.567,8", "money_format"),
        ("-1,00,000", "money_format"),
    ],
)
def test_money_errors(text, rule):
    assert rule_of(parse_money, text) == rule


def test_money_bounds_are_exact():
    assert parse_money("9,999,999,999,999.99") == 999_999_999_999_999  # 13 digits of yuan: below 2**53 fen
    assert parse_money("0" * 50 + "1") == 100  # leading zeros are not digits
    assert rule_of(parse_money, "10000000000000") == "money_format"  # 14 digits


def test_money_long_amount_with_three_decimals_is_a_cell_error():
    assert rule_of(parse_money, "12345678901234567890123456789.123") in {"money_format", "money_precision"}


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-01",
        "2026-3-1",
        "2026/3/1",
        "2026/03/01",
        "2026年3月1日",
        " 2026年03月01日 ",
        "２０２６－０３－０１",
        "2026-03-01 00:00:00",
        "2026/3/1 0:00",
    ],
)
def test_dates_in_accepted_forms(text):
    assert parse_date(text) == dt.date(2026, 3, 1)


@pytest.mark.parametrize(
    "text, rule",
    [
        ("2026-02-30", "date_invalid"),
        ("2026-13-01", "date_invalid"),
        ("2025年2月29日", "date_invalid"),
        ("2026/0/10", "date_invalid"),
        ("0000-01-01", "date_invalid"),
        ("01/03/2026", "date_format"),
        ("20260301", "date_format"),
        ("2026-03", "date_format"),
        ("yesterday", "date_format"),
        ("", "date_format"),
    ],
)
def test_date_errors(text, rule):
    assert rule_of(parse_date, text) == rule


def test_leap_day_is_a_date():
    assert parse_date("2028-02-29") == dt.date(2028, 2, 29)


# ---------------------------------------------------------------- credit codes


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110108551385082Q", "91440300708461136T"])
def test_check_char_of_published_codes(code):
    """Codes printed on real business licences (the first is GB 32100's own example)."""
    assert credit_check_char(code[:17]) == code[17]
    assert parse_credit_code(code) == code


def test_valid_codes_from_builder():
    for n in (0, 1, 30, 31, 12345, 10**9):
        code = credit_code(n)
        assert len(code) == 18 and set(code) <= set(CREDIT_CHARS)
        assert parse_credit_code(code) == code


def test_credit_code_tolerates_case_spaces_and_full_width():
    code = credit_code(77)
    assert parse_credit_code(f"  {code.lower()} ") == code
    assert parse_credit_code(code[:9] + " " + code[9:]) == code
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)
    assert parse_credit_code(full_width) == code


def test_wrong_check_char_names_the_expected_one():
    code = credit_code(4242)
    with pytest.raises(CellError) as info:
        parse_credit_code(wrong_check(code))
    assert info.value.rule == "credit_code_checksum"
    assert info.value.params == {"expected": code[17]}


@pytest.mark.parametrize(
    "text",
    [
        "91350100M000100Y4",  # 17 characters
        "91350100M000100Y433",  # 19 characters
        "91350100I000100Y43",  # I is not in the GB 32100 character set
        "91350100O000100Y43",  # nor O
        "91350100Z000100Y43",  # nor Z
        "91350100M000100Y4-",
        "",
    ],
)
def test_credit_code_format(text):
    assert rule_of(parse_credit_code, text) == "credit_code_format"


@pytest.mark.parametrize(
    "text", ["1.21200004013591E+17", "1.21200004013591E+017", "1.212E17", "1.212e+17", "9.13501E+17", "１．２１２Ｅ＋１７"]
)
def test_credit_code_in_scientific_notation_is_named_as_such(text):
    """A spreadsheet turned the code into a number: say so (format the column as text), not "18 characters"."""
    assert rule_of(parse_credit_code, text) == "credit_code_scientific"
    assert rule_of(parse_credit_codes, f"{credit_code(1)};{text}") == "credit_code_scientific"
    assert "科学计数法" in render("credit_code_scientific", {}, "zh")
    assert "Text" in render("credit_code_scientific", {}, "en")


def test_credit_code_list_is_sorted_and_deduplicated():
    a, b = credit_code(2), credit_code(1)
    assert parse_credit_codes(f"{a}；{b};{a}") == ";".join(sorted({a, b}))
    with pytest.raises(CellError) as info:
        parse_credit_codes(f"{a};{wrong_check(b)}")
    assert info.value.rule == "credit_code_checksum"


# ---------------------------------------------------------------- vocabularies and small kinds


@pytest.mark.parametrize(
    "text, vocab, key",
    [
        ("为老", "category", "elderly"),
        ("为小", "category", "children"),
        ("为残", "category", "disabled"),
        ("为困", "category", "hardship"),
        ("其他", "category", "other"),
        ("elderly", "category", "elderly"),
        (" Children ", "category", "children"),
        ("DISABLED", "category", "disabled"),
        ("合格", "inspection", "passed"),
        ("基本合格", "inspection", "basic"),
        ("不合格", "inspection", "failed"),
        ("passed", "inspection", "passed"),
        ("Failed", "inspection", "failed"),
        ("管理", "budget_kind", "admin"),
        ("人员", "budget_kind", "personnel"),
        ("materials", "budget_kind", "materials"),
    ],
)
def test_vocabularies(text, vocab, key):
    assert parse_vocab(text, vocab) == key


@pytest.mark.parametrize(
    "text, vocab",
    [("教育", "category"), ("old", "category"), ("良好", "inspection"), ("", "category"), ("travel", "budget_kind")],
)
def test_unknown_vocabulary_words(text, vocab):
    assert rule_of(parse_vocab, text, vocab) == f"{vocab}_unknown"


def test_expertise_categories_mix_languages():
    assert parse_categories("为老；children、为老") == "children;elderly"


@pytest.mark.parametrize(
    "text, answer",
    [("yes", True), ("是", True), ("回避", True), ("Y", True), ("no", False), ("否", False), ("", False), ("N", False)],
)
def test_yes_no(text, answer):
    assert parse_yes_no(text) is answer


def test_int_score_and_id():
    assert parse_int("１，２００") == 1200
    assert parse_int("12.0") == 12
    assert rule_of(parse_int, "12.5") == "integer_format"
    assert parse_score("7.5") == Decimal("7.5")
    assert parse_score("１８") == Decimal(18)
    assert rule_of(parse_score, "七") == "number_format"
    assert parse_id(" P-001 ") == "P-001"
    assert rule_of(parse_id, "项目1") == "id_format"


@pytest.mark.parametrize(
    "text, value",
    [
        ("P-001", "P-001"),
        ("R_1", "R_1"),
        ("r05", "r05"),
        ("Ｐ－００１", "P-001"),
        (" \u3000R05 ", "R05"),
        ("a" * 32, "a" * 32),
        ("-P1", "-P1"),
        ("_", "_"),
    ],
)
def test_ids_are_letters_digits_dash_underscore(text, value):
    assert parse_id(text) == value


@pytest.mark.parametrize("text", ["R/1", "R.1", "R 1", "R:1", "a" * 33, "项目1", "P-001?", "..", "R\\1", "é1", "Ｒ／１"])
def test_other_ids_are_id_format(text):
    """R/1 and R_1 would share the sheet file R_1.csv; an id is 1–32 of A–Z a–z 0–9 - _ only."""
    assert rule_of(parse_id, text) == "id_format"


@pytest.mark.parametrize(
    "text, value",
    [
        ("1,234.5", Decimal("1234.5")),
        ("１２.５", Decimal("12.5")),
        (" 7 ", Decimal(7)),
        ("-2", Decimal(-2)),
        ("0.25", Decimal("0.25")),
    ],
)
def test_scores_read_with_a_decimal_point(text, value):
    assert parse_score(text) == value


@pytest.mark.parametrize(
    "text, rule",
    [
        ("12,5", "score_format"),  # was read as 125
        ("7,50", "score_format"),
        ("1,00,0", "score_format"),
        ("12 5", "score_format"),
        ("12.", "score_format"),
        ("七", "number_format"),
        ("=1+1", "number_format"),
        ("1e2", "number_format"),
        ("7.50000000001", "number_precision"),
    ],
)
def test_scores_never_guess_separators(text, rule):
    assert rule_of(parse_score, text) == rule


@pytest.mark.parametrize("text, rule", [("1,00,000", "integer_format"), ("12,5", "integer_format"), ("1 200", "integer_format")])
def test_counts_never_guess_separators(text, rule):
    assert rule_of(parse_int, text) == rule
    assert parse_int("1,200") == 1200 and parse_int("-0") == 0


def test_overlong_cell_is_a_cell_error():
    column = CsvColumn("title", "title", "项目名称", "text", True, None)
    with pytest.raises(CellError) as info:
        parse_cell("x" * 100_001, column)
    assert info.value.rule == "cell_too_long"


# ---------------------------------------------------------------- fuzz: parsers never raise anything but CellError

PARSERS = {
    "money": parse_money,
    "int": parse_int,
    "score": parse_score,
    "date": parse_date,
    "credit_code": parse_credit_code,
    "id": parse_id,
    "categories": parse_categories,
    "credit_codes": parse_credit_codes,
    "yes_no": parse_yes_no,
    "category": lambda t: parse_vocab(t, "category"),
    "inspection": lambda t: parse_vocab(t, "inspection"),
    "budget_kind": lambda t: parse_vocab(t, "budget_kind"),
}
# text that looks roughly like cells (digits, separators, CJK date marks), plus arbitrary text
CELLISH = st.text(alphabet="0123456789０１２３-/.,，年月日 ¥￥元:eE+ABCDGHJKLMNPQRTUWXY为老合格", max_size=40)
ANY_TEXT = st.one_of(st.text(max_size=60), CELLISH)


@pytest.mark.parametrize("kind", sorted(PARSERS))
@FUZZ
@given(text=ANY_TEXT)
def test_parsers_return_or_raise_cell_error(kind, text):
    try:
        PARSERS[kind](text)
    except CellError:
        pass


# ---------------------------------------------------------------- files


def header_row(table: CsvTable) -> list[str]:
    return [r["credit_code"] for r in table.rows]


@FILE_FUZZ
@given(raw=st.binary(max_size=400))
def test_read_csv_on_arbitrary_bytes(tmp_path, raw):
    path = tmp_path / "organizations.csv"
    path.write_bytes(raw)
    try:
        table = read_csv(path, "organizations.csv", ORG_COLUMNS, ("credit_code",))
    except FileProblem:
        return
    assert isinstance(table, CsvTable)


@FILE_FUZZ
@given(body=st.binary(max_size=400), encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_read_csv_on_arbitrary_body_under_a_valid_header(tmp_path, body, encoding):
    path = tmp_path / "organizations.csv"
    path.write_bytes(",".join(ORG_HEADER).encode(encoding) + b"\n" + body)
    try:
        table = read_csv(path, "organizations.csv", ORG_COLUMNS, ("credit_code",))
    except FileProblem:
        return
    assert isinstance(table, CsvTable)
    assert table.rows_in == len(table.rows)
    assert all(r["_ok"] is (not any(p.source_row == r["_line"] for p in table.problems)) for r in table.rows)


@FILE_FUZZ
@given(cells=st.lists(st.lists(ANY_TEXT, min_size=0, max_size=9), max_size=5))
def test_read_csv_on_arbitrary_cells(tmp_path, cells):
    path = write_csv(tmp_path / "proposals.csv", PROPOSAL_HEADER, cells)
    try:
        table = read_csv(path, "proposals.csv", PROPOSAL_COLUMNS, ("proposal_id",))
    except FileProblem as problem:
        assert problem.rule in {"file_encoding", "file_malformed"}  # e.g. a NUL character in a cell
        return
    assert table.rows_in == len(table.rows) <= len(cells)


ZH_ORG_HEADER = ["统一社会信用代码", "机构名称", "机构类型", "登记日期", "年检结果", "联系人", "联系电话"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_encodings_and_chinese_headers_read_identically(tmp_path, encoding):
    rows = [
        [credit_code(1), "南关区阳光社工服务中心", "社会服务机构", "2020年5月6日", "合格", "王芳", "0431-1"],
        [credit_code(2), "长春市夕阳红协会", "社会团体", "2019/1/2", "基本合格", "李强", ""],
    ]
    english = write_csv(tmp_path / "en.csv", ORG_HEADER, rows)
    chinese = write_csv(tmp_path / f"zh-{encoding}.csv", ZH_ORG_HEADER, rows, encoding)
    expected = read_csv(english, "organizations.csv", ORG_COLUMNS, ("credit_code",))
    got = read_csv(chinese, "organizations.csv", ORG_COLUMNS, ("credit_code",))
    assert got.rows == expected.rows
    assert got.problems == expected.problems == []
    assert got.rows[0]["name"] == "南关区阳光社工服务中心"
    assert got.rows[0]["registered_on"] == dt.date(2020, 5, 6)
    assert got.rows[1]["inspection"] == "basic"
    assert got.rows[1]["phone"] is None


def test_gbk_bytes_really_differ_from_utf8(tmp_path):
    """Guard for the test above: the GB18030 file is not accidentally UTF-8."""
    text = csv_text(ZH_ORG_HEADER, [])
    assert text.encode("gb18030") != text.encode("utf-8")


def test_missing_required_column_names_it(tmp_path):
    header = [h for h in PROPOSAL_HEADER if h != "requested"]
    row = {k: v for k, v in proposal("P1", credit_code(1)).items() if k in header}
    path = write_csv(tmp_path / "proposals.csv", header, [row])
    with pytest.raises(FileProblem) as info:
        read_csv(path, "proposals.csv", PROPOSAL_COLUMNS, ("proposal_id",))
    assert info.value.rule == "missing_column"
    assert info.value.params["column"] == "requested"
    assert info.value.params["zh"] == "申请金额"
    assert info.value.source_file == "proposals.csv"


def test_optional_column_may_be_missing(tmp_path):
    header = [h for h in ORG_HEADER if h not in ("phone", "org_type")]
    row = {k: v for k, v in org(credit_code(1)).items() if k in header}
    path = write_csv(tmp_path / "organizations.csv", header, [row])
    table = read_csv(path, "organizations.csv", ORG_COLUMNS, ("credit_code",))
    assert table.rows[0]["_ok"] and table.rows[0]["phone"] is None


def test_empty_file_is_a_file_problem(tmp_path):
    path = tmp_path / "organizations.csv"
    path.write_bytes(b"")
    with pytest.raises(FileProblem) as info:
        read_csv(path, "organizations.csv", ORG_COLUMNS, ("credit_code",))
    assert info.value.rule == "file_empty"


def test_blank_lines_skipped_and_line_numbers_are_physical(tmp_path):
    a, b, c = (credit_code(n) for n in (1, 2, 3))
    text = (
        ",".join(ORG_HEADER)
        + "\n"  # line 1
        + f"{a},甲,,2020-01-01,合格,,\n"  # line 2
        + "\n"  # line 3: blank
        + ",,,,,,\n"  # line 4: only commas, blank too
        + f'{b},"乙\n多行名称\n第三行",,2020-01-01,合格,,\n'  # lines 5-7
        + f"{c},丙,,2020-01-01,合格,,\n"  # line 8
        + "\n\n"
    )
    path = tmp_path / "organizations.csv"
    path.write_text(text, encoding="utf-8")
    table = read_csv(path, "organizations.csv", ORG_COLUMNS, ("credit_code",))
    assert table.rows_in == 3
    assert [(r["credit_code"], r["_line"]) for r in table.rows] == [(a, 2), (b, 5), (c, 8)]
    assert table.rows[1]["name"] == "乙\n多行名称\n第三行"
    assert all(r["_ok"] for r in table.rows)


def test_crlf_line_numbers(tmp_path):
    a, b = credit_code(1), credit_code(2)
    text = ",".join(ORG_HEADER) + "\r\n" + f"{a},甲,,2020-01-01,合格,,\r\n\r\n{b},乙,,2020-01-01,合格,,\r\n"
    path = tmp_path / "organizations.csv"
    path.write_bytes(text.encode("utf-8-sig"))
    table = read_csv(path, "organizations.csv", ORG_COLUMNS, ("credit_code",))
    assert [r["_line"] for r in table.rows] == [2, 4]


def test_bad_cells_reject_only_their_row(tmp_path):
    good1, bad, good2 = credit_code(1), credit_code(2), credit_code(3)
    rows = [org(good1), org(bad, registered_on="2020-02-30", inspection="良好"), org(good2)]
    path = write_csv(tmp_path / "organizations.csv", ORG_HEADER, rows)
    table = read_csv(path, "organizations.csv", ORG_COLUMNS, ("credit_code",))
    assert [r["_ok"] for r in table.rows] == [True, False, True]
    got = sorted((p.source_file, p.source_row, p.record_id, p.field, p.value, p.rule) for p in table.problems)
    assert got == [
        ("organizations.csv", 3, bad, "inspection", "良好", "inspection_unknown"),
        ("organizations.csv", 3, bad, "registered_on", "2020-02-30", "date_invalid"),
    ]
    assert table.rows[1]["registered_on"] is None and table.rows[1]["inspection"] is None
    assert table.rows[1]["credit_code"] == bad  # readable cells of a bad row are still read
    assert table.rows[0]["registered_on"] == dt.date(2020, 1, 1)


def test_required_empty_cell_is_a_problem(tmp_path):
    code = credit_code(1)
    path = write_csv(tmp_path / "organizations.csv", ORG_HEADER, [org(code, name="  ")])
    table = read_csv(path, "organizations.csv", ORG_COLUMNS, ("credit_code",))
    assert not table.rows[0]["_ok"]
    assert [(p.source_row, p.field, p.rule) for p in table.problems] == [(2, "name", "required")]


def test_extra_cells_beyond_header_are_a_problem(tmp_path):
    code = credit_code(1)
    row = [code, "甲", "", "2020-01-01", "合格", "", "", "多出来的"]
    path = write_csv(tmp_path / "organizations.csv", ORG_HEADER, [row])
    table = read_csv(path, "organizations.csv", ORG_COLUMNS, ("credit_code",))
    assert [(p.source_row, p.rule) for p in table.problems] == [(2, "extra_cells")]


def test_unknown_headers_are_reported_as_extra(tmp_path):
    path = write_csv(tmp_path / "organizations.csv", ORG_HEADER + ["备注"], [org(credit_code(1), 备注="x")])
    table = read_csv(path, "organizations.csv", ORG_COLUMNS, ("credit_code",))
    assert table.extra_headers == ["备注"]
    assert table.rows[0]["_ok"]


def test_tab_separated_file(tmp_path):
    code = credit_code(5)
    path = tmp_path / "organizations.csv"
    path.write_text(
        "\t".join(ORG_HEADER) + "\n" + "\t".join([code, "甲", "", "2020-01-01", "合格", "", ""]) + "\n", encoding="utf-8"
    )
    table = read_csv(path, "organizations.csv", ORG_COLUMNS, ("credit_code",))
    assert header_row(table) == [code] and table.rows[0]["_ok"]


def test_read_csv_long_amount_with_three_decimals_is_a_row_problem(tmp_path):
    rows = [proposal("P1", credit_code(1), requested="12345678901234567890123456789.123"), proposal("P2", credit_code(1))]
    path = write_csv(tmp_path / "proposals.csv", PROPOSAL_HEADER, rows)
    table = read_csv(path, "proposals.csv", PROPOSAL_COLUMNS, ("proposal_id",))
    assert [r["_ok"] for r in table.rows] == [False, True]


def test_very_long_cell_is_an_error_for_its_row_only(tmp_path):
    rows = [proposal("P1", credit_code(1), summary="长" * 150_000), proposal("P2", credit_code(1))]
    path = write_csv(tmp_path / "proposals.csv", PROPOSAL_HEADER, rows)
    table = read_csv(path, "proposals.csv", PROPOSAL_COLUMNS, ("proposal_id",))
    assert [r["_ok"] for r in table.rows] == [False, True]
    assert [(p.source_row, p.field, p.rule) for p in table.problems] == [(2, "summary", "cell_too_long")]


def test_long_cell_under_the_csv_limit_is_an_error_for_its_row(tmp_path):
    rows = [proposal("P1", credit_code(1), summary="长" * 120_000), proposal("P2", credit_code(1))]
    path = write_csv(tmp_path / "proposals.csv", PROPOSAL_HEADER, rows)
    table = read_csv(path, "proposals.csv", PROPOSAL_COLUMNS, ("proposal_id",))
    assert [r["_ok"] for r in table.rows] == [False, True]
    assert [(p.source_row, p.field, p.rule) for p in table.problems] == [(2, "summary", "cell_too_long")]


def test_blank_line_above_header_is_skipped(tmp_path):
    code = credit_code(1)
    path = tmp_path / "organizations.csv"
    path.write_text("\n" + csv_text(ORG_HEADER, [org(code)]), encoding="utf-8")
    table = read_csv(path, "organizations.csv", ORG_COLUMNS, ("credit_code",))
    assert [(r["credit_code"], r["_line"], r["_ok"]) for r in table.rows] == [(code, 3, True)]


# ---------------------------------------------------------------- files as files


def file_rule(path, name="proposals.csv") -> str:
    with pytest.raises(FileProblem) as info:
        present(path, name)
    assert info.value.source_file == name
    return info.value.rule


def test_present_tells_nothing_from_something_else(tmp_path):
    assert present(tmp_path / "proposals.csv", "proposals.csv") is False  # nothing there: missing, waiting
    (tmp_path / "proposals.csv").write_text("proposal_id\n", encoding="utf-8")
    assert present(tmp_path / "proposals.csv", "proposals.csv") is True
    (tmp_path / "link.csv").symlink_to(tmp_path / "proposals.csv")  # a link to a file is that file
    assert present(tmp_path / "link.csv", "link.csv") is True


def test_a_folder_a_broken_link_or_a_pipe_is_not_missing(tmp_path):
    (tmp_path / "folder.csv").mkdir()
    (tmp_path / "broken.csv").symlink_to(tmp_path / "gone.csv")
    os.mkfifo(tmp_path / "pipe.csv")
    assert file_rule(tmp_path / "folder.csv") == "file_is_folder"
    assert file_rule(tmp_path / "broken.csv") == "file_broken_link"
    assert file_rule(tmp_path / "pipe.csv") == "file_not_regular"  # never opened: that would block
    for rule in ("file_is_folder", "file_broken_link", "file_not_regular"):
        assert "{" not in render(rule, {}, "zh") + render(rule, {}, "en")


def test_read_csv_of_a_folder_names_it(tmp_path):
    (tmp_path / "proposals.csv").mkdir()
    with pytest.raises(FileProblem) as info:
        read_csv(tmp_path / "proposals.csv", "proposals.csv", PROPOSAL_COLUMNS, ("proposal_id",))
    assert (info.value.source_file, info.value.rule) == ("proposals.csv", "file_is_folder")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file: a mode of 000 does not stop it")
def test_an_unreadable_file_names_it(tmp_path):
    path = write_csv(tmp_path / "proposals.csv", PROPOSAL_HEADER, [proposal("P1", credit_code(1))])
    path.chmod(0)
    assert file_rule(path) == "file_unreadable"


def test_a_file_that_cannot_be_opened_names_it(tmp_path, monkeypatch):
    """As an unreadable file behaves for any user but root (the test machine may run as root)."""
    path = write_csv(tmp_path / "proposals.csv", PROPOSAL_HEADER, [proposal("P1", credit_code(1))])

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(FileProblem) as info:
        present(path, "proposals.csv")
    assert (info.value.rule, info.value.params) == ("file_unreadable", {"error": "Permission denied"})
    assert render("file_unreadable", info.value.params, "en") == "the file cannot be read (Permission denied)"


def test_lock_and_hidden_files_are_not_inputs(tmp_path):
    for name in ("~$R05.csv", ".R05.csv.swp", ".hidden.csv"):
        (tmp_path / name).write_bytes(b"\x00garbage")
        assert listed(tmp_path / name, "scores") is False
    (tmp_path / "R05.csv").write_text("proposal_id\n", encoding="utf-8")
    assert listed(tmp_path / "R05.csv", "scores") is True
    (tmp_path / "R06.csv").mkdir()
    with pytest.raises(FileProblem) as info:
        listed(tmp_path / "R06.csv", "scores")
    assert (info.value.source_file, info.value.rule) == ("scores/R06.csv", "file_is_folder")

"""Reading one cell of the people's files: numbers, money, scores, dates, ids, credit
codes and closed vocabularies, as a `CsvColumn` (`schemas.tables`) describes it.

A cell that cannot be read raises `CellError` with the rule (and its parameters) that
names the reason in messages; nothing here raises anything else on any input text.
The file readers (`tasks.reading`) apply these rules row by row.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal

from fund.schemas.codes import VOCABULARIES as VOCABULARY_WORDS, YES_NO, vocabulary_lookup
from fund.schemas.tables import CsvColumn

VOCABULARIES = {name: vocabulary_lookup(words) for name, words in VOCABULARY_WORDS.items()}
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_VALUE = {c: i for i, c in enumerate(CREDIT_CHARS)}
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
MAX_CELL = 100_000  # characters; a longer cell is an error for its row


class CellError(ValueError):
    """A cell its column's rules cannot read; `rule` and `params` render the message."""

    def __init__(self, rule: str, **params):
        super().__init__(rule)
        self.rule = rule
        self.params = params


def fold(text: str) -> str:
    """Full-width digits, letters and punctuation to their ASCII forms; spaces trimmed."""
    if text.isascii():  # NFKC leaves ASCII as it is
        return text.strip()
    return unicodedata.normalize("NFKC", text).strip()


BLANKS = " \t\r\n\u3000\u00a0"


def clean_text(text: str) -> str:
    return text.replace("\ufeff", "").strip(BLANKS)


# Numbers: "." is the decimal point; "," only separates thousands, in groups of exactly three
# digits before the point (1,234,567.89). Anything else ("12,5", "1,00,000", "150 000,00") is
# rejected, never guessed. Full-width forms and spaces around the value are fine (`fold`).
GROUPED = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)"
MONEY = re.compile(rf"({GROUPED})(?:\.([0-9]+))?")
MONEY_DIGITS = 13  # whole yuan: below 10**13 yuan, so fen stay below 2**53
INTEGER = re.compile(rf"-?({GROUPED})(?:\.0+)?")
INTEGER_DIGITS = 12
SCORE = re.compile(rf"-?({GROUPED})(?:\.([0-9]+))?")
SCORE_DIGITS, SCORE_DECIMALS = 6, 10
NUMBERISH = re.compile(r"-?[0-9][0-9., ]*")  # digits with separators: a number written another way
ID_LENGTH = 32
IDENTIFIER = re.compile(rf"[A-Za-z0-9_-]{{1,{ID_LENGTH}}}")  # proposal and reviewer ids: also safe as file names
CURRENCY = re.compile("¥|￥|元|RMB|CNY")
# a credit code a spreadsheet turned into a number: 1.21200004013591E+17, 1.212E17
SCIENTIFIC = re.compile(r"[0-9]+(?:\.[0-9]*)?E\+?[0-9]+")


def parse_money(text: str) -> int:
    """'150,000.00', '１５００００', '¥150000' → fen. At most two decimals, never negative."""
    value = fold(text)
    match = MONEY.fullmatch(value)  # plain digits: nothing else to take off
    if not match:
        value = CURRENCY.sub("", value).strip(BLANKS)  # "¥ 150,000.00", "150000 元"
        if value.startswith("-") and MONEY.fullmatch(value[1:].strip(BLANKS)):
            raise CellError("money_negative")
        match = MONEY.fullmatch(value)
        if not match:
            raise CellError("money_format")
    whole, decimals = _digits(match.group(1)), match.group(2) or ""
    if len(whole) > MONEY_DIGITS:
        raise CellError("money_format")
    if decimals[2:].strip("0"):
        raise CellError("money_precision")
    return int(whole) * 100 + int((decimals[:2] or "0").ljust(2, "0"))


def _digits(grouped: str) -> str:
    """The digits of a whole part without separators and leading zeros ("0" for zero)."""
    return grouped.replace(",", "").lstrip("0") or "0"


def parse_int(text: str) -> int:
    value = fold(text)
    match = INTEGER.fullmatch(value)
    if not match or len(_digits(match.group(1))) > INTEGER_DIGITS:
        raise CellError("integer_format")
    number = int(_digits(match.group(1)))
    return -number if value.startswith("-") else number


def parse_score(text: str) -> Decimal:
    value = fold(text)
    match = SCORE.fullmatch(value)
    if not match:
        # "12,5", "7 5": a number, but not written with "." as the decimal point
        raise CellError("score_format" if NUMBERISH.fullmatch(value) else "number_format")
    whole, fraction = _digits(match.group(1)), (match.group(2) or "").rstrip("0")
    if len(whole) > SCORE_DIGITS:
        raise CellError("number_format")
    if len(fraction) > SCORE_DECIMALS:  # exact arithmetic on it must stay within Decimal's 28 digits
        raise CellError("number_precision", max=SCORE_DECIMALS)
    return Decimal(value.replace(",", ""))


def hundredths(value: Decimal) -> int | None:
    """A read number as whole hundredths (ratings, bonus points), or None when it has more
    than two decimals."""
    scaled = value * 100
    return int(scaled) if scaled == scaled.to_integral_value() else None


DATE_FORMS = tuple(
    re.compile(form)
    for form in (
        r"(\d{4})-(\d{1,2})-(\d{1,2})",
        r"(\d{4})/(\d{1,2})/(\d{1,2})",
        r"(\d{4})年(\d{1,2})月(\d{1,2})日",
        r"(\d{4})\.(\d{1,2})\.(\d{1,2})",
    )
)
MIDNIGHT = re.compile(r"\s+0{1,2}:00(:00)?$")  # Excel adds a midnight time


def parse_date(text: str) -> dt.date:
    value = fold(text)
    value = MIDNIGHT.sub("", value)
    for form in DATE_FORMS:
        match = form.fullmatch(value)
        if match:
            try:
                return dt.date(*(int(g) for g in match.groups()))
            except ValueError as exc:
                raise CellError("date_invalid") from exc
    raise CellError("date_format")


def credit_check_char(first17: str) -> str:
    total = sum(CREDIT_VALUE[c] * w for c, w in zip(first17, CREDIT_WEIGHTS))
    return CREDIT_CHARS[(31 - total % 31) % 31]


def parse_credit_code(text: str) -> str:
    """Unified social credit code: 18 characters, GB 32100 check digit."""
    code = fold(text).upper().replace(" ", "")
    if SCIENTIFIC.fullmatch(code):
        raise CellError("credit_code_scientific")
    if len(code) != 18 or not CREDIT_VALUE.keys() >= set(code):
        raise CellError("credit_code_format")
    if credit_check_char(code[:17]) != code[17]:
        raise CellError("credit_code_checksum", expected=credit_check_char(code[:17]))
    return code


def parse_id(text: str) -> str:
    value = fold(text)
    if not IDENTIFIER.fullmatch(value):
        raise CellError("id_format")
    return value


def parse_vocab(text: str, vocab: str) -> str:
    lookup = VOCABULARIES[vocab]
    value = fold(text)
    key = lookup.get(value.lower()) or lookup.get(value)
    if key is None:
        raise CellError(f"{vocab}_unknown")
    return key


def parse_categories(text: str) -> str:
    parts = [p for p in re.split(r"[;；,，、\s]+", fold(text)) if p]
    return ";".join(sorted({parse_vocab(p, "category") for p in parts}))


def parse_credit_codes(text: str) -> str:
    parts = [p for p in re.split(r"[;；,，、\s]+", fold(text)) if p]
    return ";".join(sorted({parse_credit_code(p) for p in parts}))


def parse_yes_no(text: str) -> bool:
    value = fold(text).lower()
    for answer, spellings in YES_NO.items():
        if value in spellings:
            return answer == "yes"
    raise CellError("yes_no_unknown")


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
}


def parse_cell(text: str, column: CsvColumn):
    if len(text) > MAX_CELL:
        raise CellError("cell_too_long", limit=MAX_CELL)
    if column.kind == "text":
        return text
    if column.kind == "vocab":
        return parse_vocab(text, column.vocab)
    value = PARSERS[column.kind](text)
    if column.minimum is not None and value < column.minimum:
        raise CellError("value_below_min", min=column.minimum)
    if column.maximum is not None and value > column.maximum:
        raise CellError("value_above_max", max=column.maximum)
    return value

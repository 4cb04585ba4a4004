"""`cycle.toml`: the one config file of a funding cycle.

Parsed with `tomllib` (floats read as Decimal so shares and weights stay exact) into
pydantic models. Any problem raises `ConfigError` naming the key; the CLI exits 2.
Every number has a range (README, "cycle.toml ranges"): amounts stay below
`MAX_AMOUNT_YUAN`, so that every sum of them in fen is exact in the database's BIGINT and
in the solver's float64 (whole numbers below 2**53); counts and days are whole numbers
(a float where a whole number belongs is an error, not rounded).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from fund.schemas.codes import CATEGORIES, PRIORITY_GROUPS


class ConfigError(Exception):
    """cycle.toml is missing, unreadable or has a bad key; `key` names it."""

    def __init__(self, key: str, problem: str):
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


CENT = Decimal("0.01")
MAX_AMOUNT_YUAN = 10**12  # 1,000,000,000,000.00 yuan (10**14 fen): budgets and amounts stay below it
AMOUNT_TEXT = re.compile(r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]{1,2})?")  # as in the CSV cells


def _money(value) -> Decimal:
    """Yuan, as a string ("5,000,000.00": "." the decimal point, "," only between groups of three
    digits) or a TOML number; at most two decimals, from 0 to MAX_AMOUNT_YUAN."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError(f"{value!r} is not an amount in yuan")
    if isinstance(value, str):
        text = value.strip()
        if not AMOUNT_TEXT.fullmatch(text):
            raise ValueError('not an amount in yuan (e.g. "5000000.00" or "5,000,000.00")')
        value = text.replace(",", "")
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"{value!r} is not an amount in yuan") from exc
    if not amount.is_finite() or not 0 <= amount <= MAX_AMOUNT_YUAN or amount != amount.quantize(CENT, ROUND_DOWN):
        raise ValueError(f"must be an amount from 0 to {MAX_AMOUNT_YUAN:,} yuan with at most two decimals")
    return amount.quantize(CENT)


def _whole_number(value):
    """A whole number: a TOML integer (or digits, from a command-line override); never a float,
    never true/false."""
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true/false")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]{1,19}\s*", value):
        return int(value)
    raise ValueError("must be a whole number")


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CycleSection(_Section):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    name: str = Field(min_length=1)
    budget: Decimal = Decimal("5000000.00")
    opens: dt.date
    closes: dt.date
    submission_deadline: dt.date | None = None
    publicity_days: WholeNumber = Field(default=7, ge=0, le=60)
    # the district (or other body) whose cycles these are: cycles of one district in one
    # database make the "across the years" section of its leadership report
    district: str | None = Field(default=None, min_length=1, max_length=100)

    @field_validator("budget", mode="before")
    @classmethod
    def _budget(cls, value):
        return _money(value)

    @model_validator(mode="after")
    def _dates(self):
        if self.closes < self.opens:
            raise ValueError("closes is before opens")
        return self

    @property
    def budget_fen(self) -> int:
        return int(self.budget * 100)


class RulesSection(_Section):
    min_request: Decimal = Decimal("20000.00")
    max_request: Decimal = Decimal("200000.00")
    max_proposals_per_org: WholeNumber = Field(default=2, ge=1, le=1000)
    max_funded_per_org: WholeNumber = Field(default=1, ge=1, le=1000)
    min_org_age_days: WholeNumber = Field(default=365, ge=0, le=36500)
    max_admin_share: Decimal = Field(default=Decimal("0.10"), ge=0, le=1)
    score_threshold: Decimal = Field(default=Decimal("70.0"), ge=0, le=100)
    reviewers_per_proposal: WholeNumber = Field(default=2, ge=1, le=10)
    discrepancy_threshold: Decimal = Field(default=Decimal("15.0"), ge=0, le=100)

    @field_validator("min_request", "max_request", mode="before")
    @classmethod
    def _amounts(cls, value):
        return _money(value)

    @model_validator(mode="after")
    def _range(self):
        if self.min_request > self.max_request:
            raise ValueError("min_request is above max_request")
        return self


class AllocationSection(_Section):
    policy: Literal["optimal", "merit"] = "optimal"
    cover_every_street: bool = True
    require_approval: bool = False
    mip_gap: Decimal = Field(default=Decimal("0"), ge=0, le=Decimal("0.1"))
    time_limit_s: Decimal | None = Field(default=None, gt=0, le=86400)
    # on a Prefect server: the alert "waiting for approval too long" fires after this many hours
    approval_reminder_hours: WholeNumber = Field(default=48, ge=1, le=720)


class NeedsSection(_Section):
    """`[needs]`: the needs list (needs.csv, 需求清单) in intake and allocation."""

    cover_urgent: bool = False  # optimal policy: each urgent need a fundable proposal answers gets one funded
    require_need: bool = False  # a proposal must name at least one need of needs.csv (need_ids)


class ScoringSection(_Section):
    calibrate: bool = False


class TrackingSection(_Section):
    """`[tracking]`: after the award — progress reports, mid-term and final evaluation (双评 again)."""

    pass_mark: Decimal = Field(default=Decimal("60"), ge=0, le=100)  # combined score needed to pass
    expert_weight: Decimal = Field(default=Decimal("0.7"), ge=0, le=1)  # third-party / expert score
    satisfaction_weight: Decimal = Field(default=Decimal("0.3"), ge=0, le=1)  # beneficiaries' satisfaction
    report_period_days: WholeNumber = Field(default=30, ge=1, le=366)  # a progress report per N days from the project start
    report_grace_days: WholeNumber = Field(default=10, ge=0, le=120)  # days after a period's end until its report is late
    behind_plan: Decimal = Field(default=Decimal("0.5"), ge=0, le=1)  # beneficiaries under this share of plan-to-date: at risk
    rectification_days: WholeNumber = Field(default=60, ge=1, le=366)  # after a failed mid-term: days to rectify (整改)
    as_of: dt.date | None = None  # the date tracking and reports are "as of" (default: today, Asia/Shanghai)
    publicity_from: dt.date | None = None  # older spelling of [publicity] starts

    @model_validator(mode="after")
    def _weights(self):
        if self.expert_weight + self.satisfaction_weight != 1:
            raise ValueError(
                f"expert_weight + satisfaction_weight must be 1 (they are {self.expert_weight} + {self.satisfaction_weight})"
            )
        return self


class IncentivesSection(_Section):
    """`[incentives]`: the four incentives (四激励) from the final evaluation's combined score.
    优秀 ≥ excellent, 良好 ≥ good, 合格 ≥ tracking.pass_mark, else 不合格."""

    excellent: Decimal = Field(default=Decimal("90"), ge=0, le=100)
    good: Decimal = Field(default=Decimal("80"), ge=0, le=100)
    excellent_bonus: Decimal = Field(default=Decimal("2"), ge=0, le=20)  # points added next cycle (priority)
    good_bonus: Decimal = Field(default=Decimal("0"), ge=0, le=20)
    bar_failed: bool = True  # 不合格: barred from the next cycle

    @model_validator(mode="after")
    def _order(self):
        if self.good > self.excellent:
            raise ValueError("good must not be above excellent")
        return self


# ---------------------------------------------------------------- what people read: the notice and the sheets

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
PHONE = re.compile(r"[0-9０-９+()（）\-—– 转ext.,，、/]{5,40}")


def _line(value) -> str:
    """A line of text a person reads: trimmed, not empty, on one line."""
    text = str(value).strip()
    if not text or "\n" in text or "\r" in text:
        raise ValueError("must be one line of text, not empty")
    if len(text) > 200:
        raise ValueError("must be at most 200 characters")
    return text


class PublicitySection(_Section):
    """`[publicity]`: the public notice's issuer (落款), where objections go, and its first day."""

    issuer: str | None = None  # the issuing office
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    starts: dt.date | None = None  # default: the approval date, else the day first published

    @field_validator("issuer", "phone", "email", "address", mode="before")
    @classmethod
    def _text(cls, value):
        return None if value is None else _line(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value):
        if value is not None and not (PHONE.fullmatch(value) and any(c.isdigit() for c in value)):
            raise ValueError("is not a telephone number (digits, spaces, -, +, parentheses)")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value):
        if value is not None and not EMAIL.fullmatch(value):
            raise ValueError("is not an e-mail address")
        return value


class ReviewSection(_Section):
    """`[review]`: printed on the reviewer workbooks' instructions."""

    deadline: dt.date | None = None  # the day score sheets are due back
    contact: str | None = None  # the administrator reviewers ask and return sheets to

    @field_validator("contact", mode="before")
    @classmethod
    def _text(cls, value):
        return None if value is None else _line(value)


class FinanceSection(_Section):
    """`[finance]`: how the finance office's export (`fund reconcile --statement`) heads its four
    columns. Unset, a column is found by its English or Chinese name (date 日期, amount 金额,
    payee 收款人, reference 凭证号); set, by that name (as a header cell or part of one)."""

    date_column: str | None = None
    amount_column: str | None = None
    payee_column: str | None = None
    reference_column: str | None = None

    @field_validator("date_column", "amount_column", "payee_column", "reference_column", mode="before")
    @classmethod
    def _name(cls, value):
        if value is None:
            return None
        text = _line(value)
        if len(text) > 64:
            raise ValueError("a column name has at most 64 characters")
        return text

    def named(self) -> dict[str, str]:
        """The columns given a name: key → name."""
        return {key: value for key, value in self.model_dump().items() if value is not None}

    def names(self) -> dict[str, str]:
        """Each column's name: as given, else its English default (date, amount, payee, reference)."""
        return {key: value if value is not None else key.removesuffix("_column") for key, value in self.model_dump().items()}


def _shares_sum_to_one(values: dict, section: str) -> None:
    total = sum(values.values(), Decimal(0))
    if total != 1:
        raise ConfigError(section, f"values must sum to 1 (they sum to {total})")


class CycleConfig(_Section):
    cycle: CycleSection
    rules: RulesSection = RulesSection()
    rubric: dict[str, WholeNumber] = Field(
        default_factory=lambda: {"need": 20, "design": 20, "feasibility": 15, "capacity": 15, "budget": 15, "impact": 15}
    )
    weights: dict[str, Decimal] = Field(default_factory=lambda: {"expert": Decimal("0.7"), "community": Decimal("0.3")})
    allocation: AllocationSection = AllocationSection()
    scoring: ScoringSection = ScoringSection()
    priorities: dict[str, Decimal] = Field(default_factory=dict)
    tranches: dict[str, Decimal] = Field(
        default_factory=lambda: {"signing": Decimal("0.5"), "midterm": Decimal("0.3"), "final": Decimal("0.2")}
    )
    tracking: TrackingSection = TrackingSection()
    incentives: IncentivesSection = IncentivesSection()
    publicity: PublicitySection = PublicitySection()
    review: ReviewSection = ReviewSection()
    finance: FinanceSection = FinanceSection()
    needs: NeedsSection = NeedsSection()

    @property
    def budget_fen(self) -> int:
        return self.cycle.budget_fen


def _check_sections(cfg: CycleConfig) -> None:
    for name, points in cfg.rubric.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or name in {"proposal_id", "reviewer_id", "comment", "conflict"}:
            raise ConfigError(f"rubric.{name}", "criterion names are simple English words (letters, digits, _)")
        if not 1 <= points <= 100:
            raise ConfigError(f"rubric.{name}", f"maximum points must be a whole number from 1 to 100 (got {points})")
    if sum(cfg.rubric.values()) != 100:
        raise ConfigError("rubric", f"maximum points must sum to 100 (they sum to {sum(cfg.rubric.values())})")
    if set(cfg.weights) != {"expert", "community"}:
        raise ConfigError("weights", "needs exactly the keys expert and community")
    for key, value in cfg.weights.items():
        if not 0 <= value <= 1:
            raise ConfigError(f"weights.{key}", "must be between 0 and 1")
    _shares_sum_to_one(cfg.weights, "weights")
    for group, share in cfg.priorities.items():
        if group not in PRIORITY_GROUPS:
            raise ConfigError(f"priorities.{group}", f"unknown group; use one of {', '.join(PRIORITY_GROUPS)}")
        if not 0 <= share <= 1:
            raise ConfigError(f"priorities.{group}", "share must be between 0 and 1")
    if sum(cfg.priorities.values(), Decimal(0)) > 1:
        raise ConfigError("priorities", "shares add up to more than the whole budget")
    for key, share in cfg.tranches.items():
        if not 0 <= share <= 1:
            raise ConfigError(f"tranches.{key}", "share must be between 0 and 1")
    _shares_sum_to_one(cfg.tranches, "tranches")
    seen: dict[str, str] = {}
    for key, name in cfg.finance.names().items():
        folded = re.sub(r"\s+", "", name).casefold()
        if folded in seen:
            raise ConfigError(f"finance.{key}", f"names the same column as finance.{seen[folded]} ({name!r})")
        seen[folded] = key
    assert set(PRIORITY_GROUPS) <= set(CATEGORIES)


def parse_config(text: str, source: str = "cycle.toml") -> CycleConfig:
    try:
        raw = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, f"not valid TOML ({exc})") from exc
    try:
        cfg = CycleConfig.model_validate(raw)
    except ValidationError as exc:
        raise config_error(exc, source) from None
    _check_sections(cfg)
    return cfg


def config_error(exc: ValidationError, source: str = "cycle.toml") -> ConfigError:
    """The first problem of a validation error, naming its key."""
    first = exc.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or source
    if first["type"] == "missing":
        return ConfigError(key, "required key is missing")
    message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"].removeprefix("Value error, ")
    value = first.get("input")
    shown = str(value) if isinstance(value, Decimal) else repr(value)
    return ConfigError(key, f"{message} (got {shown[:80]})")


def load_config(cycle_dir: Path) -> CycleConfig:
    path = Path(cycle_dir) / "cycle.toml"
    if path.is_dir():
        raise ConfigError("cycle.toml", f"{path} is a folder, not the cycle's config file")
    if not path.is_file():
        raise ConfigError("cycle.toml", f"no cycle.toml in {cycle_dir}")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError("cycle.toml", "must be saved as UTF-8") from exc
    except OSError as exc:
        raise ConfigError("cycle.toml", f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    return parse_config(text)


def apply_overrides(cfg: CycleConfig, overrides: dict[str, object]) -> CycleConfig:
    """Return a copy of cfg with dotted keys replaced ("cycle.budget", "rules.score_threshold" …)."""
    raw = cfg.model_dump(mode="json")
    for dotted, value in overrides.items():
        section, _, key = dotted.partition(".")
        if section not in raw or not key:
            raise ConfigError(dotted, "unknown key")
        if isinstance(raw[section], dict) and key not in raw[section] and section not in {"priorities", "rubric", "weights"}:
            raise ConfigError(dotted, "unknown key")
        raw[section][key] = value
    try:
        new = CycleConfig.model_validate(raw)
    except ValidationError as exc:
        raise config_error(exc) from None
    _check_sections(new)
    return new

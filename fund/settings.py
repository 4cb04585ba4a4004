"""Every `FUND_*` environment variable the product reads, defined once.

`load_settings()` reads them (an empty variable counts as unset) and checks each against
its range; a bad value raises `SettingsError`, whose text is one plain sentence naming the
variable, in Chinese and English (the CLI exits 2 with it). The SMTP password is a
`SecretStr`: it is never printed, logged or put into a message.

Test hooks (`FUND_CRASH_AT`, `FUND_TEST_DATABASE_URL`) are not settings and stay out of here.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from fund.schemas.config import WholeNumber

PREFIX = "FUND_"
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2099, 12, 31)


def _range(zh: str, en: str) -> dict:
    """What a variable accepts, as the error sentence says it."""
    return {"zh": zh, "en": en}


class Settings(BaseSettings):
    """The product's environment variables (`FUND_` + the field name in capitals)."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, env_ignore_empty=True, extra="ignore", frozen=True)

    lang: Literal["zh", "en"] = Field(
        "zh",
        description="language of messages and outputs when --lang is not given",
        json_schema_extra=_range("应为 zh 或 en", "must be zh or en"),
    )
    as_of: dt.date | None = Field(
        None,
        description="the date tracking and the leadership report are 'as of' (default: [tracking] as_of, "
        "else today in Asia/Shanghai); --as-of overrides it",
        json_schema_extra=_range(
            f"应为 {EARLIEST} 至 {LATEST} 之间的日期（YYYY-MM-DD、YYYY/M/D 或 YYYY年M月D日）",
            f"must be a date from {EARLIEST} to {LATEST} (YYYY-MM-DD, YYYY/M/D or YYYY年M月D日)",
        ),
    )
    smtp_host: str | None = Field(
        None,
        max_length=253,
        description="mail server for the leadership report; unset: the report is not e-mailed",
        json_schema_extra=_range("应为邮件服务器的主机名或 IP 地址", "must be the mail server's host name or IP address"),
    )
    smtp_port: WholeNumber | None = Field(
        None,
        ge=1,
        le=65535,
        description="mail server port (default 587 with a user, else 25; 465 is implicit TLS)",
        json_schema_extra=_range("应为 1–65535 的整数", "must be a whole number from 1 to 65535"),
    )
    smtp_user: str | None = Field(
        None,
        max_length=254,
        description="login name at the mail server; unset: no login",
        json_schema_extra=_range("应为不超过 254 个字符的登录名", "must be a login name of at most 254 characters"),
    )
    smtp_password: SecretStr | None = Field(
        None,
        max_length=1024,
        description="password for smtp_user; never printed",
        json_schema_extra=_range("应为不超过 1024 个字符的密码", "must be a password of at most 1024 characters"),
    )
    smtp_from: str | None = Field(
        None,
        max_length=254,
        description="sender address (default: the user if it is an address)",
        json_schema_extra=_range("应为一个电子邮件地址", "must be one e-mail address"),
    )
    report_to: str | None = Field(
        None,
        max_length=4000,
        description="recipients of the leadership report, separated by , or ;",
        json_schema_extra=_range("应为以逗号或分号分隔的电子邮件地址", "must be e-mail addresses separated by , or ;"),
    )
    smtp_retries: WholeNumber = Field(
        2,
        ge=0,
        le=10,
        description="how often a failed e-mail is tried again",
        json_schema_extra=_range("应为 0–10 的整数", "must be a whole number from 0 to 10"),
    )
    smtp_retry_delay: float = Field(
        30,
        ge=0,
        le=3600,
        allow_inf_nan=False,
        description="seconds between e-mail attempts",
        json_schema_extra=_range("应为 0–3600 之间的秒数", "must be a number of seconds from 0 to 3600"),
    )

    audit_key: SecretStr | None = Field(
        None,
        min_length=8,
        max_length=1024,
        description="key of the audit trail's HMAC chain; set it before a cycle's first run (never printed)",
        json_schema_extra=_range("应为 8–1024 个字符的密钥", "must be a key of 8 to 1024 characters"),
    )
    database_url: SecretStr | None = Field(
        None,
        max_length=4096,
        description="the product database of a deployment run whose db_url parameter is empty (the worker's "
        "environment; never printed); fund run and the other commands take --db",
        json_schema_extra=_range(
            "应为数据库地址，例如 postgresql+psycopg://用户:密码@主机:5432/库名",
            "must be a database URL, e.g. postgresql+psycopg://user:password@host:5432/dbname",
        ),
    )
    database_secret: str | None = Field(
        None,
        max_length=255,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="name of the Prefect Secret block holding the product database URL (when FUND_DATABASE_URL is unset)",
        json_schema_extra=_range(
            "应为 Prefect Secret 块的名称（小写字母、数字和“-”）",
            "must be the name of a Prefect Secret block (lowercase letters, digits and -)",
        ),
    )
    alert_webhook_url: SecretStr | None = Field(
        None,
        max_length=2048,
        description="webhook of the alerts (WeCom/DingTalk robot) for python -m fund.flows.alerts apply",
        json_schema_extra=_range("应为 http(s) 网址", "must be an http(s) URL"),
    )
    alert_email_url: SecretStr | None = Field(
        None,
        max_length=2048,
        description="Apprise mail URL (mailtos://…) of the alerts for python -m fund.flows.alerts apply",
        json_schema_extra=_range(
            "应为 Apprise 邮件地址，例如 mailtos://用户:密码@smtp主机:465?to=收件人",
            "must be an Apprise mail URL, e.g. mailtos://user:password@smtp-host:465?to=someone",
        ),
    )
    prefect_start_timeout: float = Field(
        300,
        ge=5,
        le=3600,
        allow_inf_nan=False,
        description="seconds to wait for the temporary Prefect server a command starts (a first start migrates its database)",
        json_schema_extra=_range("应为 5–3600 之间的秒数", "must be a number of seconds from 5 to 3600"),
    )

    @field_validator("as_of", mode="before")
    @classmethod
    def _date(cls, value):
        if isinstance(value, str):  # the forms a date cell and --as-of take: 2026-09-30, 2026/9/30, 2026年9月30日
            from fund.schemas.cells import CellError, parse_date

            try:
                value = parse_date(value)
            except CellError:
                raise ValueError("not a date") from None
        if isinstance(value, dt.date) and not EARLIEST <= value <= LATEST:
            raise ValueError("out of range")
        return value

    @field_validator("smtp_from")
    @classmethod
    def _address(cls, value):
        if value is not None and not re.fullmatch(r"[^@\s,;<>]+@[^@\s,;<>]+", value.strip()):
            raise ValueError("not an address")
        return value.strip() if value else value

    @property
    def recipients(self) -> tuple[str, ...]:
        return tuple(a.strip() for a in (self.report_to or "").replace(";", ",").split(",") if a.strip())

    @classmethod
    def variable(cls, name: str) -> str:
        """The environment variable of a field: lang → FUND_LANG."""
        return PREFIX + name.upper()


class SettingsError(Exception):
    """A FUND_* variable outside its range; `text()` is the sentence for the user."""

    def __init__(self, variable: str, zh: str, en: str):
        super().__init__(variable, zh, en)
        self.variable, self.zh, self.en = variable, zh, en

    def text(self, lang: str | None = None) -> str:
        """One sentence naming the variable: in `lang`, or in both languages when it is not known."""
        if lang == "zh":
            return f"{self.variable} {self.zh}"
        if lang == "en":
            return f"{self.variable} {self.en}"
        return f"{self.variable} {self.zh} / {self.en}"

    def __str__(self) -> str:
        return self.text()


def settings_error(error: ValidationError) -> SettingsError:
    """The first problem of a settings validation error, as one sentence naming its variable and
    the range it must be in (never the raw pydantic text, never a secret value)."""
    first = error.errors()[0]
    name = str(first["loc"][0]) if first["loc"] else ""
    field = Settings.model_fields.get(name)
    if field is None:
        return SettingsError(PREFIX + "*", "的设置无法读取", "settings cannot be read")
    allowed = field.json_schema_extra or {}
    zh, en = allowed.get("zh", "的值无效"), allowed.get("en", "has a value that cannot be used")
    value = first.get("input")
    if isinstance(value, str) and name != "smtp_password":
        shown = value if len(value) <= 40 else value[:40] + "…"
        zh, en = f"{zh}（现为 “{shown}”）", f"{en} (it is “{shown}”)"
    return SettingsError(Settings.variable(name), zh, en)


def load_settings() -> Settings:
    """The FUND_* variables as they are now (read on every call: cheap, and never stale)."""
    try:
        return Settings()
    except ValidationError as error:
        raise settings_error(error) from None

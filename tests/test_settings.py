"""fund.settings: every FUND_* variable defined once, each with a range; a bad value is one
sentence naming the variable (exit 2 from any command), and the SMTP password never shows."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fund.cli import app
from fund.settings import Settings, SettingsError, load_settings

FUND = Path(__file__).resolve().parents[1] / "fund"
VARIABLES = (
    "FUND_LANG",
    "FUND_AS_OF",
    "FUND_SMTP_HOST",
    "FUND_SMTP_PORT",
    "FUND_SMTP_USER",
    "FUND_SMTP_PASSWORD",
    "FUND_SMTP_FROM",
    "FUND_REPORT_TO",
    "FUND_SMTP_RETRIES",
    "FUND_SMTP_RETRY_DELAY",
    "FUND_AUDIT_KEY",
    "FUND_PREFECT_START_TIMEOUT",
    "FUND_DATABASE_URL",
    "FUND_DATABASE_SECRET",
    "FUND_ALERT_WEBHOOK_URL",
    "FUND_ALERT_EMAIL_URL",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def error_of(monkeypatch, name: str, value: str) -> SettingsError:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    return info.value


def test_defaults_without_any_variable():
    s = load_settings()
    assert (s.lang, s.as_of, s.smtp_host, s.smtp_port, s.smtp_retries, s.smtp_retry_delay) == ("zh", None, None, None, 2, 30)
    assert s.recipients == ()


def test_values_are_read_and_empty_means_unset(monkeypatch):
    for name, value in {
        "FUND_LANG": "en",
        "FUND_AS_OF": "2026年9月30日",
        "FUND_SMTP_PORT": "465",
        "FUND_SMTP_RETRIES": "0",
        "FUND_SMTP_RETRY_DELAY": "0.5",
        "FUND_REPORT_TO": "a@x.cn; b@x.cn,",
        "FUND_SMTP_HOST": "",
    }.items():
        monkeypatch.setenv(name, value)
    s = load_settings()
    assert (s.lang, s.as_of, s.smtp_port, s.smtp_retries, s.smtp_retry_delay) == ("en", dt.date(2026, 9, 30), 465, 0, 0.5)
    assert s.recipients == ("a@x.cn", "b@x.cn") and s.smtp_host is None


@pytest.mark.parametrize(
    "name, value, zh, en",
    [
        ("FUND_SMTP_RETRIES", "abc", "应为 0–10 的整数", "must be a whole number from 0 to 10"),
        ("FUND_SMTP_RETRIES", "11", "应为 0–10 的整数", "must be a whole number from 0 to 10"),
        ("FUND_SMTP_RETRIES", "2.0", "应为 0–10 的整数", "must be a whole number from 0 to 10"),
        ("FUND_SMTP_RETRIES", "2_0", "应为 0–10 的整数", "must be a whole number from 0 to 10"),
        ("FUND_SMTP_RETRY_DELAY", "-1", "应为 0–3600 之间的秒数", "must be a number of seconds from 0 to 3600"),
        ("FUND_SMTP_RETRY_DELAY", "inf", "应为 0–3600 之间的秒数", "must be a number of seconds from 0 to 3600"),
        ("FUND_SMTP_PORT", "0", "应为 1–65535 的整数", "must be a whole number from 1 to 65535"),
        ("FUND_SMTP_PORT", "25.0", "应为 1–65535 的整数", "must be a whole number from 1 to 65535"),
        (
            "FUND_AS_OF",
            "2026-9-31",
            "应为 2000-01-01 至 2099-12-31 之间的日期（YYYY-MM-DD、YYYY/M/D 或 YYYY年M月D日）",
            "must be a date from 2000-01-01 to 2099-12-31 (YYYY-MM-DD, YYYY/M/D or YYYY年M月D日)",
        ),
        ("FUND_AS_OF", "1700000000", "应为 2000-01-01 至 2099-12-31 之间的日期", "must be a date from 2000-01-01 to 2099-12-31"),
        ("FUND_AS_OF", "1999-12-31", "应为 2000-01-01 至 2099-12-31 之间的日期", "must be a date from 2000-01-01 to 2099-12-31"),
        ("FUND_LANG", "fr", "应为 zh 或 en", "must be zh or en"),
        ("FUND_SMTP_FROM", "a@b@c", "应为一个电子邮件地址", "must be one e-mail address"),
    ],
)
def test_a_bad_value_is_one_sentence_naming_the_variable(monkeypatch, name, value, zh, en):
    error = error_of(monkeypatch, name, value)
    assert error.variable == name
    assert error.text("zh").startswith(f"{name} {zh}") and error.text("en").startswith(f"{name} {en}")
    assert error.text() == f"{name} {error.zh} / {error.en}"
    assert "pydantic" not in error.text() and "\n" not in error.text()


def test_a_bad_variable_is_exit_2_from_any_command(monkeypatch, tmp_path):
    monkeypatch.setenv("FUND_SMTP_RETRIES", "abc")
    for command in (
        ["run", str(tmp_path), "--out", str(tmp_path / "out")],
        ["demo", "--out", str(tmp_path / "d")],
        ["audit", "verify", str(tmp_path), "--out", str(tmp_path)],
    ):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2, result.output
        assert result.output.strip() == (
            "FUND_SMTP_RETRIES 应为 0–10 的整数（现为 “abc”） / must be a whole number from 0 to 10 (it is “abc”)"
        )
    assert not (tmp_path / "d").exists()  # stopped before doing anything


def test_the_password_is_secret_and_never_echoed(monkeypatch):
    monkeypatch.setenv("FUND_SMTP_PASSWORD", "s3cret-Pw!")
    s = load_settings()
    assert s.smtp_password.get_secret_value() == "s3cret-Pw!"
    assert "s3cret" not in repr(s) and "s3cret" not in str(s) and "s3cret" not in s.model_dump_json()
    error = error_of(monkeypatch, "FUND_SMTP_PASSWORD", "x" * 2000)  # too long: named, not shown
    assert error.variable == "FUND_SMTP_PASSWORD" and "xxx" not in error.text()


def test_every_field_has_a_description_and_a_range_in_both_languages():
    for name, field in Settings.model_fields.items():
        assert field.description, name
        assert set(field.json_schema_extra) == {"zh", "en"}, name
    assert {Settings.variable(n) for n in Settings.model_fields} == set(VARIABLES)


def test_no_module_reads_fund_variables_from_the_environment_itself():
    """fund.settings is the one place (FUND_CRASH_AT is a test hook, not a setting)."""
    readers = re.compile(r"(os\.environ|getenv)[^\n]*FUND_(?!CRASH_AT)")
    found = [str(p.relative_to(FUND)) for p in FUND.rglob("*.py") if readers.search(p.read_text(encoding="utf-8"))]
    assert found == []
    envvars = re.compile(r'envvar="FUND_')
    assert not [p for p in FUND.rglob("*.py") if envvars.search(p.read_text(encoding="utf-8"))]

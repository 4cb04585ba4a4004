"""The public notice (公示) and the result letters: the period printed and the one tracking
uses, the issuer and the objection channel, a letter for every applicant with its own
reason, and letters e-mailed once to organizations that gave an address."""

from __future__ import annotations

import datetime as dt
import email
import os
import re
import socket
from email import policy
from pathlib import Path

import pytest
from typer.testing import CliRunner

from builders import make_config, write_small_cycle
from fund.cli import app
from fund.tasks.letters import build_letters, email_address, letter_path
from fund.tasks.publicity import NoticePeriod, notice_context, notice_period, notice_starts, render_publicity
from fund.tasks.tracking import publicity_window

D = dt.date
PUBLICITY = {
    "issuer": "南关区民政局",
    "phone": "0431-8888 1234",
    "email": "gycy@example.gov.cn",
    "address": "南关区人民大街 1 号 301 室",
}
runner = CliRunner()


def fund(*args):
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout + (result.stderr or "")


# ---------------------------------------------------------------- the period


def test_seven_days_counted_with_both_ends_and_tracking_reads_the_same_period():
    cfg = make_config(publicity={"starts": D(2026, 4, 1)})
    period = notice_period(cfg, D(2026, 12, 2))
    assert (period.starts, period.ends, period.signing_from) == (D(2026, 4, 1), D(2026, 4, 7), D(2026, 4, 8))
    assert publicity_window(cfg, D(2026, 12, 2)) == (period.starts, period.ends, period.signing_from)
    assert (period.ends - period.starts).days + 1 == cfg.cycle.publicity_days == 7


def test_first_day_is_configured_else_the_approval_else_the_first_publication():
    assert notice_starts(make_config(publicity={"starts": D(2026, 4, 1)}), D(2026, 4, 9), D(2026, 4, 10)) == D(2026, 4, 1)
    assert notice_starts(make_config(), D(2026, 4, 9), D(2026, 4, 10)) == D(2026, 4, 9)
    assert notice_starts(make_config(), None, D(2026, 4, 10)) == D(2026, 4, 10)
    assert notice_starts(make_config(tracking={"publicity_from": D(2026, 3, 20)}), None, D(2026, 4, 10)) == D(2026, 3, 20)


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("email", '"gycy"', "e-mail"),
        ("phone", '"call us"', "telephone"),
        ("starts", '"next week"', "date"),
        ("issuer", '""', "empty"),
        ("fax", '"1"', "unknown key"),
    ],
)
def test_bad_publicity_settings_exit_2_naming_the_key(tmp_path, key, value, words):
    cycle = write_small_cycle(tmp_path / "cycle")
    (cycle / "cycle.toml").write_text(
        (cycle / "cycle.toml").read_text(encoding="utf-8") + f"\n[publicity]\n{key} = {value}\n", encoding="utf-8"
    )
    code, text = fund("run", cycle, "--out", tmp_path / "out")
    assert code == 2 and f"publicity.{key}" in text and words in text and "Traceback" not in text


def test_bad_review_deadline_exits_2_naming_the_key(tmp_path):
    cycle = write_small_cycle(tmp_path / "cycle")
    (cycle / "cycle.toml").write_text(
        (cycle / "cycle.toml").read_text(encoding="utf-8") + '\n[review]\ndeadline = "soon"\n', encoding="utf-8"
    )
    code, text = fund("run", cycle, "--out", tmp_path / "out")
    assert code == 2 and "review.deadline" in text


# ---------------------------------------------------------------- the page

FUNDED = [
    {
        "proposal_id": "P1",
        "title": "<b>永吉</b>助老服务",
        "organization": "南关区第1社工服务中心",
        "category": "elderly",
        "street": "南关街道",
        "community": "永吉社区",
        "score": "88.50",
        "awarded_fen": 7_000_000,
    }
]


def test_notice_carries_name_period_channel_signature_and_no_id():
    cfg = make_config(publicity=PUBLICITY)
    html = render_publicity(notice_context(cfg, NoticePeriod(D(2026, 4, 1), 7), FUNDED, "zh"))
    assert "测试区2026年度公益创投拟资助项目公示" in html and cfg.cycle.id not in html
    assert "2026-04-01" in html and "2026-04-07" in html and "共 7 天" in html
    for value in PUBLICITY.values():
        assert value in html
    assert "2026年4月1日" in html and "2026-04-08" in html  # 落款 date; signing after the period
    assert "签约后拨付 50%" in html and "中期评估通过后拨付 30%" in html
    assert "&lt;b&gt;永吉&lt;/b&gt;" in html  # escaped
    assert html.count("¥70,000.00") == 3  # intro, row, the total once
    assert "<tfoot" not in html  # a footer would print on every page
    assert "记录指纹" not in html
    with_fingerprint = render_publicity(notice_context(cfg, NoticePeriod(D(2026, 4, 1), 7), FUNDED, "zh", "ab12cd34"))
    assert "记录指纹：<code>ab12cd34</code>" in with_fingerprint


def test_notice_in_english_and_without_contacts_still_says_where_to_object():
    html = render_publicity(notice_context(make_config(), NoticePeriod(D(2026, 4, 1), 7), FUNDED, "en"))
    assert "Notice period: " in html and "7 days, both included" in html and 'lang="en"' in html
    assert "In writing, to the office that runs this cycle." in html


# ---------------------------------------------------------------- letters


def awards_and_proposals():
    proposals = {
        pid: {
            "proposal_id": pid,
            "credit_code": f"C{pid}",
            "title": f"项目{pid}",
            "category": "elderly",
            "street": "南关街道",
            "community": "永吉社区",
            "requested_fen": 3_333_333,
        }
        for pid in ("P1", "P4", "P5", "../x")
    }
    awards = [
        {"proposal_id": "P1", "status": "funded", "awarded_fen": 3_333_333, "reason": "funded", "detail": "{}"},
        {"proposal_id": "P4", "status": "not_funded", "awarded_fen": 0, "reason": "below_threshold", "detail": "{}"},
        {
            "proposal_id": "P5",
            "status": "ineligible",
            "awarded_fen": 0,
            "reason": "ineligible",
            "detail": '{"problems": [{"rule": "request_above_max", "params": {"amount": "¥250,000.00", '
            '"limit": "¥200,000.00"}}, {"rule": "org_too_young", "params": {"registered": "2026-01-01", '
            '"latest": "2025-03-01", "days": 365}}]}',
        },
        {"proposal_id": "../x", "status": "not_funded", "awarded_fen": 0, "reason": "budget", "detail": "{}"},
    ]
    organizations = {
        f"C{pid}": {"name": f"机构{pid}", "contact": "张三", "email": "p1@example.org" if pid == "P1" else None}
        for pid in proposals
    }
    explanations = {
        "P1": "综合得分 88.50，排名第 1",
        "P4": "综合得分 66.71，低于入围线 70.00",
        "P5": "资格审查未通过：…",
        "../x": "预算不足",
    }
    return awards, proposals, organizations, explanations


def test_a_letter_for_every_applicant_with_its_own_reason(tmp_path):
    cfg = make_config(publicity=PUBLICITY)
    awards, proposals, organizations, explanations = awards_and_proposals()
    letters = {
        x.proposal_id: x
        for x in build_letters(
            tmp_path,
            cfg,
            NoticePeriod(D(2026, 4, 1), 7),
            awards,
            proposals,
            organizations,
            {"P1": {"final_centi": 8850}},
            explanations,
            "zh",
        )
    }
    assert set(letters) == {"P1", "P4", "P5", "../x"}
    funded = letters["P1"].html
    assert "拟予资助" in funded and "¥33,333.33" in funded and "综合得分 88.50" in funded
    # tranches from [tranches], to the fen, the remainder on the last one
    assert ["¥16,666.66", "¥9,999.99", "¥6,666.68"] == re.findall(r"<td class=\"num\">(¥[\d,.]+)</td>", funded)
    assert "2026-04-08" in funded and "每 30 天报送一次进度" in funded
    assert "综合得分 66.71，低于入围线 70.00" in letters["P4"].html and "未获资助" in letters["P4"].html
    ineligible = letters["P5"].html
    assert "申请金额 ¥250,000.00 超过上限 ¥200,000.00" in ineligible and "须在 2025-03-01 或之前登记" in ineligible
    for letter in letters.values():
        assert "2026-04-07" in letter.html and PUBLICITY["phone"] in letter.html and PUBLICITY["issuer"] in letter.html
        assert cfg.cycle.id not in letter.html
    assert letters["P1"].email == "p1@example.org" and letters["P4"].email is None
    assert letters["../x"].path.parent == tmp_path / "allocation" / "letters"  # a file name from an id stays inside
    assert letter_path(tmp_path, "P1").name == "P1.html"
    assert letters["../x"].path.name != letter_path(tmp_path, "._x").name


def test_letters_in_english():
    cfg = make_config(publicity=PUBLICITY)
    awards, proposals, organizations, explanations = awards_and_proposals()
    [letter] = [
        x
        for x in build_letters(
            Path("."), cfg, NoticePeriod(D(2026, 4, 1), 7), awards[:1], proposals, organizations, {}, explanations, "en"
        )
    ]
    assert 'lang="en"' in letter.html and "To be funded: an award of" in letter.html and "Next steps" in letter.html
    assert "the result of your proposal P1" in letter.subject


@pytest.mark.parametrize(
    "text, address",
    [
        ("a@b.cn", "a@b.cn"),
        (" a@b.cn ", "a@b.cn"),
        ("not-an-address", None),
        ("a@b", None),
        ("a@b.cn; c@d.cn", None),
        ("", None),
        (None, None),
    ],
)
def test_an_organizations_email_is_used_only_when_it_is_an_address(text, address):
    assert email_address(text) == address


# ---------------------------------------------------------------- the stage, with e-mail


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def inbox(monkeypatch):
    """A local SMTP server (aiosmtpd) keeping what it receives; the leadership report's settings point at it."""
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default))
            return "250 OK"

    box = Inbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("FUND_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("FUND_SMTP_PORT", str(port))
    monkeypatch.setenv("FUND_SMTP_FROM", "gycy@example.gov.cn")
    monkeypatch.setenv("FUND_SMTP_RETRY_DELAY", "0")
    yield box
    controller.stop()


@pytest.fixture(autouse=True)
def no_mail_settings(monkeypatch):
    for key in (
        "FUND_SMTP_HOST",
        "FUND_SMTP_PORT",
        "FUND_SMTP_USER",
        "FUND_SMTP_PASSWORD",
        "FUND_SMTP_FROM",
        "FUND_REPORT_TO",
        "FUND_AS_OF",
        "FUND_SMTP_RETRIES",
    ):
        monkeypatch.delenv(key, raising=False)


EMAILS = {"P1": "p1@example.org", "P4": "p4@example.org", "P2": "not-an-address"}
WAIT = {"tracking": {"as_of": D(2026, 4, 2)}}  # tracking waits for the notice: the run ends there


def test_letters_are_written_and_emailed_once(tmp_path, prefect_server, inbox):
    cycle = write_small_cycle(tmp_path / "cycle", EMAILS, publicity=PUBLICITY | {"starts": D(2026, 4, 1)}, **WAIT)
    out = tmp_path / "out"
    code, text = fund("run", cycle, "--out", out)
    assert code == 0, text
    assert sorted(p.name for p in (out / "allocation" / "letters").iterdir()) == [f"P{i}.html" for i in range(1, 6)]
    assert "公示期 2026-04-01 至 2026-04-07，共 7 天" in text and "5 份结果通知书" in text
    assert "结果通知书已发送邮件 2 份" in text and "P2（not-an-address）" in text
    sent = {m["To"]: m for m in inbox.messages}
    assert set(sent) == {"p1@example.org", "p4@example.org"}
    assert "P1" in sent["p1@example.org"]["Subject"] and "拟予资助" in sent["p1@example.org"]["Subject"]
    body = sent["p4@example.org"].get_body(("html",)).get_content()
    assert "低于入围线" in body and PUBLICITY["phone"] in body
    assert [a.get_filename() for a in sent["p4@example.org"].iter_attachments()] == ["P4.html"]
    code, text = fund("run", cycle, "--out", out)
    assert code == 0 and len(inbox.messages) == 2  # never twice
    code, text = fund("audit", "show", cycle, "--out", out)
    assert text.count("letter_emailed") == 2


def test_letters_not_sent_are_sent_by_the_next_run(tmp_path, prefect_server, monkeypatch, inbox):
    cycle = write_small_cycle(tmp_path / "cycle", EMAILS, publicity=PUBLICITY | {"starts": D(2026, 4, 1)}, **WAIT)
    out = tmp_path / "out"
    working = os.environ["FUND_SMTP_PORT"]
    monkeypatch.setenv("FUND_SMTP_PORT", str(free_port()))  # nothing listens there
    monkeypatch.setenv("FUND_SMTP_RETRIES", "1")
    code, text = fund("run", cycle, "--out", out)
    assert code == 0, text
    assert "结果通知书邮件发送失败 2 份" in text and "下次运行" in text and inbox.messages == []
    assert (out / "allocation" / "publicity.html").exists() and (out / "allocation" / "letters" / "P1.html").exists()
    monkeypatch.setenv("FUND_SMTP_PORT", working)
    code, text = fund("run", cycle, "--out", out)
    assert code == 0 and "公示未变化" in text and "结果通知书已发送邮件 2 份" in text, text
    assert sorted(m["To"] for m in inbox.messages) == ["p1@example.org", "p4@example.org"]


def test_without_a_configured_first_day_the_period_starts_when_first_published_and_stays(tmp_path, prefect_server, monkeypatch):
    import fund.flows.plans as publication

    cycle = write_small_cycle(tmp_path / "cycle", publicity=PUBLICITY, tracking={"as_of": D(2026, 5, 1)})
    out = tmp_path / "out"
    monkeypatch.setattr(publication, "today", lambda: D(2026, 4, 28))
    code, text = fund("run", cycle, "--out", out)
    assert code == 0 and "公示期 2026-04-28 至 2026-05-04" in text, text
    toml = cycle / "cycle.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(PUBLICITY["phone"], "0431-8888 5678"), encoding="utf-8")
    monkeypatch.setattr(publication, "today", lambda: D(2026, 4, 30))
    code, text = fund("run", cycle, "--out", out)
    html = (out / "allocation" / "publicity.html").read_text(encoding="utf-8")
    assert code == 0, text
    assert "0431-8888 5678" in html and "2026-04-28" in html and "2026-05-04" in html  # republished, not moved


def test_with_approval_the_period_starts_on_the_approval_day(tmp_path, prefect_server, monkeypatch):
    import fund.flows.plans as publication

    cycle = write_small_cycle(
        tmp_path / "cycle", publicity=PUBLICITY, allocation={"require_approval": True}, tracking={"as_of": D(2026, 5, 1)}
    )
    out = tmp_path / "out"
    code, text = fund("run", cycle, "--out", out)
    assert code == 0 and "fund approve" in text
    import fund.flows.allocation as allocation

    monkeypatch.setattr(allocation, "utc_now", lambda: "2026-04-20T17:30:00Z")  # 01:30 on the 21st in Shanghai
    code, text = fund("approve", cycle, "--out", out, "--by", "李主任")
    assert code == 0, text
    monkeypatch.setattr(publication, "today", lambda: D(2026, 4, 23))
    code, text = fund("run", cycle, "--out", out)
    assert code == 0 and "公示期 2026-04-21 至 2026-04-27" in text, text

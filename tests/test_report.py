"""The tracking stage and the leadership report as flows: report_flow writes reports/index.html
and status.csv, e-mails them to a local SMTP server, and keeps the report when mail fails;
`fund report`, `fund pay` and `fund objection` on top of it."""

from __future__ import annotations

import csv
import datetime as dt
import email
import json
import socket
from email import policy
from pathlib import Path

import pytest
from typer.testing import CliRunner

from builders import budget, credit_code, org, proposal, sections, toml_text, write_csv, write_intake

PROGRESS = [
    "proposal_id",
    "period_end",
    "services",
    "activities",
    "beneficiaries",
    "spent",
    "satisfaction",
    "note",
    "submitted_on",
]
PASSWORD = "s3cret-Pw!"
runner = CliRunner()


def published_cycle(base: Path, **tracking) -> tuple[Path, Path]:
    """A small cycle as it stands after publication: intake stored, P1–P3 funded, P4 not; the
    allocation and publication stages recorded as done (the notice posted on 2026-03-20)."""
    from fund.schemas.config import load_config
    from fund.schemas.tables import Award, BudgetLine, Cycle, Organization, Proposal, StageRun
    from fund.tasks.intake import read_intake, validate_intake
    from fund.tasks.store import default_db_url, replace_rows, transaction

    folder, out = base / "cycle", base / "out"
    codes = [credit_code(i, "5133") for i in range(1, 5)]
    write_intake(
        folder,
        [org(c) for c in codes],
        [
            proposal("P1", codes[0], requested="100000.00", beneficiaries="120"),
            proposal("P2", codes[1], requested="33333.33", category="为小", street="东街道", beneficiaries="300"),
            proposal("P3", codes[2], requested="50000.00", category="为残"),
            proposal("P4", codes[3], requested="60000.00"),
        ],
        budget("P1") + budget("P2", "33333.33") + budget("P3", "50000.00") + budget("P4", "60000.00"),
    )
    settings = {"as_of": dt.date(2026, 8, 15), "publicity_from": dt.date(2026, 3, 20), **tracking}
    (folder / "cycle.toml").write_text(toml_text(sections(rules={"min_org_age_days": 0}, tracking=settings)), encoding="utf-8")
    cfg = load_config(folder)
    intake = validate_intake(cfg, *read_intake(folder))
    assert not intake.problems
    out.mkdir(parents=True)
    cid = cfg.cycle.id
    with transaction(default_db_url(out)) as session:
        session.merge(
            Cycle(
                id=cid,
                name=cfg.cycle.name,
                budget_fen=cfg.budget_fen,
                opens=cfg.cycle.opens,
                closes=cfg.cycle.closes,
                config_toml="",
            )
        )
        replace_rows(session, Organization, cid, intake.organizations)
        replace_rows(session, Proposal, cid, intake.proposals)
        replace_rows(session, BudgetLine, cid, intake.budget_lines)
        replace_rows(
            session,
            Award,
            cid,
            [
                {
                    "proposal_id": p["proposal_id"],
                    "policy": "merit",
                    "status": "not_funded" if p["proposal_id"] == "P4" else "funded",
                    "awarded_fen": 0 if p["proposal_id"] == "P4" else p["requested_fen"],
                    "reason": "funded",
                    "detail": "{}",
                }
                for p in intake.proposals
            ],
        )
        for name in ("intake", "allocation", "publication"):
            summary = (
                {"publicity_from": "2026-03-20", "funded": 3}
                if name == "publication"
                else {"rows_in": 4, "rows_accepted": 4, "rows_rejected": 0, "expectations": 10, "passed": 10}
            )
            session.add(
                StageRun(
                    cycle_id=cid,
                    stage=name,
                    input_hash=f"hash-{name}",
                    outcome="done",
                    finished_at="2026-03-20T00:00:00Z",
                    summary=json.dumps(summary),
                )
            )
    write_csv(
        folder / "progress" / "july.csv",
        PROGRESS,
        [
            ["P1", "2026-04-30", 200, 4, 30, "20000.00", "90", "", "2026-05-05"],
            ["P1", "2026-05-30", 210, 5, 25, "15000.00", "88", "", "2026-06-03"],
            ["P1", "2026-06-29", 220, 6, 20, "10000.00", "91", "", "2026-07-02"],
            ["P1", "2026-07-29", 230, 6, 20, "9000.00", "92", "", "2026-08-01"],
            ["P2", "2026-04-30", 100, 2, 40, "5000.00", "75", "", "2026-05-20"],
            ["P2", "2026-05-30", 100, 2, 40, "30000.00", "70", "", ""],  # more spent than disbursed
            ["P4", "2026-04-30", 1, 1, 1, "1.00", "", "", ""],  # not funded
        ],
    )
    write_csv(
        folder / "payments.csv",
        ["proposal_id", "tranche", "amount", "paid_on", "by", "reference"],
        [
            ["P1", "signing", "50000.00", "2026-04-01", "王会计", "B-001"],
            ["P2", "签约", "16666.66", "2026-04-02", "王会计", "B-002"],
            ["P3", "signing", "25000.00", "2026-04-02", "王会计", "B-003"],
            ["P1", "midterm", "30000.00", "2026-07-20", "王会计", "B-004"],
        ],
    )
    write_csv(
        folder / "evaluations" / "midterm.csv",
        ["proposal_id", "phase", "evaluator", "score", "evaluated_on"],
        [
            ["P1", "中期", "第三方评估中心", "85", "2026-07-15"],
            ["P2", "midterm", "第三方评估中心", "40", "2026-07-15"],
        ],
    )
    return folder, out


def read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(monkeypatch):
    """A local SMTP server (aiosmtpd) that requires a login and keeps what it receives."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default))
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"fund" and auth_data.password == PASSWORD.encode()
        return AuthResult(success=ok)

    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=authenticator, auth_required=True, auth_require_tls=False
    )
    controller.start()
    for key, value in {
        "FUND_SMTP_HOST": "127.0.0.1",
        "FUND_SMTP_PORT": str(port),
        "FUND_SMTP_USER": "fund",
        "FUND_SMTP_PASSWORD": PASSWORD,
        "FUND_SMTP_FROM": "fund@example.cn",
        "FUND_REPORT_TO": "leader@example.cn; office@example.cn",
        "FUND_SMTP_RETRY_DELAY": "0",
    }.items():
        monkeypatch.setenv(key, value)
    yield inbox
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
    ):
        monkeypatch.delenv(key, raising=False)


def run_report(folder: Path, out: Path, **options):
    from fund.flows.report import report_flow

    from fund.flows.stage import stage_results

    state = report_flow(str(folder), str(out), None, options.pop("lang", "zh"), return_state=True, **options)
    return state, stage_results(state)[-1]


def test_report_flow_writes_the_report_with_headline_numbers(tmp_path, prefect_server):
    folder, out = published_cycle(tmp_path)
    state, result = run_report(folder, out)
    assert state.is_completed(), result
    assert result.outcome == "done"
    html = (out / "reports" / "index.html").read_text(encoding="utf-8")
    assert "项目跟踪报告" in html and "截至 2026-08-15" in html
    assert "¥183,333.33" in html  # committed: the three funded awards
    assert "¥121,666.66" in html  # disbursed: the four payments
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert html.index("¥183,333.33") < html.index("<svg")
    status = {r["proposal_id"]: r for r in read(out / "reports" / "status.csv")}
    assert set(status) == {"P1", "P2", "P3"}
    assert status["P1"]["status"] == "on_track" and status["P1"]["midterm_result"] == "passed"
    assert status["P2"]["status"] == "at_risk" and "中期评估未通过" in status["P2"]["reasons"]
    assert status["P2"]["next_tranche"] == "midterm" and status["P2"]["next_tranche_status"] == "withheld"
    assert (out / "reports" / "status.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    rejected = {(r["record_id"], r["rule"]) for r in read(out / "validation" / "rejected.csv")}
    assert {("P2/2026-05-30", "spent_above_disbursed"), ("P4/2026-04-30", "progress_not_funded")} <= rejected
    tranches = {(r["proposal_id"], r["tranche"]): r for r in read(out / "tracking" / "tranches.csv")}
    assert tranches[("P2", "signing")]["amount"] == "16666.66" and tranches[("P2", "final")]["amount"] == "6666.68"
    assert tranches[("P1", "midterm")]["status"] == "paid"
    assert (out / "tracking" / "sheets" / "final.csv").exists() and (out / "reports" / "incentives.csv").exists()
    assert "领导报告已生成" in result.message and "已拨付 ¥121,666.66" in result.message
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:  # the newest of the key (other tests' cycles share the id)
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["report-headline-2026-test-1"])),
            sort=ArtifactSort.CREATED_DESC,
            limit=1,
        )
    assert artifacts and "¥183,333.33" in artifacts[0].data and "¥121,666.66" in artifacts[0].data

    state, again = run_report(folder, out)
    assert again.outcome == "skipped"
    from fund.schemas.tables import ReportSnapshot
    from fund.tasks.store import default_db_url, load_rows

    snapshots = load_rows(default_db_url(out), ReportSnapshot, "2026-test-1")
    assert len(snapshots) == 1 and json.loads(snapshots[0]["headline"])["disbursed_fen"] == 12_166_666

    (folder / "progress" / "august.csv").write_text(
        "proposal_id,period_end,services,activities,beneficiaries,spent\nP2,2026-06-29,50,1,10,100.00\n", encoding="utf-8"
    )
    state, third = run_report(folder, out)
    assert third.outcome == "done"
    html = (out / "reports" / "index.html").read_text(encoding="utf-8")
    assert "较上次报告的变化" in html and "这是本周期的第一份报告" not in html


def test_report_in_english(tmp_path, prefect_server):
    folder, out = published_cycle(tmp_path)
    state, result = run_report(folder, out, lang="en")
    assert result.outcome == "done", result
    html = (out / "reports" / "index.html").read_text(encoding="utf-8")
    assert "status report" in html and "Needs attention" in html and 'lang="en"' in html
    rejected = {r["rule"]: r["message"] for r in read(out / "validation" / "rejected.csv")}
    assert rejected["spent_above_disbursed"].startswith("by 2026-05-30 the project reports")


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_report_is_emailed_to_a_local_smtp_server(tmp_path, prefect_server, smtp_server):
    folder, out = published_cycle(tmp_path)
    state, result = run_report(folder, out)
    assert state.is_completed(), result
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert "项目跟踪报告" in message["Subject"] and "2026-08-15" in message["Subject"]
    assert message["To"] == "leader@example.cn, office@example.cn"
    text = message.get_body(("plain",)).get_content()
    assert "¥183,333.33" in text and "已拨付 ¥121,666.66" in text
    assert "¥183,333.33" in message.get_body(("html",)).get_content()
    names = [part.get_filename() for part in message.iter_attachments()]
    assert names == ["report-2026-test-1-2026-08-15.html", "status-2026-test-1-2026-08-15.csv"]
    assert "已发送至" in result.message and PASSWORD not in result.message
    assert all(PASSWORD.encode() not in p.read_bytes() for p in out.rglob("*") if p.is_file())
    state, again = run_report(folder, out)
    assert again.outcome == "skipped" and len(smtp_server.messages) == 1  # sent once


def test_unreachable_smtp_still_writes_the_report_and_says_why(tmp_path, prefect_server, monkeypatch):
    folder, out = published_cycle(tmp_path)
    closed = free_port()
    for key, value in {
        "FUND_SMTP_HOST": "127.0.0.1",
        "FUND_SMTP_PORT": str(closed),
        "FUND_SMTP_USER": "fund",
        "FUND_SMTP_PASSWORD": PASSWORD,
        "FUND_REPORT_TO": "leader@example.cn",
        "FUND_SMTP_RETRIES": "1",
        "FUND_SMTP_RETRY_DELAY": "0",
    }.items():
        monkeypatch.setenv(key, value)
    state, result = run_report(folder, out)
    assert state.is_failed()
    assert result.outcome == "stopped"
    assert (out / "reports" / "index.html").exists() and (out / "reports" / "status.csv").exists()
    assert "邮件未能发送" in result.message and f"127.0.0.1:{closed}" in result.message
    assert str(out / "reports" / "index.html") in result.message
    assert PASSWORD not in result.message and PASSWORD not in (state.message or "")

    from fund.schemas.tables import ReportSnapshot, StageRun
    from fund.tasks.store import default_db_url, load_rows

    runs = {r["stage"]: r for r in load_rows(default_db_url(out), StageRun, "2026-test-1")}
    assert runs["report"]["outcome"] == "stopped"  # not done: the next run tries again
    assert [s["delivery"] for s in load_rows(default_db_url(out), ReportSnapshot, "2026-test-1")] == ["failed"]
    monkeypatch.delenv("FUND_SMTP_HOST")
    state, again = run_report(folder, out)
    assert again.outcome == "done"


def test_nothing_to_report_while_the_public_notice_runs(tmp_path, prefect_server):
    folder, out = published_cycle(tmp_path, as_of=dt.date(2026, 3, 25))
    state, result = run_report(folder, out)
    assert result.outcome == "waiting"
    assert "公示期 2026-03-20 至 2026-03-26" in result.message  # 7 days, both ends counted
    assert not (out / "reports" / "index.html").exists()


def test_pay_and_objection_commands(tmp_path, prefect_server):
    from fund.cli import app

    folder, out = published_cycle(tmp_path)

    def fund(*args):
        outcome = runner.invoke(app, [str(a) for a in args])
        return outcome.exit_code, outcome.stdout + (outcome.stderr or "")

    code, text = fund("report", folder, "--out", out)
    assert code == 0, text
    assert (out / "reports" / "index.html").exists()
    code, text = fund("pay", folder, "--out", out, "--proposal", "P1", "--tranche", "final", "--by", "王会计")
    assert code == 1 and "P1：结项款在 2026-08-15 尚不能拨付：待结项评估通过" in text  # the rule's own words
    code, text = fund("pay", folder, "--out", out, "--proposal", "P2", "--tranche", "中期", "--by", "王会计")
    assert code == 1 and "中期评估未通过" in text
    code, text = fund("pay", folder, "--out", out, "--proposal", "P1", "--tranche", "signing", "--by", "王会计")
    assert code == 0 and "不重复记录" in text  # already paid: idempotent
    code, text = fund(
        "pay",
        folder,
        "--out",
        out,
        "--proposal",
        "P2",
        "--tranche",
        "signing",
        "--by",
        "李会计",
        "--on",
        "2026-04-05",
        "--amount",
        "16666.66",
    )
    assert code == 1 and "已于 2026-04-02 拨付" in text  # paid once, on another day: refused

    from fund.schemas.tables import AuditEvent, Payment
    from fund.tasks.store import default_db_url, load_rows

    url = default_db_url(out)
    before = len(load_rows(url, Payment, "2026-test-1"))
    code, text = fund("objection", folder, "--out", out, "--proposal", "P2", "--by", "居民甲", "--text", "质疑")
    assert code == 1 and "不在公示期" in text  # 2026-08-15 is after the notice
    code, text = fund(
        "objection", folder, "--out", out, "--proposal", "P3", "--by", "居民甲", "--text", "资质存疑", "--on", "2026-03-22"
    )
    assert code == 0 and "CLI-001" in text
    code, text = fund("objection", folder, "--out", out, "--resolve", "CLI-001", "--decision", "upheld", "--by", "李主任")
    assert code == 0, text
    code, text = fund("report", folder, "--out", out)
    assert code == 0, text
    status = {r["proposal_id"]: r for r in read(out / "reports" / "status.csv")}
    assert status["P3"]["status"] == "cancelled"
    assert len(load_rows(url, Payment, "2026-test-1")) == before  # the ledger keeps what was paid
    actions = [e["action"] for e in load_rows(url, AuditEvent, "2026-test-1")]
    assert {"payment", "objection", "objection_upheld", "warning"} <= set(actions)

    code, text = fund("pay", folder, "--out", out, "--proposal", "P1", "--tranche", "bonus", "--by", "王会计")
    assert code == 2


def test_report_on_its_own_waits_for_a_running_cycle(tmp_path, prefect_server):
    from fund.tasks.store import cycle_lock, default_db_url

    folder, out = published_cycle(tmp_path)
    with cycle_lock(default_db_url(out), "2026-test-1", out):
        state, result = run_report(folder, out)
    assert state.is_failed() and "另一个运行" in result.message
    assert not (out / "reports" / "index.html").exists()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_as_a_stage_of_the_cycle_flow_it_writes_but_does_not_email(tmp_path, prefect_server, smtp_server):
    from prefect import flow

    from fund.flows.report import report_flow
    from fund.flows.tracking import tracking_flow

    @flow(name="cycle-like")
    def parent(cycle_dir: str, out_dir: str):
        from fund.flows.stage import stage_results

        results = []
        for stage_flow in (tracking_flow, report_flow):  # as cycle_flow calls its STAGES
            results.append(stage_results(stage_flow(cycle_dir, out_dir, None, "zh", return_state=True))[-1])
        return results

    folder, out = published_cycle(tmp_path)
    tracked, reported = parent(str(folder), str(out))
    assert tracked.outcome == "done" and reported.outcome == "done", (tracked, reported)
    assert (out / "reports" / "index.html").exists()
    assert smtp_server.messages == []


def test_short_amounts_in_charts_are_rounded_half_up_from_fen():
    from fund.tasks.report import wan

    assert [wan(fen, "zh") for fen in (47_150_000, 16_850_000, 32_450_000, 27_250_000, 0, 123_456_789_00)] == [
        "47.2万元",
        "16.9万元",
        "32.5万元",
        "27.3万元",
        "0.0万元",
        "12,345.7万元",
    ]
    assert [wan(fen, "en") for fen in (47_150_000, 27_250_000, 9_999_500_000, 12_345_000_000)] == [
        "¥471.5k",
        "¥272.5k",
        "¥100.00M",
        "¥123.45M",
    ]


@pytest.fixture
def echoing_smtp_server(monkeypatch):
    """A mail server that refuses the login and echoes what the client sent in its refusal, as
    some servers do: the reply carries `AUTH PLAIN <base64 of user and password>`."""
    import base64

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    plain = base64.b64encode(b"\0fund\0" + PASSWORD.encode()).decode()
    login = base64.b64encode(PASSWORD.encode()).decode()

    class Refuse:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        return AuthResult(
            success=False, handled=False, message=f"535 5.7.8 bad credentials: AUTH PLAIN {plain} / AUTH LOGIN {login} {PASSWORD}"
        )

    port = free_port()
    controller = Controller(
        Refuse(), hostname="127.0.0.1", port=port, authenticator=authenticator, auth_required=True, auth_require_tls=False
    )
    controller.start()
    for key, value in {
        "FUND_SMTP_HOST": "127.0.0.1",
        "FUND_SMTP_PORT": str(port),
        "FUND_SMTP_USER": "fund",
        "FUND_SMTP_PASSWORD": PASSWORD,
        "FUND_REPORT_TO": "leader@example.cn",
        "FUND_SMTP_RETRIES": "0",
        "FUND_SMTP_RETRY_DELAY": "0",
    }.items():
        monkeypatch.setenv(key, value)
    yield (PASSWORD, plain, login, "AUTH PLAIN")
    controller.stop()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_an_echoing_mail_server_never_gets_the_login_into_a_message(tmp_path, prefect_server, echoing_smtp_server):
    from prefect.client.orchestration import get_client

    from fund.cli import app
    from fund.schemas.tables import StageRun
    from fund.tasks.store import default_db_url, load_rows

    folder, out = published_cycle(tmp_path)
    result = runner.invoke(app, ["report", str(folder), "--out", str(out), "--lang", "en"])
    said = result.stdout + (result.stderr or "")
    assert result.exit_code == 1, said
    assert "the mail server 127.0.0.1:" in said and "refused the login (code 535)" in said
    runs = {r["stage"]: r for r in load_rows(default_db_url(out), StageRun, "2026-test-1")}
    stored = json.dumps(runs["report"], default=str)
    with get_client(sync_client=True) as client:
        prefect_messages = " ".join(str(r.state.message) for r in client.read_task_runs() + client.read_flow_runs() if r.state)
    files = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
    for secret in echoing_smtp_server:
        assert secret not in said and secret not in stored and secret not in prefect_messages, secret
        assert secret.encode() not in files, secret


def test_smtp_failures_are_summarised_from_their_status_code():
    import smtplib

    from fund.tasks.mail import SmtpSettings, smtp_problem

    settings = SmtpSettings("mail.example.cn", 587, "fund", sender="fund@example.cn", recipients=("a@example.cn",))
    echo = b"535 AUTH PLAIN AGZ1bmQAczNjcmV0LVB3IQ== " + PASSWORD.encode()
    cases = [
        (smtplib.SMTPAuthenticationError(535, echo), "the mail server mail.example.cn:587 refused the login (code 535)"),
        (smtplib.SMTPSenderRefused(553, echo, "fund@example.cn"), "refused the sender fund@example.cn (code 553)"),
        (smtplib.SMTPRecipientsRefused({"a@example.cn": (550, echo)}), "refused every recipient (code 550)"),
        (smtplib.SMTPDataError(554, echo), "refused the message (code 554)"),
        (smtplib.SMTPResponseException(421, echo), "refused the request (code 421)"),
        (smtplib.SMTPServerDisconnected(echo.decode()), "closed the connection"),
        (
            ConnectionRefusedError(111, "Connection refused"),
            "cannot reach the mail server mail.example.cn:587 (Connection refused)",
        ),
        (TimeoutError(), "did not answer (timeout)"),
        (smtplib.SMTPException(echo.decode()), "failed (SMTPException)"),
    ]
    for error, expected in cases:
        problem = smtp_problem(error, settings)
        for lang in ("zh", "en"):
            text = problem.text(lang)
            assert PASSWORD not in text and "AUTH" not in text and "{" not in text, text
        assert expected in problem.text("en"), problem.text("en")
    assert "拒绝登录（代码 535）" in smtp_problem(cases[0][0], settings).text("zh")

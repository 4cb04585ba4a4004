"""E-mail (the leadership report, the result letters): SMTP settings from `FUND_SMTP_*`, the
message, and sending it over TLS; a failure is summarised from its kind and status code only,
never from what the server sent back (a server may echo the login)."""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from pydantic import SecretStr

from fund.settings import Settings, load_settings
from fund.tasks.messages import render


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str | None
    password: SecretStr | None = None
    sender: str = ""
    recipients: tuple[str, ...] = ()

    def __repr__(self) -> str:  # never show the password
        return f"SmtpSettings(host={self.host!r}, port={self.port}, user={self.user!r}, recipients={self.recipients!r})"

    __str__ = __repr__

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"


class EmailProblem(Exception):
    """The report could not be e-mailed: a catalogue rule and its parameters, summarised from the
    kind of failure and the status code. It never holds what the server sent back (a server may
    echo the login, password included) nor the password."""

    def __init__(self, rule: str, params: dict | None = None):
        super().__init__(rule, dict(params or {}))
        self.rule, self.params = rule, dict(params or {})

    def text(self, lang: str = "en") -> str:
        return render(self.rule, self.params, lang)

    def __str__(self) -> str:
        return self.text("en")


def smtp_settings(settings: Settings | None = None) -> SmtpSettings | None:
    """From FUND_SMTP_HOST, FUND_SMTP_PORT, FUND_SMTP_USER, FUND_SMTP_PASSWORD, FUND_SMTP_FROM and
    FUND_REPORT_TO (fund.settings); None when FUND_SMTP_HOST is not set. A variable out of its
    range raises SettingsError."""
    settings = settings or load_settings()
    host = (settings.smtp_host or "").strip()
    if not host:
        return None
    user = (settings.smtp_user or "").strip() or None
    port = settings.smtp_port or (587 if user else 25)
    sender = settings.smtp_from or (user if user and "@" in user else "fund-report@localhost")
    return SmtpSettings(host, port, user, settings.smtp_password, sender, settings.recipients)


def smtp_problem(exc: BaseException, settings: SmtpSettings) -> EmailProblem:
    """What went wrong, from the exception's kind and status code only."""
    where = {"server": settings.server}
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return EmailProblem("smtp_login_refused", {**where, "code": exc.smtp_code})
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return EmailProblem("smtp_sender_refused", {**where, "code": exc.smtp_code, "sender": settings.sender})
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _ in exc.recipients.values()})
        return EmailProblem("smtp_recipients_refused", {**where, "code": ", ".join(codes)})
    if isinstance(exc, smtplib.SMTPDataError):
        return EmailProblem("smtp_message_refused", {**where, "code": exc.smtp_code})
    if isinstance(exc, smtplib.SMTPResponseException):
        return EmailProblem("smtp_refused", {**where, "code": exc.smtp_code})
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return EmailProblem("smtp_disconnected", where)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return EmailProblem("smtp_not_supported", where)
    if isinstance(exc, smtplib.SMTPException):
        return EmailProblem("smtp_failed", {**where, "error": type(exc).__name__})
    if isinstance(exc, ssl.SSLError):
        return EmailProblem("smtp_tls_failed", where)
    if isinstance(exc, TimeoutError):
        return EmailProblem("smtp_timeout", where)
    if isinstance(exc, OSError):  # the system's words (connection refused, unknown host), not the server's
        return EmailProblem("smtp_unreachable", {**where, "error": exc.strerror or type(exc).__name__})
    return EmailProblem("smtp_failed", {**where, "error": type(exc).__name__})


def _loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_email(
    settings: SmtpSettings, subject: str, text: str, html: str, attachments: list[tuple[str, bytes, str]]
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="fund.local")
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    for name, content, mime in attachments:
        maintype, subtype = mime.split("/", 1)
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return message


def send_email(settings: SmtpSettings, message: EmailMessage, timeout: float = 30) -> None:
    """Send over SMTP: implicit TLS on port 465, STARTTLS when the server offers it; a password
    is only sent over TLS or to a server on this machine. Failures raise EmailProblem."""
    if not settings.recipients:
        raise EmailProblem("smtp_no_recipient")
    try:
        if settings.port == 465:
            client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
        with client:
            client.ehlo()
            secure = settings.port == 465
            if not secure and client.has_extn("starttls"):
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
                secure = True
            if settings.user:
                if not secure and not _loopback(settings.host):
                    raise EmailProblem("smtp_no_tls", {"server": settings.server})
                client.login(settings.user, settings.password.get_secret_value() if settings.password else "")
            client.send_message(message)
    except EmailProblem:
        raise
    except (OSError, smtplib.SMTPException, UnicodeError) as exc:  # UnicodeError: a non-ASCII login, say
        raise smtp_problem(exc, settings) from None

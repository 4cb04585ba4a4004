"""E-mailing the result letters of the public notice (publication stage): through the
leadership report's SMTP settings and sending path (`tasks.mail`), with Prefect retries,
each letter once — the audit log records every letter sent, with its hash."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from fund.flows.stage import Stage
from fund.tasks.letters import Letter, email_address
from fund.tasks.messages import sentence
from fund.settings import SettingsError, load_settings
from fund.tasks.mail import EmailProblem, build_email, send_email, smtp_settings
from fund.tasks.audit import audit, load_events
from fund.tasks.store import transaction


@task(name="email result letters", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30)
def send_letters(db_url: str, cycle_id: str, letters: list[dict]) -> int:
    """E-mail each letter not sent yet (the audit log records every one sent, with the letter's
    hash), so a retry or the next run never sends a letter twice. Settings and password come
    from the environment, never as task parameters."""
    settings = smtp_settings()
    sent = emailed_letters(db_url, cycle_id)
    count, failures = 0, []
    for letter in letters:
        if (letter["proposal_id"], letter["sha256"]) in sent:
            continue
        recipient = replace(settings, recipients=(letter["to"],))
        html = Path(letter["path"]).read_text(encoding="utf-8")
        message = build_email(
            recipient, letter["subject"], letter["text"], html, [(Path(letter["path"]).name, html.encode("utf-8"), "text/html")]
        )
        try:
            send_email(recipient, message)
        except EmailProblem as exc:
            failures.append(exc)
            continue
        with transaction(db_url) as session:
            audit(
                session,
                cycle_id,
                "fund",
                "letter_emailed",
                letter["proposal_id"],
                {"to": letter["to"], "sha256": letter["sha256"]},
            )
        count += 1
    if failures:
        raise failures[0]  # summarised from its kind and status code (the server's words are never kept)
    return count


def emailed_letters(db_url: str, cycle_id: str) -> set[tuple[str, str]]:
    return {
        (e["subject"], json.loads(e["detail"]).get("sha256"))
        for e in load_events(db_url, cycle_id)
        if e["action"] == "letter_emailed"
    }


def email_letters(stage: Stage, make_letters: Callable[[], list[Letter]]) -> str:
    """E-mail the result letters not sent yet when SMTP is configured (the leadership report's
    settings); lines for the stage's message ('' when there is nothing to say)."""
    lang = stage.lang
    try:
        environment = load_settings()
        settings = smtp_settings(environment)
    except SettingsError as exc:
        return sentence("result_letters_not_e", lang, e=exc.text(lang))
    if settings is None:
        return ""
    letters = make_letters()
    unusable = [letter for letter in letters if letter.email and not email_address(letter.email)]
    due = [letter for letter in letters if email_address(letter.email)]
    sent = emailed_letters(stage.db_url, stage.cycle_id)
    pending = [letter for letter in due if (letter.proposal_id, letter.sha256) not in sent]
    lines = []
    if unusable:
        lines.append(
            sentence(
                "these_projects_organization_e",
                lang,
                p=", ".join(
                    f"{x.proposal_id}（{x.email}）" if lang != "en" else f"{x.proposal_id} ({x.email})" for x in unusable[:10]
                )
                + (" …" if len(unusable) > 10 else ""),
            )
        )
    if pending:
        state = send_letters.with_options(retries=environment.smtp_retries, retry_delay_seconds=environment.smtp_retry_delay)(
            stage.db_url,
            stage.cycle_id,
            [
                {
                    "proposal_id": x.proposal_id,
                    "sha256": x.sha256,
                    "path": str(x.path),
                    "to": email_address(x.email),
                    "subject": x.subject,
                    "text": x.text,
                }
                for x in pending
            ],
            return_state=True,
        )
        done = emailed_letters(stage.db_url, stage.cycle_id)
        left = [x for x in pending if (x.proposal_id, x.sha256) not in done]
        if len(left) < len(pending):
            lines.append(sentence("result_letters_e_mailed", lang, n=len(pending) - len(left)))
        if left:
            error = state.result(raise_on_failure=False)
            problem = (
                error.text(lang)
                if isinstance(error, EmailProblem)
                else type(error).__name__
                if isinstance(error, BaseException)
                else sentence("unknown_error", lang)
            )
            lines.append(sentence("result_letters_could_not", lang, k=len(left), e=problem))
    return "\n".join(lines)

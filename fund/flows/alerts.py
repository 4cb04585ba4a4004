"""Alerts for the fund deployments: the Prefect automations of deploy/automations.yaml and the
notification blocks they send through (deploy/README.md, "Alerts").

    python -m fund.flows.alerts apply [--cycle-dir DIR | --reminder-hours N] [--webhook-url URL]
                                      [--email-url mailtos://…] [--lang zh|en]

- `fund-alert-webhook`: a generic webhook block (Prefect's CustomWebhookNotificationBlock)
  posting `{"msgtype": "text", "text": {"content": …}}`, the JSON a WeCom (企业微信) or
  DingTalk (钉钉) group robot takes. URL: --webhook-url or FUND_ALERT_WEBHOOK_URL.
- `fund-alert-email`: e-mail through Apprise, which Prefect's notification blocks use: an
  Apprise mail URL (`mailtos://user:password@smtp-host:587?to=a@x.cn,b@x.cn&from=fund@x.cn`)
  kept as a secret in a block of Prefect's Apprise webhook type. URL: --email-url or
  FUND_ALERT_EMAIL_URL. The password is stored in the block (encrypted by the server), never
  in the automation or this file.

Both blocks are sent from the Prefect server (its automations service), so an alert goes out
even when no worker is alive. Applying again replaces the automations of the same names.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

AUTOMATIONS = Path(__file__).resolve().parents[2] / "deploy" / "automations.yaml"
WEBHOOK_BLOCK = "fund-alert-webhook"
EMAIL_BLOCK = "fund-alert-email"
TEXT_KEYS = ("alert_failed_subject", "alert_failed_body", "alert_waiting_subject", "alert_waiting_body")


def texts(lang: str, hours: int) -> dict[str, str]:
    """The alert texts in the language asked for, with Prefect's {{ … }} templates kept as they are."""
    from fund.tasks.messages import MESSAGES

    index = 1 if lang == "en" else 0
    return {key: MESSAGES[key][index].replace("{hours}", str(hours)) for key in TEXT_KEYS}


def render(spec, values: dict):
    """Replace every string that is exactly `${name}` by values[name] (None: left out)."""
    if isinstance(spec, dict):
        return {k: render(v, values) for k, v in spec.items()}
    if isinstance(spec, list):
        return [render(v, values) for v in spec]
    if isinstance(spec, str) and spec.startswith("${") and spec.endswith("}"):
        return values[spec[2:-1]]
    return spec


def automations(values: dict, path: Path = AUTOMATIONS) -> list[dict]:
    """The automations of deploy/automations.yaml, filled in; actions without a block left out."""
    import yaml

    specs = render(yaml.safe_load(path.read_text(encoding="utf-8"))["automations"], values)
    for spec in specs:
        spec["actions"] = [a for a in spec["actions"] if a.get("block_document_id") or a["type"] != "send-notification"]
    return [s for s in specs if s["actions"]]


def save_blocks(webhook_url: str | None, email_url: str | None) -> dict[str, str | None]:
    from pydantic import SecretStr

    from prefect.blocks.notifications import CustomWebhookNotificationBlock, SlackWebhook

    ids: dict[str, str | None] = {"webhook_block": None, "email_block": None}
    if webhook_url:
        block = CustomWebhookNotificationBlock(
            name="fund",
            url=webhook_url,
            method="POST",
            json_data={"msgtype": "text", "text": {"content": "{{subject}}\n{{body}}"}},
        )
        ids["webhook_block"] = str(block.save(WEBHOOK_BLOCK, overwrite=True))
    if email_url:
        ids["email_block"] = str(SlackWebhook(url=SecretStr(email_url)).save(EMAIL_BLOCK, overwrite=True))
    return ids


def apply(webhook_url: str | None, email_url: str | None, hours: int, lang: str = "zh") -> list[str]:
    """Save the blocks and create (or replace) the automations; their names."""
    from prefect.client.orchestration import get_client
    from prefect.events.schemas.automations import AutomationCore

    values = {**save_blocks(webhook_url, email_url), "reminder_seconds": hours * 3600, **texts(lang, hours)}
    created = []
    with get_client(sync_client=True) as client:
        for spec in automations(values):
            for existing in client.read_automations_by_name(spec["name"]):
                client.delete_automation(existing.id)
            client.create_automation(AutomationCore.model_validate(spec))
            created.append(spec["name"])
    return created


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fund.flows.alerts", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["apply"])
    parser.add_argument("--cycle-dir", help="the cycle folder: [allocation] approval_reminder_hours of its cycle.toml")
    parser.add_argument("--reminder-hours", type=int, help="hours a run may wait for approval before the alert (1–720)")
    from fund.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc.text(), file=sys.stderr)
        return 2

    def secret(value):
        return value.get_secret_value() if value is not None else None

    parser.add_argument(
        "--webhook-url",
        default=secret(settings.alert_webhook_url),
        help="WeCom/DingTalk robot or any JSON webhook (default: $FUND_ALERT_WEBHOOK_URL)",
    )
    parser.add_argument(
        "--email-url",
        default=secret(settings.alert_email_url),
        help="Apprise mail URL, mailtos://user:password@host:port?to=… (default: $FUND_ALERT_EMAIL_URL)",
    )
    parser.add_argument("--lang", choices=["zh", "en"], default=settings.lang)
    args = parser.parse_args(argv)
    hours = args.reminder_hours
    if hours is None and args.cycle_dir:
        from fund.schemas.config import ConfigError, load_config

        try:
            hours = load_config(Path(args.cycle_dir)).allocation.approval_reminder_hours
        except ConfigError as exc:
            print(f"{args.cycle_dir}/cycle.toml: {exc.key}: {exc.problem}", file=sys.stderr)
            return 2
    if hours is None:
        from fund.schemas.config import AllocationSection

        hours = AllocationSection().approval_reminder_hours
    if not 1 <= hours <= 720:
        print("--reminder-hours must be a whole number from 1 to 720", file=sys.stderr)
        return 2
    if not (args.webhook_url or args.email_url):
        print(
            "nothing to send alerts to: give --webhook-url and/or --email-url (or FUND_ALERT_WEBHOOK_URL / FUND_ALERT_EMAIL_URL)",
            file=sys.stderr,
        )
        return 2
    for name in apply(args.webhook_url, args.email_url, hours, args.lang):
        print(f"automation {name} applied")
    return 0


if __name__ == "__main__":
    sys.exit(main())

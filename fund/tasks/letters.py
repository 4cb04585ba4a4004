"""Result letters (评审结果通知书): one printable page per applicant,
`allocation/letters/<proposal_id>.html`, written with the public notice.

Funded: the amount, its tranches and the next steps. Not funded or ineligible: the
specific reason (the explanation of `allocation.csv`) and where to object, by when.
A letter is e-mailed to its organization when `organizations.csv` gives an e-mail and
SMTP is configured (the leadership report's settings; `flows.allocation` sends).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from fund.schemas.codes import CATEGORIES
from fund.schemas.config import CycleConfig
from fund.tasks.html import TEMPLATES
from fund.tasks.messages import centi_text, render, sentence
from fund.tasks.outputs import safe_stem, write_files
from fund.tasks.publicity import NoticePeriod, contacts, tranche_terms
from fund.tasks.tracking import split_amount

LETTERS_DIR = "allocation/letters"
EMAIL = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>.]+")
STATUS_TITLES = {
    "funded": ("拟予资助", "To be funded"),
    "not_funded": ("未获资助", "Not funded"),
    "ineligible": ("资格审查未通过", "Not eligible"),
}


@dataclass(frozen=True)
class Letter:
    proposal_id: str
    path: Path
    html: str
    email: str | None  # the organization's e-mail as given (None: none given)
    subject: str
    text: str  # the plain-text part of the e-mail

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.html.encode("utf-8")).hexdigest()


def letter_path(out_dir: Path, proposal_id: str) -> Path:
    return Path(out_dir) / LETTERS_DIR / f"{safe_stem(proposal_id, 'proposal')}.html"


def email_address(text: str | None) -> str | None:
    """The address in an organization's e-mail cell, or None when it holds none."""
    value = (text or "").strip()
    return value if EMAIL.fullmatch(value) else None


def letter_context(
    cfg: CycleConfig,
    period: NoticePeriod,
    award: dict,
    proposal: dict,
    organization: dict | None,
    score_centi: int | None,
    explanation: str,
    lang: str,
) -> dict:
    shares = {k: v for k, v in cfg.tranches.items() if v > 0}
    amounts = split_amount(award["awarded_fen"], shares) if award["status"] == "funded" else {}
    tranches = [t | {"amount_fen": amounts[t["kind"]]} for t in tranche_terms(cfg, lang) if t["kind"] in amounts]
    return {
        "lang": lang,
        "cycle": {"name": cfg.cycle.name},
        "period": period,
        "contact": contacts(cfg),
        "status": award["status"],
        "status_title": STATUS_TITLES.get(award["status"], (award["status"],) * 2),
        "proposal": {
            "id": award["proposal_id"],
            "title": proposal.get("title") or "",
            "category": (
                CATEGORIES.get(proposal.get("category") or "", proposal.get("category") or "")
                if lang != "en"
                else proposal.get("category") or ""
            ),
            "street": proposal.get("street") or "",
            "community": proposal.get("community") or "",
            "requested_fen": proposal.get("requested_fen"),
        },
        "organization": (organization or {}).get("name") or "",
        "contact_person": (organization or {}).get("contact"),
        "awarded_fen": award["awarded_fen"],
        "score": centi_text(score_centi) or None,
        "explanation": explanation,
        "problems": ineligible_reasons(award, lang),
        "tranches": tranches,
        "report_every_days": cfg.tracking.report_period_days,
    }


def ineligible_reasons(award: dict, lang: str) -> list[str]:
    """Each rule an ineligible proposal failed, as a sentence (empty for the others)."""
    if award["status"] != "ineligible":
        return []
    problems = json.loads(award.get("detail") or "{}").get("problems") or []
    return [render(p["rule"], p.get("params"), lang) for p in problems]


def render_letter(context: dict) -> str:
    return TEMPLATES.get_template("letter.html.j2").render(**context)


def build_letters(
    out_dir: Path,
    cfg: CycleConfig,
    period: NoticePeriod,
    awards: list[dict],
    proposals: dict[str, dict],
    organizations: dict[str, dict],
    evaluations: dict[str, dict],
    explanations: dict[str, str],
    lang: str,
) -> list[Letter]:
    letters = []
    for award in sorted(awards, key=lambda a: a["proposal_id"]):
        pid = award["proposal_id"]
        proposal = proposals.get(pid, {})
        organization = organizations.get(proposal.get("credit_code") or "")
        context = letter_context(
            cfg, period, award, proposal, organization, evaluations.get(pid, {}).get("final_centi"), explanations[pid], lang
        )
        status = context["status_title"][1 if lang == "en" else 0]
        subject = sentence("letter_mail_subject", lang, c=cfg.cycle.name, p=pid, s=status)
        text = (
            "\n".join(
                [
                    sentence("letter_salutation", lang, o=context["organization"] or pid),
                    sentence("letter_mail_body_result", lang, p=pid, t=context["proposal"]["title"], s=status),
                    explanations[pid],
                    sentence("attached_letter_gives_details", lang),
                    contacts(cfg)["issuer"] or "",
                ]
            ).strip()
            + "\n"
        )
        letters.append(
            Letter(
                pid, letter_path(out_dir, pid), render_letter(context), (organization or {}).get("email") or None, subject, text
            )
        )
    return letters


def write_letters(out_dir: Path, letters: list[Letter]) -> None:
    """Every applicant's letter; letters of proposals no longer in the allocation are removed."""
    write_files({letter.path: letter.html.encode("utf-8") for letter in letters})
    keep = {letter.path for letter in letters}
    folder = Path(out_dir) / LETTERS_DIR
    for stale in folder.glob("*.html"):
        if stale not in keep:
            stale.unlink()

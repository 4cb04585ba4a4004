"""The public notice (公示) of the funded projects: its period and the page.

The period is `[cycle] publicity_days` calendar days counted with both ends included,
from its first day: `[publicity] starts`, else (the older spelling) `[tracking]
publicity_from`, else the day the allocation was approved, else the day the notice was
first published. Objections are received up to and including the last day; agreements
are signed from the day after. Tracking reads the same period (`tasks.tracking`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from fund.schemas.codes import CATEGORIES
from fund.schemas.config import CycleConfig
from fund.tasks.outputs import write_text
from fund.tasks.needs_messages import SECTION_TEXT
from fund.tasks.tracking_messages import KIND_LABELS, label
from fund.tasks.html import TEMPLATES


@dataclass(frozen=True)
class NoticePeriod:
    starts: dt.date
    days: int

    @property
    def ends(self) -> dt.date:
        """The last day (objections are received up to and including it)."""
        return self.starts + dt.timedelta(days=self.days - 1)

    @property
    def signing_from(self) -> dt.date:
        """The first day agreements can be signed: the day after the notice."""
        return self.starts + dt.timedelta(days=self.days)


def notice_starts(cfg: CycleConfig, approved_on: dt.date | None, first_published: dt.date) -> dt.date:
    return cfg.publicity.starts or cfg.tracking.publicity_from or approved_on or first_published


def notice_period(cfg: CycleConfig, starts: dt.date) -> NoticePeriod:
    """The period from its first day (`starts` from `notice_starts`; a configured first day wins)."""
    return NoticePeriod(cfg.publicity.starts or cfg.tracking.publicity_from or starts, cfg.cycle.publicity_days)


def contacts(cfg: CycleConfig) -> dict:
    """Where objections go, as the notice and the result letters print it."""
    p = cfg.publicity
    return {"issuer": p.issuer, "phone": p.phone, "email": p.email, "address": p.address}


def missing_contacts(cfg: CycleConfig) -> list[str]:
    """The `[publicity]` keys a notice should carry but the cycle does not set."""
    return [key for key, value in contacts(cfg).items() if not value]


TRANCHE_WHEN = {
    "signing": ("签约后", "on signing"),
    "midterm": ("中期评估通过后", "after a passed mid-term evaluation"),
    "final": ("结项评估通过后", "after a passed final evaluation"),
}


def tranche_terms(cfg: CycleConfig, lang: str) -> list[dict]:
    """Each tranche of an award: kind, its name, share in per cent ('50') and when it is paid, in payment order."""
    return [
        {
            "kind": k,
            "name": label(KIND_LABELS, k, lang),
            "percent": f"{(v * 100).normalize():f}",
            "when": label(TRANCHE_WHEN, k, lang),
        }
        for k, v in cfg.tranches.items()
        if v > 0
    ]


def notice_context(
    cfg: CycleConfig,
    period: NoticePeriod,
    funded: list[dict],
    lang: str,
    fingerprint: str | None = None,
    needs_label: str | None = None,
) -> dict:
    return {
        "lang": lang,
        "cycle": {"name": cfg.cycle.name, "budget_fen": cfg.budget_fen},
        "total_fen": sum(p["awarded_fen"] for p in funded),
        "funded": funded,
        "period": period,
        "contact": contacts(cfg),
        "tranches": tranche_terms(cfg, lang),
        "categories": CATEGORIES,
        "fingerprint": fingerprint,
        "needs_label": needs_label,
    }


def render_publicity(context: dict) -> str:
    return TEMPLATES.get_template("publicity.html.j2").render(**context)


def write_publicity(
    out_dir: Path,
    cfg: CycleConfig,
    period: NoticePeriod,
    funded: list[dict],
    lang: str,
    fingerprint: str | None = None,
    with_needs: bool = False,
) -> None:
    """allocation/publicity.html; `funded` rows carry proposal_id, title, organization, category,
    street, community, score and awarded_fen, in the order the notice lists them. `fingerprint`
    (the audit record's, when the cycle has one) is printed under the 落款. `with_needs` (a cycle
    with a needs list): a column with the needs each project answers, its rows' `needs` as
    (need id, title) pairs."""
    needs_label = label(SECTION_TEXT, "answers", lang) if with_needs else None
    html = render_publicity(notice_context(cfg, period, funded, lang, fingerprint, needs_label))
    write_text(Path(out_dir) / "allocation" / "publicity.html", html)

"""The four incentives (四激励) from the final evaluation."""

from __future__ import annotations

from decimal import Decimal

from fund.schemas.config import CycleConfig


def incentive_band(cfg: CycleConfig, combined_centi: int) -> str:
    if combined_centi < int(cfg.tracking.pass_mark * 100):
        return "fail"
    if combined_centi >= int(cfg.incentives.excellent * 100):
        return "excellent"
    if combined_centi >= int(cfg.incentives.good * 100):
        return "good"
    return "pass"


def incentives_for(cfg: CycleConfig, evaluations: list[dict], projects: dict[str, dict]) -> list[dict]:
    """The four incentives (四激励) from scored final evaluations."""
    rows = []
    inc = cfg.incentives
    for e in evaluations:
        if e["phase"] != "final" or e["combined_centi"] is None:
            continue
        band = incentive_band(cfg, e["combined_centi"])
        bonus = {"excellent": inc.excellent_bonus, "good": inc.good_bonus}.get(band, Decimal(0))
        measures = {
            "excellent": ["commendation"],
            "good": [],
            "pass": [],
            "fail": ["warning", "withhold"] + (["barred"] if inc.bar_failed else []),
        }[band]
        if bonus > 0:
            measures.append("next_cycle_bonus")
        rows.append(
            {
                "proposal_id": e["proposal_id"],
                "credit_code": projects[e["proposal_id"]]["credit_code"],
                "band": band,
                "combined_centi": e["combined_centi"],
                "measures": ";".join(measures),
                "bonus_centi": int(bonus * 100),
                "barred": band == "fail" and inc.bar_failed,
            }
        )
    return rows

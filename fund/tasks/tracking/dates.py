"""The date tracking is "as of", and the public notice's period (tracking starts the day after)."""

from __future__ import annotations

import datetime as dt

from fund.schemas.cells import CellError, parse_date
from fund.schemas.config import CycleConfig
from fund.settings import SettingsError, load_settings
from fund.tasks.publicity import notice_period
from fund.schemas.codes import SHANGHAI


class TrackingConfigError(ValueError):
    """A tracking setting that cannot work; `key` names it."""

    def __init__(self, key: str, problem: str):
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


def resolve_as_of(cfg: CycleConfig, explicit: str | dt.date | None = None) -> dt.date:
    """The date tracking is "as of": explicit, else FUND_AS_OF, else [tracking] as_of, else today (Shanghai)."""
    try:
        from_environment = load_settings().as_of
    except SettingsError as exc:
        raise TrackingConfigError(exc.variable, f"{exc.zh} / {exc.en}") from None
    for key, value in (("--as-of", explicit), ("FUND_AS_OF", from_environment)):
        if isinstance(value, dt.date):
            return value
        if value:
            try:
                return parse_date(str(value))
            except CellError as exc:
                raise TrackingConfigError(key, f"{value!r} is not a date (YYYY-MM-DD)") from exc
    if cfg.tracking.as_of is not None:
        return cfg.tracking.as_of
    return dt.datetime.now(SHANGHAI).date()


def publicity_window(cfg: CycleConfig, published_from: dt.date) -> tuple[dt.date, dt.date, dt.date]:
    """(first day, last day, signing day) of the public notice: the period it prints."""
    period = notice_period(cfg, published_from)
    return period.starts, period.ends, period.signing_from

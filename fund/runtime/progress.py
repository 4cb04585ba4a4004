"""What a run is doing, as it happens: start-up steps, the stage in progress and its step,
each stage's outcome the moment it ends. Stages and the cycle flow report here; listeners
(the live display of `fund run`) show it. Without a listener, reporting costs nothing."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator


@dataclass(frozen=True)
class Event:
    kind: str  # startup / stage_started / step / stage_finished
    stage: str | None = None
    step: str | None = None
    params: dict = field(default_factory=dict)
    result: Any = None  # the stage's outcome (fund.flows.stage.StageOutcome)
    at: float = field(default_factory=time.monotonic)


_LISTENERS: list[Callable[[Event], None]] = []


@contextmanager
def listening(listener: Callable[[Event], None]) -> Iterator[None]:
    _LISTENERS.append(listener)
    try:
        yield
    finally:
        _LISTENERS.remove(listener)


def _emit(event: Event) -> None:
    for listener in list(_LISTENERS):
        listener(event)


def startup(step: str, **params) -> None:
    if _LISTENERS:
        _emit(Event("startup", step=step, params=params))


def stage_started(stage: str) -> None:
    if _LISTENERS:
        _emit(Event("stage_started", stage=stage))


def step(stage: str, step: str, **params) -> None:
    if _LISTENERS:
        _emit(Event("step", stage=stage, step=step, params=params))


def stage_finished(result: Any) -> None:
    if _LISTENERS:
        _emit(Event("stage_finished", stage=result.stage, result=result))

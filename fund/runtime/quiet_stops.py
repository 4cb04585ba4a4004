"""Ordinary stops read as one sentence in the logs of a deployment run.

A flow that ends in a Failed state carrying its reason as an exception (a stage that
stopped on bad input, "cycle busy", a rejected allocation) is re-raised by Prefect's engine
at the very end of the flow-run process, which logs "Execution of flow run … exited with
unexpected exception" with a traceback, in the worker's log and the run's. For exceptions
marked `ordinary_stop = True` this filter keeps the record but drops the traceback and
says the reason instead. Anything else (a real defect) keeps its traceback.
"""

from __future__ import annotations

import logging

LOGGERS = ("prefect.engine", "prefect.flow_engine", "prefect.flow_runs")


class OrdinaryStopFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and getattr(error, "ordinary_stop", False):
            record.msg = "%s: %s"
            record.args = (type(error).__name__, str(error).splitlines()[0] if str(error) else "")
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = None
            record.exc_text = None
        return True


_FILTER = OrdinaryStopFilter()


def install() -> None:
    """Add the filter to Prefect's engine loggers (idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)

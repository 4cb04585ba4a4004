"""Operations on a Prefect server, without one: the approval form, artifact keys, ordinary
stops without a traceback, and the alerts of deploy/automations.yaml."""

from __future__ import annotations

import logging
import re

import pytest

from fund.flows import alerts
from fund.flows.approval import approval_form, is_rejection
from fund.flows.stage import Stopped, artifact_key
from fund.runtime.quiet_stops import OrdinaryStopFilter


@pytest.mark.parametrize(
    "lang, choices, title", [("zh", ["批准", "驳回"], "审批决定"), ("en", ["approve", "reject"], "Decision")]
)
def test_the_approval_form_is_an_explicit_choice_with_a_required_name(lang, choices, title):
    form = approval_form(lang)
    schema = form.with_initial_data(description="context").model_json_schema()
    decision = schema["properties"]["decision"]
    assert decision["enum"] == choices and decision["title"] == title and "default" not in decision
    assert set(schema["required"]) == {"decision", "approver"}
    assert schema["properties"]["reason"]["type"] == "string"  # a text field, not "str | None"
    assert form(decision=choices[1], approver="王科长", reason="x").decision == choices[1]
    assert is_rejection(form(decision=choices[1], approver="王科长"), lang)
    assert not is_rejection(form(decision=choices[0], approver="王科长"), lang)
    with pytest.raises(ValueError):
        form(decision=choices[0], approver="   ")
    with pytest.raises(ValueError):
        form(decision="yes", approver="王科长")


def test_artifact_keys_fit_prefect_and_never_collide():
    ids = ["2026-nanguan-2026", "2026.Nanguan_A", "2026-nanguan-a", "2026_nanguan_a", "x" * 64, "x" * 63 + "y"]
    keys = [artifact_key(i) for i in ids]
    assert keys[0] == "2026-nanguan-2026"  # an id that fits is its own key
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", k) and len(k) <= 60 for k in keys)
    assert len(set(keys)) == len(keys)


def test_an_ordinary_stop_is_logged_without_a_traceback():
    try:
        raise Stopped("周期 A 正在由另一个运行处理", [])
    except Stopped:
        import sys

        record = logging.LogRecord(
            "prefect.engine",
            logging.ERROR,
            __file__,
            1,
            "Execution of flow run 'x' exited with unexpected exception",
            None,
            sys.exc_info(),
        )
    assert OrdinaryStopFilter().filter(record)
    assert record.exc_info is None and record.levelno == logging.WARNING
    assert record.getMessage() == "Stopped: 周期 A 正在由另一个运行处理"
    try:
        raise ValueError("a defect")
    except ValueError:
        import sys

        defect = logging.LogRecord("prefect.engine", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    OrdinaryStopFilter().filter(defect)
    assert defect.exc_info is not None  # a real defect keeps its traceback


def test_the_automations_file_gives_valid_prefect_automations():
    from prefect.events.schemas.automations import AutomationCore

    values = {
        "webhook_block": "00000000-0000-0000-0000-000000000001",
        "email_block": None,
        "reminder_seconds": 48 * 3600,
        **alerts.texts("zh", 48),
    }
    specs = {s["name"]: AutomationCore.model_validate(s) for s in alerts.automations(values)}
    failed, waiting = specs["fund-run-failed"], specs["fund-approval-waiting"]
    assert set(failed.trigger.expect) == {"prefect.flow-run.Failed", "prefect.flow-run.Crashed"}
    assert "prefect.flow-run.Rejected" not in failed.trigger.expect
    assert waiting.trigger.after == {"prefect.flow-run.Suspended"} and waiting.trigger.within.total_seconds() == 48 * 3600
    assert all(len(a.actions) == 1 for a in specs.values())  # no e-mail block: its actions are left out
    assert "{{ flow_run.name }}" in failed.actions[0].subject and "48 小时" in waiting.actions[0].subject
    assert "hours" in alerts.texts("en", 2)["alert_waiting_subject"]


ENGINE_EXIT = """
import sys, uuid
{install}
from prefect.engine import handle_engine_signals
from fund.flows.stage import Stopped
with handle_engine_signals(uuid.uuid4()):
    raise Stopped("周期 A 正在由另一个运行处理，本次未做任何改动", [])
"""


@pytest.mark.parametrize("installed", [True, False])
def test_the_flow_run_process_ends_an_ordinary_stop_without_a_traceback(installed, tmp_path):
    """What the flow-run process of a deployment does when its flow ended Failed with a Stopped
    reason: Prefect's engine re-raises it and logs it on the way out (the worker's log shows
    that output). With the filter the cycle and report flows install, one sentence."""
    import os
    import subprocess
    import sys

    install = "import fund.runtime.quiet_stops as q; q.install()" if installed else ""
    env = {**os.environ, "PREFECT_HOME": str(tmp_path), "PREFECT_API_URL": "", "DO_NOT_TRACK": "1"}
    done = subprocess.run(
        [sys.executable, "-c", ENGINE_EXIT.format(install=install)], capture_output=True, text=True, env=env, timeout=120
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1
    if installed:
        assert "Traceback" not in output and "Stopped: 周期 A 正在由另一个运行处理" in output, output
    else:  # without it, the traceback this filter exists for
        assert "Traceback" in output and "exited with unexpected exception" in output, output

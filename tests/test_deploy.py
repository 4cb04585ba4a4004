"""deploy/: the deployments in prefect.yaml, the compose file, the server check, and the
cycle deployment run for real on a local Prefect server on PostgreSQL with a process worker
(deploy/local_check.py; no docker needed)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fund.flows import deployments

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
PARAMETERS = {"cycle_dir", "out_dir", "lang"}  # never db_url: the worker's environment has it


def load_local_check():
    spec = importlib.util.spec_from_file_location("fund_local_check", DEPLOY / "local_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def database_url() -> str:
    url = os.environ.get("FUND_TEST_DATABASE_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must run the deployment check: set FUND_TEST_DATABASE_URL")
        pytest.skip(
            "no PostgreSQL for the Prefect server: set "
            "FUND_TEST_DATABASE_URL=postgresql+psycopg://user@host:5432/db to run the deployment check"
        )
    return url


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- prefect.yaml ------------------------------------------------------------------------


def test_cycle_deployment_runs_one_at_a_time_on_the_process_pool():
    spec = deployments.deployment_spec(deployments.CYCLE_DEPLOYMENT)
    assert spec["entrypoint"] == deployments.CYCLE_ENTRYPOINT == "fund/flows/cycle.py:cycle_flow"
    assert spec["work_pool"]["name"] == deployments.WORK_POOL == "fund-process"
    assert set(spec["parameters"]) == PARAMETERS | {"pause_for_approval", "approval_timeout_s"}
    assert spec["parameters"]["pause_for_approval"] is True
    assert spec["concurrency_limit"] == {"limit": 1, "collision_strategy": "ENQUEUE"}
    assert all(s["timezone"] == "Asia/Shanghai" for s in spec["schedules"])


def test_weekly_report_is_scheduled_mondays_at_eight_beijing_time():
    spec = deployments.deployment_spec(deployments.REPORT_DEPLOYMENT)
    assert spec["entrypoint"] == deployments.REPORT_ENTRYPOINT == "fund/flows/report.py:report_flow"
    assert spec["schedules"] == [{"cron": "0 8 * * 1", "timezone": "Asia/Shanghai", "active": True}]
    assert set(spec["parameters"]) == PARAMETERS
    assert spec["work_pool"]["name"] == "fund-process"
    assert spec["concurrency_limit"]["limit"] == 1
    from prefect.client.schemas.schedules import CronSchedule

    schedule = CronSchedule(cron=spec["schedules"][0]["cron"], timezone=spec["schedules"][0]["timezone"])
    assert (schedule.cron, schedule.timezone) == ("0 8 * * 1", "Asia/Shanghai")


def test_docker_and_kubernetes_pools_are_configured():
    pools = deployments.load_prefect_file()["definitions"]["work_pools"]
    assert pools["process_pool"]["name"] == "fund-process"
    assert pools["docker_pool"]["job_variables"]["image"] == pools["kubernetes_pool"]["job_variables"]["image"]
    assert pools["kubernetes_pool"]["job_variables"]["namespace"]
    pull = deployments.load_prefect_file()["definitions"]["pull"]["in_image"]
    workdir = next(line.split()[1] for line in (DEPLOY / "Dockerfile").read_text().splitlines() if line.startswith("WORKDIR"))
    assert pull == [{"prefect.deployments.steps.set_working_directory": {"directory": workdir}}]


# -- compose.yaml and the image ------------------------------------------------------------


def test_compose_runs_postgres_server_and_worker():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"postgres", "prefect-server", "worker"} <= set(services)
    server_db = services["prefect-server"]["environment"]["PREFECT_API_DATABASE_CONNECTION_URL"]
    product_db = services["worker"]["environment"]["FUND_DATABASE_URL"]
    assert server_db.startswith("postgresql+asyncpg://") and server_db.endswith("@postgres:5432/prefect")
    assert product_db.startswith("postgresql+psycopg://") and product_db.endswith("@postgres:5432/fund")
    assert services["worker"]["environment"]["PREFECT_API_URL"] == "http://prefect-server:4200/api"
    assert "fund-process" in services["worker"]["command"]
    for name in ("prefect-server", "worker"):
        build = services[name]["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == (DEPLOY / "Dockerfile").resolve()
    init = services["postgres"]["volumes"][1].split(":")[0]
    assert "CREATE DATABASE fund" in (DEPLOY / init / "10-fund-database.sh").read_text()
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert 'pip install ".[postgres]"' in dockerfile
    assert "COPY fund ./fund" in dockerfile
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        done = subprocess.run(
            ["docker", "compose", "-f", str(DEPLOY / "compose.yaml"), "config", "-q"], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr


# -- bad input -----------------------------------------------------------------------------


def test_unreachable_server_names_the_url_and_how_to_start_one(capsys):
    url = f"http://127.0.0.1:{unused_port()}/api"
    with pytest.raises(deployments.ServerUnreachable) as caught:
        deployments.check_server(url, timeout=2)
    message = str(caught.value)
    assert url in message and "prefect server start" in message and "PREFECT_API_URL" in message
    assert deployments.main(["check", url.removesuffix("/api")]) == 1
    assert url in capsys.readouterr().err


# -- the real thing ------------------------------------------------------------------------
# One Prefect server (on PostgreSQL, basic auth on, the deployment lease shortened to 30 s),
# one process worker and the registered deployments, shared by the tests below; the tests
# run in this order and go on from where the previous one left the cycle.


@pytest.fixture(scope="module")
def deployed():
    url = database_url()
    local_check = load_local_check()
    check = local_check.LocalCheck(url, log=print)
    try:
        check.start()
    except local_check.CheckFailed as exc:
        check.cleanup()
        pytest.fail(f"{exc}\n\nsteps:\n{check.result.table()}")
    yield local_check, check
    check.cleanup()
    print(check.result.table())
    # everything it started is gone
    assert check.databases == []
    for service in check.services:
        assert service.process.poll() is not None, f"the {service.name} is still running"
        assert not local_check.children_of(service.process.pid)
    assert not check.tmp.exists()
    total = sum(seconds for _, seconds in check.result.timings)
    assert total < 420, f"the deployment checks took {total:.0f} s:\n{check.result.table()}"  # ~175 s on an idle 2-core machine


def checked(local_check, check, step):
    try:
        step()
    except local_check.CheckFailed as exc:
        pytest.fail(f"{exc}\n\nsteps:\n{check.result.table()}")
    return check.result


@pytest.mark.postgres
def test_a_rejected_allocation_ends_rejected_and_a_changed_budget_pauses_again(deployed):
    local_check, check = deployed
    result = checked(local_check, check, check.check_rejection)
    assert check.result.deployments["cycle"]["global_concurrency_limit"]["limit"] == 1
    assert (result.rejected_run["state"]["type"], result.rejected_run["state"]["name"]) == ("FAILED", "Rejected")
    assert "王科长" in result.rejected_run["state"]["message"]
    assert result.repaused_run["state"]["name"] == "Suspended"
    # the form an official fills in: Chinese, an explicit choice without a default, a name required
    schema, description = result.form["schema"], result.form["description"]
    decision = schema["properties"]["decision"]
    assert decision["title"] == "审批决定" and decision["enum"] == ["批准", "驳回"] and "default" not in decision
    assert set(schema["required"]) >= {"decision", "approver"}
    assert schema["properties"]["approver"]["title"] == "审批人姓名"
    for words in ("资助项目数", "资助总额", "结余", "优先保障底线", "allocation.csv", "comparison.csv", "¥3,000,000.00"):
        assert words in description, words


@pytest.mark.postgres
def test_approval_waits_past_the_lease_without_holding_the_cycle_and_publishes(deployed):
    local_check, check = deployed
    result = checked(local_check, check, check.check_approval)
    assert result.suspended_s > check.lease_seconds
    other = result.waiting_run["state"]
    assert (other["type"], other["name"]) == ("COMPLETED", "AwaitingApproval") and "等待审批" in other["message"]
    assert result.active_slots_while_waiting == 0
    assert result.flow_run["state"]["type"] == "COMPLETED"
    assert [Path(p).relative_to(Path(p).parents[1]).as_posix() for p in result.outputs] == list(local_check.OUTPUTS)
    assert set(result.stages) >= {"intake", "assignment", "scoring", "allocation", "publication"}
    decisions = [(a["decision"], a["by"]) for a in result.approvals if a["decision"] != "requested"]
    assert decisions[-1] == ("approved", "李主任")
    assert not (check.out / "fund.db").exists()  # the database came from the worker's environment
    assert check.runs_showing_the_database() == []  # and is no parameter of any run, stage subflows included
    mask = os.umask(0o022)
    os.umask(mask)  # the worker's umask is this process's
    assert (check.out / "allocation" / "publicity.html").stat().st_mode & 0o777 == 0o666 & ~mask


@pytest.mark.postgres
def test_report_deployment_runs_and_a_failed_run_alerts_without_a_traceback(deployed):
    local_check, check = deployed
    if check.report:
        checked(local_check, check, check.check_report)
        assert check.result.report_run["state"]["type"] == "COMPLETED"
        schedules = check.result.deployments["weekly-report"]["schedules"]
        assert [(s["schedule"]["cron"], s["schedule"]["timezone"], s["active"]) for s in schedules] == [
            ("0 8 * * 1", "Asia/Shanghai", True)
        ]
    result = checked(local_check, check, check.check_bad_input_and_alert)
    bad = result.bad_run
    assert bad["state"]["type"] == "FAILED" and local_check.MISSING_CYCLE in bad["state"]["message"]
    body = json.loads(result.alert["body"])
    assert body["msgtype"] == "text" and bad["name"] in body["text"]["content"]
    assert result.tracebacks == []

"""The base job templates of the Kubernetes and Docker work pools (deploy/work-pools/),
checked without a cluster or a docker daemon: Prefect's own validation of a work pool's
template (what the server runs on `prefect work-pool create --base-job-template`), JSON
Schema, the placeholders, the data volume at /data, the database URL kept out of the
template, and the job_variables of deploy/prefect.yaml. Each check is also run on a
broken copy of the template, to show that it fails. With prefect-kubernetes /
prefect-docker importable, the workers' own job configurations are built from the
templates as well (skipped without them; everything else runs with Prefect alone)."""

from __future__ import annotations

import asyncio
import copy
import json
import re
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import pydantic
import pytest
import yaml
from prefect.client.schemas.actions import WorkPoolCreate as ClientWorkPoolCreate
from prefect.server.api.validation import validate_job_variable_defaults_for_work_pool
from prefect.server.schemas.actions import WorkPoolCreate as ServerWorkPoolCreate
from prefect.server.schemas.actions import validate_base_job_template
from prefect.utilities.schema_tools import is_valid_schema, validate
from prefect.utilities.schema_tools.validation import ValidationError as PrefectValidationError
from prefect.utilities.templating import PlaceholderType, apply_values, find_placeholders
from prefect.workers.base import BaseJobConfiguration

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
KINDS = ("kubernetes", "docker")
POOL_KEY = {"kubernetes": "kubernetes_pool", "docker": "docker_pool"}
POOL_NAME = {"kubernetes": "fund-k8s", "docker": "fund-docker"}
SAMPLE_IMAGE = "registry.example.org/fund:0.1.0"
# a database URL written out (any SQLAlchemy dialect), which must never be in a template
DATABASE_URL = re.compile(r"\b(postgres(ql)?|mysql|mariadb|sqlite|oracle|mssql)(\+\w+)?://", re.IGNORECASE)


def template(kind: str) -> dict[str, Any]:
    return json.loads((DEPLOY / "work-pools" / f"{kind}.json").read_text(encoding="utf-8"))


def prefect_yaml() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "prefect.yaml").read_text(encoding="utf-8"))


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def pool_job_variables(kind: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """prefect.yaml's job_variables of that pool as `prefect deploy` fills them in (its
    `{{ $FUND_IMAGE }}` from the environment)."""
    monkeypatch.setenv("FUND_IMAGE", SAMPLE_IMAGE)
    variables = prefect_yaml()["definitions"]["work_pools"][POOL_KEY[kind]]["job_variables"]
    return apply_values(copy.deepcopy(variables), {})


def image_prefect_home() -> str:
    """The image's PREFECT_HOME (deploy/Dockerfile), which the flow runs must keep."""
    return re.search(r"PREFECT_HOME=(\S+)", (DEPLOY / "Dockerfile").read_text(encoding="utf-8")).group(1)


def compose_image() -> str:
    """The image compose.yaml builds from deploy/Dockerfile (`fund:<version>`)."""
    return compose()["services"]["worker"]["image"]


class _NoAPI:
    """Stands in for a Prefect client: the templates refer to no block or Prefect variable,
    so rendering them must not call the API."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"rendering the template called the Prefect API ({name})")


class _Rendered(BaseJobConfiguration):
    """Prefect's generic job configuration, keeping every templated field (`job_manifest`, …)."""

    model_config = pydantic.ConfigDict(extra="allow")


def render(base_job_template: dict[str, Any], values: dict[str, Any] | None = None, cls: type = _Rendered) -> Any:
    """The job configuration a worker builds from the template and a deployment's job
    variables: Prefect's own merging of defaults and values and placeholder substitution."""
    return asyncio.run(cls.from_template_and_values(base_job_template, values or {}, client=_NoAPI()))


def manifest(rendered: _Rendered) -> dict[str, Any]:
    return rendered.model_extra["job_manifest"]


def container(job_manifest: dict[str, Any]) -> dict[str, Any]:
    return job_manifest["spec"]["template"]["spec"]["containers"][0]


def placeholders(base_job_template: dict[str, Any]) -> set[str]:
    return {p.name for p in find_placeholders(base_job_template["job_configuration"])}


def declared(base_job_template: dict[str, Any]) -> set[str]:
    return set(base_job_template["variables"].get("properties", {}))


def without_variable(base_job_template: dict[str, Any], name: str) -> dict[str, Any]:
    broken = copy.deepcopy(base_job_template)
    del broken["variables"]["properties"][name]
    return broken


def with_default(base_job_template: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(base_job_template)
    changed["variables"]["properties"][name]["default"] = value
    return changed


def validate_defaults(base_job_template: dict[str, Any], pool: str) -> None:
    """What the server runs on the defaults of a work pool it creates or updates (the session
    is used only to look up block references, of which the templates have none)."""
    asyncio.run(validate_job_variable_defaults_for_work_pool(None, pool, base_job_template))


def validate_job_variables(base_job_template: dict[str, Any], job_variables: dict[str, Any]) -> None:
    """What the server runs on a deployment's job_variables against its pool's schema."""
    validate(
        job_variables,
        base_job_template["variables"],
        raise_on_error=True,
        preprocess=True,
        ignore_required=True,
        allow_none_with_default=True,
    )


# --- the checks of the fund-specific parts, each returning what is wrong -------------------


def literal_database_urls(base_job_template: dict[str, Any]) -> list[str]:
    """Strings anywhere in the template (job configuration, defaults, descriptions) that
    are a database URL."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and DATABASE_URL.search(node):
            found.append(node)

    walk(base_job_template)
    return found


def kubernetes_problems(base_job_template: dict[str, Any]) -> list[str]:
    problems = [f"a literal database URL: {url!r}" for url in literal_database_urls(base_job_template)]
    rendered = render(base_job_template)
    job = manifest(rendered)
    pod = job["spec"]["template"]["spec"]
    box = container(job)
    claims = {
        v["name"]: v["persistentVolumeClaim"].get("claimName") for v in pod.get("volumes", []) if "persistentVolumeClaim" in v
    }
    mounted = {m["name"] for m in box.get("volumeMounts", []) if m.get("mountPath") == "/data"}
    if not any(claims.get(name) == "fund-data" for name in mounted):
        problems.append(f"the PVC fund-data is not mounted at /data (claims {claims}, mounts {box.get('volumeMounts')})")
    env = box.get("env")
    if not isinstance(env, list):
        problems.append(f"the container env is not a list of entries: {env!r}")
        env = []
    database = [e for e in env if e.get("name") == "FUND_DATABASE_URL"]
    if len(database) != 1 or "value" in database[0]:
        problems.append(f"FUND_DATABASE_URL is not one entry without a value: {database}")
    elif database[0].get("valueFrom", {}).get("secretKeyRef") != {"name": "fund-database", "key": "url"}:
        problems.append(f"FUND_DATABASE_URL does not come from secret fund-database, key url: {database[0]}")
    if "FUND_DATABASE_URL" in rendered.env:
        problems.append("FUND_DATABASE_URL is in the env variable's default")
    if rendered.env.get("PREFECT_HOME") != image_prefect_home():
        problems.append(f"PREFECT_HOME is {rendered.env.get('PREFECT_HOME')!r}, not the image's {image_prefect_home()!r}")
    if job["metadata"].get("namespace") != "fund":
        problems.append(f"the Job's namespace is {job['metadata'].get('namespace')!r}, not fund")
    resources = box.get("resources", {})
    wanted = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "2Gi"}}
    for kind, values in wanted.items():
        for resource, quantity in values.items():
            if resources.get(kind, {}).get(resource) != quantity:
                problems.append(f"resources.{kind}.{resource} is {resources.get(kind, {}).get(resource)!r}, not {quantity!r}")
    if box.get("image") != compose_image():
        problems.append(f"the default image {box.get('image')!r} is not compose's {compose_image()!r}")
    return problems


def docker_volume_target(volume: str) -> str:
    parts = volume.split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def docker_problems(base_job_template: dict[str, Any]) -> list[str]:
    problems = [f"a literal database URL: {url!r}" for url in literal_database_urls(base_job_template)]
    rendered = render(base_job_template)
    extra = rendered.model_extra
    project = compose()["name"]
    volume = f"{project}_{next(iter(compose()['volumes'].keys() - {'pgdata'}))}"  # compose's data volume: fund_data
    at_data = [v for v in extra.get("volumes") or [] if docker_volume_target(v) == "/data"]
    if at_data != [f"{volume}:/data"]:
        problems.append(f"the volume {volume} is not mounted at /data: {extra.get('volumes')}")
    if f"{project}_default" not in (extra.get("networks") or []):
        problems.append(f"not on the compose network {project}_default: {extra.get('networks')}")
    if "FUND_DATABASE_URL" in rendered.env:
        problems.append("FUND_DATABASE_URL is in the env variable's default")
    if rendered.env.get("PREFECT_HOME") != image_prefect_home():
        problems.append(f"PREFECT_HOME is {rendered.env.get('PREFECT_HOME')!r}, not the image's {image_prefect_home()!r}")
    if not rendered.env.get("FUND_DATABASE_SECRET"):
        problems.append("FUND_DATABASE_SECRET (the Prefect Secret block with the database URL) is not set")
    if rendered.env.get("PREFECT_API_URL") != "http://prefect-server:4200/api":
        problems.append(f"PREFECT_API_URL is {rendered.env.get('PREFECT_API_URL')!r}, not compose's server")
    if extra.get("mem_limit") != "2g":
        problems.append(f"mem_limit is {extra.get('mem_limit')!r}, not 2g")
    if extra.get("image") != compose_image():
        problems.append(f"the default image {extra.get('image')!r} is not compose's {compose_image()!r}")
    return problems


PROBLEMS = {"kubernetes": kubernetes_problems, "docker": docker_problems}


# --- (a) Prefect accepts the templates, and rejects a broken one ---------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_prefect_accepts_the_template(kind):
    base_job_template = template(kind)
    # what `prefect work-pool create NAME --type KIND --base-job-template FILE` sends ...
    sent = ClientWorkPoolCreate(name=POOL_NAME[kind], type=kind, base_job_template=base_job_template)
    assert sent.base_job_template == base_job_template
    # ... and what the server validates it with: the placeholders (validate_base_job_template,
    # the validator of its WorkPoolCreate) and the defaults against the variables' schema
    received = ServerWorkPoolCreate.model_validate(sent.model_dump(mode="json"))
    assert received.base_job_template == base_job_template
    assert validate_base_job_template(base_job_template) == base_job_template
    validate_defaults(base_job_template, POOL_NAME[kind])


@pytest.mark.parametrize("kind", KINDS)
def test_prefect_rejects_an_undeclared_placeholder(kind):
    base_job_template = template(kind)
    for name in ("image", "env", *sorted(placeholders(base_job_template) - {"image", "env"})[:3]):
        broken = without_variable(base_job_template, name)
        with pytest.raises(pydantic.ValidationError, match=f"undeclared variable.*{name}"):
            ServerWorkPoolCreate(name=POOL_NAME[kind], type=kind, base_job_template=broken)
        with pytest.raises(ValueError, match=name):
            validate_base_job_template(broken)


def test_prefect_rejects_the_fund_placeholders_undeclared():
    base_job_template = template("kubernetes")
    for name in ("data_pvc_name", "database_secret_name", "database_secret_key", "memory_limit"):
        with pytest.raises(pydantic.ValidationError, match=name):
            ServerWorkPoolCreate(name="fund-k8s", type="kubernetes", base_job_template=without_variable(base_job_template, name))


@pytest.mark.parametrize(
    ("kind", "name", "bad"),
    [
        ("kubernetes", "memory_limit", "2GB"),
        ("kubernetes", "cpu_request", "one"),
        ("kubernetes", "namespace", 7),
        ("kubernetes", "data_pvc_name", "Fund Data"),
        ("docker", "mem_limit", "2 GB"),
        ("docker", "volumes", "fund_data:/data"),
        ("docker", "image_pull_policy", "Sometimes"),
    ],
)
def test_prefect_rejects_an_invalid_default(kind, name, bad):
    from fastapi import HTTPException

    with pytest.raises(HTTPException) as raised:
        validate_defaults(with_default(template(kind), name, bad), POOL_NAME[kind])
    assert raised.value.status_code == 422 and name in str(raised.value.detail)


# --- (b) the variables are a valid JSON Schema (draft 2020-12, as Prefect uses) -------------


@pytest.mark.parametrize("kind", KINDS)
def test_variables_are_a_json_schema(kind):
    variables = template(kind)["variables"]
    jsonschema.Draft202012Validator.check_schema(variables)
    is_valid_schema(variables, preprocess=False)  # Prefect's validator (2020-12 and its placeholders)
    assert variables["type"] == "object"
    # the defaults conform to the schema, as plain JSON Schema (no Prefect preprocessing)
    defaults = {name: schema["default"] for name, schema in variables["properties"].items() if "default" in schema}
    jsonschema.Draft202012Validator(variables).validate(defaults)

    broken = copy.deepcopy(variables)
    broken["properties"]["image"]["type"] = "text"  # not a JSON Schema type
    with pytest.raises(jsonschema.SchemaError):
        jsonschema.Draft202012Validator.check_schema(broken)
    with pytest.raises(ValueError, match="Invalid schema"):
        is_valid_schema(broken, preprocess=False)


# --- (c) every placeholder is a declared variable, and every variable is used ---------------


@pytest.mark.parametrize("kind", KINDS)
def test_placeholders_are_declared_variables(kind):
    base_job_template = template(kind)
    found = find_placeholders(base_job_template["job_configuration"])
    assert found, "no placeholders at all"
    assert {p.type for p in found} == {PlaceholderType.STANDARD}  # no $ENV, block or Prefect-variable ones
    assert placeholders(base_job_template) <= declared(base_job_template)
    # a declared variable no placeholder uses would be a setting that does nothing
    assert declared(base_job_template) <= placeholders(base_job_template)

    broken = without_variable(base_job_template, sorted(placeholders(base_job_template))[0])
    assert not placeholders(broken) <= declared(broken)
    broken = copy.deepcopy(base_job_template)
    broken["job_configuration"]["labels"] = "{{ label }}"
    assert placeholders(broken) - declared(broken) == {"label"}


# --- (d) Kubernetes: PVC at /data, database URL from a Secret, namespace, resources, image ---


def test_kubernetes_template():
    assert kubernetes_problems(template("kubernetes")) == []


def test_kubernetes_image_and_namespace_match_prefect_yaml(monkeypatch):
    base_job_template = template("kubernetes")
    properties = base_job_template["variables"]["properties"]
    job_variables = pool_job_variables("kubernetes", monkeypatch)
    # prefect.yaml sets the image (from FUND_IMAGE), or leaves the template's default
    assert job_variables.get("image", properties["image"]["default"]) in (SAMPLE_IMAGE, compose_image())
    assert properties["image"]["default"] == compose_image()
    assert properties["namespace"]["default"] == job_variables["namespace"] == "fund"
    rendered = render(base_job_template, job_variables)
    job = manifest(rendered)
    assert container(job)["image"] == SAMPLE_IMAGE
    assert job["metadata"]["namespace"] == rendered.model_extra["namespace"] == "fund"
    assert rendered.env == {"PREFECT_HOME": "/var/lib/prefect", "FUND_LANG": "zh"}  # prefect.yaml's env merged over the default
    assert job["spec"]["ttlSecondsAfterFinished"] == 86400


def _secret_as_value(t):
    entry = container(t["job_configuration"]["job_manifest"])["env"][0]
    entry.pop("valueFrom")
    entry["value"] = "postgresql+psycopg://fund:secret@db:5432/fund"


def _url_in_env_default(t):
    t["variables"]["properties"]["env"]["default"] = {"FUND_DATABASE_URL": "postgresql://fund:secret@db/fund"}


def _no_mount(t):
    container(t["job_configuration"]["job_manifest"]).pop("volumeMounts")


def _mount_elsewhere(t):
    container(t["job_configuration"]["job_manifest"])["volumeMounts"][0]["mountPath"] = "/mnt/data"


def _other_claim(t):
    t["variables"]["properties"]["data_pvc_name"]["default"] = "scratch"


def _other_secret(t):
    t["variables"]["properties"]["database_secret_key"]["default"] = "password"


def _default_namespace(t):
    t["variables"]["properties"]["namespace"]["default"] = "default"


def _no_memory_limit(t):
    t["variables"]["properties"]["memory_limit"]["default"] = None


def _prefect_image(t):
    t["variables"]["properties"]["image"]["default"] = None


@pytest.mark.parametrize(
    "breaking",
    [
        _secret_as_value,
        _url_in_env_default,
        _no_mount,
        _mount_elsewhere,
        _other_claim,
        _other_secret,
        _default_namespace,
        _no_memory_limit,
        _prefect_image,
    ],
)
def test_kubernetes_checks_fail_on_a_broken_template(breaking):
    broken = template("kubernetes")
    breaking(broken)
    assert kubernetes_problems(broken), f"{breaking.__name__} went unnoticed"


# --- (e) Docker: the compose volume at /data, the database from a Prefect Secret block -------


def test_docker_template():
    assert docker_problems(template("docker")) == []


def test_docker_merges_prefect_yaml_env_over_the_defaults(monkeypatch):
    job_variables = pool_job_variables("docker", monkeypatch)
    rendered = render(template("docker"), job_variables)
    assert rendered.model_extra["image"] == SAMPLE_IMAGE
    assert rendered.model_extra["volumes"] == ["fund_data:/data"]
    assert rendered.env == {
        "PREFECT_API_URL": "http://prefect-server:4200/api",
        "PREFECT_HOME": "/var/lib/prefect",
        "FUND_DATABASE_SECRET": "fund-database-url",
        "FUND_LANG": "zh",
    }


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("volumes", ["fund_data:/mnt"]),
        ("volumes", []),
        ("networks", []),
        ("env", {"FUND_DATABASE_URL": "postgresql+psycopg://fund:secret@postgres:5432/fund"}),
        (
            "env",
            {
                "PREFECT_API_URL": "http://127.0.0.1:4200/api",
                "PREFECT_HOME": "/var/lib/prefect",
                "FUND_DATABASE_SECRET": "fund-database-url",
            },
        ),
        ("env", {"PREFECT_API_URL": "http://prefect-server:4200/api", "FUND_DATABASE_SECRET": "fund-database-url"}),
        ("env", {"PREFECT_API_URL": "http://prefect-server:4200/api", "PREFECT_HOME": "/var/lib/prefect"}),
        ("mem_limit", None),
        ("image", "prefecthq/prefect:3-latest"),
    ],
)
def test_docker_checks_fail_on_a_broken_template(name, bad):
    assert docker_problems(with_default(template("docker"), name, bad))


# --- (f) prefect.yaml's job_variables are declared variables of the matching template -------


@pytest.mark.parametrize("kind", KINDS)
def test_prefect_yaml_job_variables_are_declared(kind, monkeypatch):
    base_job_template = template(kind)
    job_variables = pool_job_variables(kind, monkeypatch)
    assert job_variables, f"prefect.yaml's {POOL_KEY[kind]} has no job_variables"
    assert set(job_variables) <= declared(base_job_template)
    validate_job_variables(base_job_template, job_variables)
    assert prefect_yaml()["definitions"]["work_pools"][POOL_KEY[kind]]["name"] == POOL_NAME[kind]

    name = sorted(job_variables)[0]
    assert not set(job_variables) <= declared(without_variable(base_job_template, name))
    with pytest.raises(PrefectValidationError):
        validate_job_variables(base_job_template, {**job_variables, "image_pull_policy": "Sometimes"})


# --- with prefect-kubernetes / prefect-docker: the workers' own job configurations ----------


def test_kubernetes_worker_builds_the_job(monkeypatch):
    worker = pytest.importorskip("prefect_kubernetes.worker")
    from prefect.client.schemas.objects import FlowRun
    from prefect.settings import PREFECT_API_URL, temporary_settings

    base_job_template = template("kubernetes")
    default = worker.KubernetesWorker.get_default_base_job_template()
    assert declared(default) <= declared(base_job_template)  # started from Prefect's default
    assert set(default["job_configuration"]) == set(base_job_template["job_configuration"])

    job_variables = pool_job_variables("kubernetes", monkeypatch)
    config = render(base_job_template, job_variables, worker.KubernetesWorkerJobConfiguration)
    with temporary_settings({PREFECT_API_URL: "http://prefect-server.fund.svc:4200/api"}):
        config.prepare_for_flow_run(FlowRun(flow_id=uuid.uuid4(), name="district-7-cycle"))
    job = config.job_manifest
    env = {e["name"]: e for e in container(job)["env"]}
    assert env["FUND_DATABASE_URL"] == {
        "name": "FUND_DATABASE_URL",
        "valueFrom": {"secretKeyRef": {"name": "fund-database", "key": "url"}},
    }
    assert env["FUND_LANG"]["value"] == "zh" and env["PREFECT_HOME"]["value"] == "/var/lib/prefect"
    assert env["PREFECT_API_URL"]["value"] == "http://prefect-server.fund.svc:4200/api"  # the worker's, passed on
    assert container(job)["volumeMounts"] == [{"name": "fund-data", "mountPath": "/data"}]
    assert job["spec"]["template"]["spec"]["volumes"] == [
        {"name": "fund-data", "persistentVolumeClaim": {"claimName": "fund-data"}}
    ]
    assert container(job)["image"] == SAMPLE_IMAGE and job["metadata"]["namespace"] == "fund"
    assert container(job)["resources"] == {"limits": {"memory": "2Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}}

    broken = copy.deepcopy(base_job_template)
    broken["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]["restartPolicy"] = "OnFailure"
    with pytest.raises(pydantic.ValidationError, match="restartPolicy"):
        render(broken, job_variables, worker.KubernetesWorkerJobConfiguration)


def test_docker_worker_builds_the_container(monkeypatch):
    worker = pytest.importorskip("prefect_docker.worker")
    from prefect.client.schemas.objects import FlowRun

    base_job_template = template("docker")
    default = worker.DockerWorker.get_default_base_job_template()
    assert declared(default) <= declared(base_job_template)
    assert set(default["job_configuration"]) == set(base_job_template["job_configuration"])

    config = render(base_job_template, pool_job_variables("docker", monkeypatch), worker.DockerWorkerJobConfiguration)
    config.prepare_for_flow_run(FlowRun(flow_id=uuid.uuid4(), name="district-7-cycle"))
    assert config.volumes == ["fund_data:/data"] and config.networks == ["fund_default"]
    assert config.image == SAMPLE_IMAGE and config.mem_limit == "2g" and config.auto_remove
    assert config.env["PREFECT_API_URL"] == "http://prefect-server:4200/api"
    assert config.env["FUND_DATABASE_SECRET"] == "fund-database-url" and config.env["FUND_LANG"] == "zh"
    assert "FUND_DATABASE_URL" not in config.env

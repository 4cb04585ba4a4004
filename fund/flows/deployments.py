"""Running the fund flows on a Prefect server (see deploy/README.md).

Small helpers shared by `deploy/local_check.py` and the tests: the entrypoints and
deployment names that `deploy/prefect.yaml` declares, reading that file, and
`check_server(url)`, which turns "nothing answers at that address" into one clear
paragraph instead of a connection traceback.

Prefect is imported only to read the active profile's API URL when no URL is given, so
this module is cheap to import and safe before PREFECT_* settings are chosen.

    python -m fund.flows.deployments check [API_URL]     # exit 0 when the server answers
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

CYCLE_ENTRYPOINT = "fund/flows/cycle.py:cycle_flow"
REPORT_ENTRYPOINT = "fund/flows/report.py:report_flow"
CYCLE_DEPLOYMENT = "cycle"  # full name: fund-cycle/cycle
REPORT_DEPLOYMENT = "weekly-report"
CITY_CYCLE_DEPLOYMENT = "fund-cycle/city-cycle"  # one district's cycle, started by `fund city run`
WORK_POOL = "fund-process"
DEFAULT_API_URL = "http://127.0.0.1:4200/api"


class ServerUnreachable(RuntimeError):
    """No Prefect server answers at the given API URL; the message says how to start one."""

    def __init__(self, url: str, reason: str):
        self.url = url
        self.reason = reason
        super().__init__(
            f"No Prefect server answers at {url} ({reason}).\n"
            "Start one, then point the clients at it:\n"
            "  prefect server start --host 127.0.0.1 --port 4200\n"
            "    (on PostgreSQL: export PREFECT_API_DATABASE_CONNECTION_URL=postgresql+asyncpg://USER@HOST:5432/prefect first)\n"
            "  or, with docker: docker compose -f deploy/compose.yaml up -d\n"
            f"  prefect config set PREFECT_API_URL={DEFAULT_API_URL}\n"
            f"未能连接 Prefect 服务器 {url}：请先运行 `prefect server start`（或 "
            "`docker compose -f deploy/compose.yaml up -d`），并把 PREFECT_API_URL 指向它。"
        )


def api_url(url: str | None = None) -> str:
    """The API URL to use: the argument, else PREFECT_API_URL (environment or the active
    Prefect profile), else the local default. A bare address (http://host:4200) gets `/api`."""
    url = url or os.environ.get("PREFECT_API_URL") or _profile_api_url() or DEFAULT_API_URL
    url = url.rstrip("/")
    return url if url.endswith("/api") else f"{url}/api"


def _profile_api_url() -> str | None:
    """PREFECT_API_URL from the active profile (`prefect config set PREFECT_API_URL=...`)."""
    try:
        from prefect.settings import get_current_settings

        return get_current_settings().api.url
    except Exception:  # no prefect, or an unreadable profile: fall back to the default
        return None


def check_server(url: str | None = None, timeout: float = 5.0) -> str:
    """Return the API URL when a Prefect server answers its health check there;
    raise ServerUnreachable (naming the URL and how to start a server) when not."""
    import httpx

    url = api_url(url)
    try:
        loopback = httpx.URL(url).host in ("127.0.0.1", "localhost", "::1")
        response = httpx.get(f"{url}/health", timeout=timeout, trust_env=not loopback)  # no proxy for loopback
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise ServerUnreachable(url, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from None
    if response.status_code != 200:
        raise ServerUnreachable(url, f"/health answered HTTP {response.status_code}, this is not a Prefect API")
    return url


def prefect_file() -> Path:
    """deploy/prefect.yaml of this checkout (deploy/ is not part of the installed package)."""
    return Path(__file__).resolve().parents[2] / "deploy" / "prefect.yaml"


def load_prefect_file(path: Path | None = None) -> dict:
    import yaml

    return yaml.safe_load((path or prefect_file()).read_text(encoding="utf-8"))


def deployment_spec(name: str, path: Path | None = None) -> dict:
    """One deployment's entry in prefect.yaml, by deployment name."""
    for spec in load_prefect_file(path).get("deployments") or []:
        if spec.get("name") == name:
            return spec
    raise KeyError(f"no deployment named {name!r} in {path or prefect_file()}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "check" or len(args) > 2:
        print("usage: python -m fund.flows.deployments check [API_URL]", file=sys.stderr)
        return 2
    try:
        url = check_server(args[1] if len(args) > 1 else None)
    except ServerUnreachable as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Prefect server is up at {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Opening the product's database for a command: a URL that is not one is exit 2, a server
that does not answer is one sentence (exit 1), and the schema is brought to the current
release under the database's own lock before anything reads it."""

from __future__ import annotations

from pathlib import Path

from fund.runtime.messages import text
from fund.runtime.prefect_api import RuntimeProblem


def shown(url: str) -> str:
    """The URL as it may be printed: never with its password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<?>"


def open_database(out: Path, db: str | None, lang: str) -> str:
    """The database URL of this command (default: fund.db in OUT_DIR), connected and current."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    from fund.schemas.migrate import SchemaTooNew
    from fund.tasks.store import default_db_url, engine_for

    url = db or default_db_url(out)
    try:
        make_url(url).get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError):
        raise RuntimeProblem(text("db_url_malformed", lang, url=shown(url) if "://" in url else url), 2) from None
    try:
        engine_for(url)
    except SchemaTooNew as exc:
        raise RuntimeProblem(text("db_newer", lang, url=shown(url), found=exc.found, ours=current_head())) from None
    except (SQLAlchemyError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
        raise RuntimeProblem(text("db_unreachable", lang, url=shown(url), reason=reason)) from None
    return url


def current_head() -> str:
    from fund.schemas.migrate import HEAD

    return HEAD


def deployed_database() -> str | None:
    """The product database of a deployment run when its `db_url` parameter is empty: the
    worker's FUND_DATABASE_URL (its environment, or the work pool's or deployment's
    `job_variables.env`), else the Prefect Secret block named by FUND_DATABASE_SECRET. So the
    URL, with its password, is never a visible deployment parameter. Outside a deployment
    run (`fund run`) nothing changes: None."""
    from prefect.runtime import deployment

    from fund.settings import load_settings

    if not deployment.id:
        return None
    settings = load_settings()
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    if settings.database_secret:
        from prefect.blocks.system import Secret

        return Secret.load(settings.database_secret).get()
    return None

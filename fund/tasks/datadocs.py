"""Great Expectations Data Docs that work offline.

GX draws its Data Docs index with scripts and stylesheets from public CDNs (blank on an
intranet) and requests a logo from a remote host carrying the data context's id. After
each gate we take every reference to another host out of the pages GX has just written
(scripts, stylesheets, images, links, form targets, CSS urls), give them a small inline
stylesheet, and write our own index, `quality/index.html` (and GX's index in its place),
listing each validation with its counts and a link to its page. Nothing on these pages
loads anything from the network.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

from fund.tasks.html import TEMPLATES
from fund.tasks.outputs import write_text
from fund.schemas.codes import SHANGHAI

GX_DIR = "gx/uncommitted"
SITE = f"{GX_DIR}/data_docs/local_site"
INDEX = "index.html"
REMOTE = r"""(?:https?:)?//"""
CSS_URL = re.compile(rf"""url\(\s*(["']?){REMOTE}[^)]*\)""", re.I)
PAGE_FIXES = (
    (re.compile(rf"""<script\b[^>]*\bsrc\s*=\s*["']?{REMOTE}[^>]*>\s*</script\s*>""", re.I), ""),
    (re.compile(rf"""<(?:link|img|iframe|source|embed)\b[^>]*\b(?:href|src)\s*=\s*["']?{REMOTE}[^>]*>""", re.I), ""),
    (re.compile(rf"""\s\b(?:href|src|action|srcset|data)\s*=\s*(["']){REMOTE}.*?\1""", re.I | re.S), ""),
    (CSS_URL, "none"),
)
MARK = 'id="fund-offline"'
OFFLINE_STYLE = f"""<style {MARK}>
body {{ font-family: system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 1rem auto; max-width: 72rem;
        padding: 0 1rem; color: #1f2933; line-height: 1.5; }}
table {{ border-collapse: collapse; margin: .5rem 0; max-width: 100%; }}
th, td {{ border: 1px solid #cbd2d9; padding: .25rem .45rem; vertical-align: top; text-align: left; }}
nav, footer, .navbar, #ge-cta-footer, .cooltip .top, [data-toggle="collapse"] svg {{ display: none !important; }}
.collapse {{ display: block !important; }}
img {{ max-width: 100%; }}
.fund-back {{ margin: 0 0 1rem; }}
</style>
"""


def offline_page(html: str, back: str) -> str:
    """A Data Docs page with no reference to another host, styled locally, linking our index."""
    if MARK in html:
        return html
    for pattern, replacement in PAGE_FIXES:
        html = pattern.sub(replacement, html)
    link = f'<p class="fund-back"><a href="{back}">← 数据质量检查 / data-quality checks</a></p>'
    html = re.sub(r"</head\s*>", OFFLINE_STYLE + "</head>", html, count=1, flags=re.I)
    return re.sub(r"(<body\b[^>]*>)", r"\1" + link, html, count=1, flags=re.I)


def validations(quality_dir: Path) -> list[dict]:
    """Every stored validation result with its counts and the path of its page (relative to quality/)."""
    found = []
    store = Path(quality_dir) / GX_DIR / "validations"
    for path in sorted(store.rglob("*.json")):
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        stats = result.get("statistics") or {}
        run_time = (result.get("meta") or {}).get("run_id", {}).get("run_time") or ""
        try:
            when = dt.datetime.fromisoformat(run_time).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            when = run_time
        suite = result.get("suite_name") or path.parent.parent.parent.name
        page = Path(SITE) / "validations" / path.relative_to(store).with_suffix(".html")
        found.append(
            {
                "table": suite.removesuffix("-suite"),
                "at": when,
                "sort": run_time,
                "success": bool(result.get("success")),
                "evaluated": stats.get("evaluated_expectations", 0),
                "passed": stats.get("successful_expectations", 0),
                "failed": stats.get("unsuccessful_expectations", 0),
                "page": page.as_posix(),
                "has_page": (Path(quality_dir) / page).is_file(),
            }
        )
    return sorted(found, key=lambda v: (v["sort"], v["table"]))


def write_index(quality_dir: Path) -> None:
    """quality/index.html, and the same list in place of GX's own index page."""
    quality_dir = Path(quality_dir)
    runs = validations(quality_dir)
    latest: dict[str, dict] = {}
    for run in runs:
        latest[run["table"]] = run
    current = sorted(latest.values(), key=lambda v: (v["sort"], v["table"]))
    earlier = [run for run in reversed(runs) if latest[run["table"]] is not run]
    template = TEMPLATES.get_template("quality_index.html.j2")
    write_text(quality_dir / INDEX, template.render(current=current, earlier=earlier, prefix=""))
    site_prefix = "../" * len(Path(SITE).parts)
    if (quality_dir / SITE).is_dir():
        write_text(quality_dir / SITE / INDEX, template.render(current=current, earlier=earlier, prefix=site_prefix))


def make_offline(quality_dir: Path, since: float) -> None:
    """After a gate: make the Data Docs pages written since `since` (a time.time()) offline and
    rewrite the index."""
    quality_dir = Path(quality_dir)
    site = quality_dir / SITE
    if site.is_dir():
        for page in site.rglob("*"):
            if page.suffix not in (".html", ".css") or page == site / INDEX:
                continue
            if page.suffix == ".html" and page.stat().st_mtime < since - 1:  # the pages of earlier gates are done
                continue
            text = page.read_text(encoding="utf-8")
            if page.suffix == ".css":
                fixed = CSS_URL.sub("none", text)
            else:
                fixed = offline_page(text, os.path.relpath(quality_dir / INDEX, page.parent).replace(os.sep, "/"))
            if fixed != text:
                write_text(page, fixed)
    write_index(quality_dir)

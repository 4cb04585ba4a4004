"""The one Jinja2 environment of the HTML pages people read (autoescaped; templates in
`fund/tasks/templates/`)."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from fund.tasks.messages import centi_text, yuan

TEMPLATES = Environment(
    loader=PackageLoader("fund.tasks", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
TEMPLATES.filters["yuan"] = yuan
TEMPLATES.filters["centi"] = centi_text

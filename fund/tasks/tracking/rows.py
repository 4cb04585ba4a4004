"""What the tracking rules share: where a read row came from, one row per key, and the verdict
a rule gives on one request (a row of a file, or a command)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field as default

from fund.tasks.reading import Problem


def key_text(d: dt.date | None) -> str:
    return d.isoformat() if d else ""


def public(row: dict) -> dict:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def where(row: dict, source: str | None = None) -> str:
    return f"{source or row['_file']}:{row['_line']}"


def dedupe(rows: list[dict], key, rule: str, field_name: str, ident) -> tuple[list[dict], list[Problem]]:
    """One row per key: identical copies are ignored (listed), differing ones all rejected."""
    by_key: dict = defaultdict(list)
    for row in rows:
        by_key[key(row)].append(row)
    kept, problems = [], []
    for k in sorted(by_key, key=lambda x: tuple(str(p) for p in (x if isinstance(x, tuple) else (x,)))):
        copies = by_key[k]
        first = copies[0]
        if all(public(c) == public(first) for c in copies[1:]):
            kept.append(first)
            problems += [
                Problem(c["_file"], c["_line"], ident(c), field_name, ident(c), "duplicate_copy", {"first": where(first)})
                for c in copies[1:]
            ]
        else:
            lines = ", ".join(where(c) for c in copies)
            problems += [Problem(c["_file"], c["_line"], ident(c), field_name, ident(c), rule, {"lines": lines}) for c in copies]
    return kept, problems


@dataclass(frozen=True)
class Verdict:
    """What the rules say of one request: the record to add, the record it already is, or the
    rule it breaks (with the field, the value and the parameters of the rule's message)."""

    record: dict | None = None
    known: dict | None = None
    field: str = ""
    value: str = ""
    rule: str = ""
    params: dict = default(default_factory=dict)

"""Data-quality gates with Great Expectations 1.x.

The expectation suite of a table is derived from its SQLModel definition (the same
fields as the CSV reader): required columns not null, `ge`/`le` bounds as ranges,
closed vocabularies as value sets, the primary key unique. Stages add the
cross-table business expectations that matter to them as computed flag columns.
A failed gate on a stage's own output is a defect: the stage stops, naming the
table, the expectation and example rows (`gate_message`).
"""

from __future__ import annotations

import importlib
import os
import time
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlmodel import SQLModel

from fund.schemas.codes import VOCABULARIES
from fund.tasks.datadocs import make_offline

VOCAB_SETS = {name: sorted(words) for name, words in VOCABULARIES.items()}
_CONTEXTS: dict[str, object] = {}
DOCS_INDEX = "index.html"  # quality/index.html (tasks.datadocs), linking each validation page


@dataclass
class GateResult:
    table: str
    rows: int
    evaluated: int
    passed: int
    failures: list[dict] = field(default_factory=list)


def load_great_expectations() -> None:
    """Import Great Expectations (seconds) ahead of the first gate, e.g. while Prefect starts."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    importlib.import_module("great_expectations.expectations")


def _context(project_root: str | None):
    """A file context under OUT_DIR/quality (results kept, Data Docs built), or an
    ephemeral one for callers without an output folder."""
    key = project_root or ""
    if key not in _CONTEXTS:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="file", project_root_dir=project_root) if project_root else gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        _CONTEXTS[key] = context
    return _CONTEXTS[key]


def _optional(annotation) -> bool:
    return (
        isinstance(annotation, types.UnionType)
        and type(None) in typing.get_args(annotation)
        or typing.get_origin(annotation) is typing.Union
        and type(None) in typing.get_args(annotation)
    )


def expectations_for(table: type[SQLModel], columns: list[str]) -> list:
    """The suite of a table, from its field definitions."""
    import great_expectations.expectations as gxe

    found = []
    keys = [
        name
        for name, info in table.model_fields.items()
        if name != "cycle_id" and any(getattr(m, "primary_key", False) is True for m in info.metadata)
    ]
    for name, info in table.model_fields.items():
        if name not in columns:
            continue
        if not _optional(info.annotation):
            found.append(gxe.ExpectColumnValuesToNotBeNull(column=name))
        low = high = None
        for meta in info.metadata:
            low = getattr(meta, "ge", low)
            high = getattr(meta, "le", high)
        if low is not None or high is not None:
            found.append(gxe.ExpectColumnValuesToBeBetween(column=name, min_value=low, max_value=high))
        vocab = (info.json_schema_extra or {}).get("vocab")
        if vocab:
            found.append(gxe.ExpectColumnValuesToBeInSet(column=name, value_set=VOCAB_SETS[vocab]))
    if len(keys) == 1 and keys[0] in columns:
        found.append(gxe.ExpectColumnValuesToBeUnique(column=keys[0]))
    elif len(keys) > 1 and all(k in columns for k in keys):
        found.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=keys))
    return found


def flag_expectation(column: str):
    """A business rule computed in pandas as a boolean column that must be all True."""
    import great_expectations.expectations as gxe

    return gxe.ExpectColumnValuesToBeInSet(column=column, value_set=[True])


def run_gate(
    name: str, frame: pd.DataFrame, expectations: list, id_column: str | None = None, project_root: str | None = None
) -> GateResult:
    import great_expectations as gx

    if frame.empty:
        return GateResult(name, 0, len(expectations), len(expectations))
    context = _context(project_root)
    source = context.data_sources.add_or_update_pandas("fund")
    asset = next((a for a in source.assets if a.name == name), None) or source.add_dataframe_asset(name)
    batch = next((b for b in asset.batch_definitions if b.name == "whole"), None) or asset.add_batch_definition_whole_dataframe(
        "whole"
    )
    suite = context.suites.add_or_update(gx.ExpectationSuite(name=f"{name}-suite", expectations=expectations))
    validation = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(data=batch, suite=suite, name=f"{name}-validation")
    )
    result_format = {"result_format": "COMPLETE", "partial_unexpected_count": 5}
    if id_column and id_column in frame.columns:
        result_format["unexpected_index_column_names"] = [id_column]
    # Data Docs are built once per run (`build_quality_docs`), not after every gate: each
    # build renders every stored result again
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(name=f"{name}-gate", validation_definitions=[validation], actions=[], result_format=result_format)
    )
    outcome = next(iter(checkpoint.run(batch_parameters={"dataframe": frame}).run_results.values()))
    failures = []
    for item in outcome.results:
        if item.success:
            continue
        config = item.expectation_config
        examples = (item.result.get("unexpected_index_list") or item.result.get("partial_unexpected_list") or [])[:5]
        failures.append(
            {
                "expectation": config.type,
                "column": config.kwargs.get("column") or config.kwargs.get("column_list"),
                "count": item.result.get("unexpected_count"),
                "examples": examples,
            }
        )
    return GateResult(name, len(frame), len(outcome.results), len(outcome.results) - len(failures), failures)


def build_quality_docs(project_root: str) -> None:
    """The Data Docs of the gates this process ran under OUT_DIR/quality, once at the end of a
    run, made to work offline (GX's pages load from CDNs), with our index of them."""
    if project_root in _CONTEXTS:
        started = time.time()
        _CONTEXTS[project_root].build_data_docs()
        make_offline(Path(project_root), started)


def check_table(
    name: str,
    rows: list[dict],
    table: type[SQLModel],
    flags: dict[str, list[bool]] | None = None,
    id_column: str | None = None,
    project_root: str | None = None,
) -> GateResult:
    """Validate stored rows of `table` (plus computed business flags, each a list of booleans)."""
    columns = [c for c in table.model_fields if c != "cycle_id"]
    frame = pd.DataFrame(rows, columns=[c for c in columns if not rows or c in rows[0]])
    expectations = expectations_for(table, list(frame.columns))
    for flag, values in (flags or {}).items():
        frame[flag] = values
        expectations.append(flag_expectation(flag))
    return run_gate(name, frame, expectations, id_column or next(iter(frame.columns), None), project_root)


def gate_message(result: GateResult, lang: str) -> str:
    parts = [f"{f['expectation']}({f['column']}): {f['count']} × {f['examples']}" for f in result.failures]
    if lang == "en":
        return f"data-quality gate failed on table {result.table}: " + "; ".join(parts)
    return f"数据质量检查未通过（表 {result.table}）：" + "；".join(parts)

"""The bundled demo, run with `fund run`, writes the same bytes as the committed list says:
`demo_digests.txt` holds the SHA-256 of every output file. A change of the code that is not
meant to change what the product writes (a refactoring) keeps this test green; one that is
meant to shows here, file by file, and the list is regenerated with it:

    FUND_UPDATE_DEMO_DIGESTS=1 pytest tests/test_demo_digests.py

which rewrites `demo_digests.txt` from this run (review its diff before committing it).

What legitimately differs between two runs of the same inputs is left out (VOLATILE) or
blanked before hashing (BLANKED); each says why.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from builders import file_digests
from test_cycle import fund

from fund.cli.cycle import demo_folder

DIGESTS = Path(__file__).parent / "demo_digests.txt"
UPDATE = "FUND_UPDATE_DEMO_DIGESTS"
VOLATILE = (
    ".",  # the run's lock files (.fund.lock, .fund.db.schema-lock): machinery, not outputs
    "fund.db",  # the database (and its -wal/-shm): stage runs, audit events and approvals carry their times
    "audit/",  # head.json: the audit chain's last hash, which covers each event's time
    "quality/gx/",  # Great Expectations' stores: run ids, generated ids and timestamps in names and contents
    "quality/index.html",  # the quality page links to those time-named runs and shows when each ran
    "logs/",  # log lines carry times
)
BLANKED = (
    # the notice's record fingerprint: number of audit events (kept) and the start of the last hash (time-dependent)
    (re.compile(rb"(<code>[0-9]+-)[0-9a-f]+(</code>)"), rb"\1fingerprint\2"),
    # the leadership report's "generated at" minute
    (re.compile("生成于 [0-9-]+ [0-9:]+".encode()), "生成于 (time)".encode()),
    (re.compile(rb"generated [0-9-]+ [0-9:]+"), b"generated (time)"),
)


def read_digests(path: Path) -> dict[str, str]:
    digests = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split(None, 1)
            digests[name] = digest
    return digests


def write_digests(path: Path, digests: dict[str, str]) -> None:
    lines = [f"# SHA-256 of the demo's outputs; see tests/{Path(__file__).name} ({UPDATE}=1 rewrites it)"]
    lines += [f"{digest}  {name}" for name, digest in sorted(digests.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def quiet_settings(monkeypatch):
    """The demo as it runs with no FUND_* variable set (no as-of date, language or mail server of
    the developer's own)."""
    for name in list(os.environ):
        if name.startswith("FUND_") and name not in (UPDATE, "FUND_TEST_DATABASE_URL"):
            monkeypatch.delenv(name)


def test_the_demo_writes_the_committed_bytes(tmp_path, prefect_server, quiet_settings):
    cycle = Path(shutil.copytree(demo_folder(), tmp_path / "cycle"))
    code, text = fund("run", cycle, "--out", tmp_path / "out")
    assert code == 0, text
    digests = file_digests(tmp_path / "out", VOLATILE, BLANKED)
    assert len(digests) > 50 and "allocation/publicity.html" in digests
    if os.environ.get(UPDATE):
        write_digests(DIGESTS, digests)
        pytest.skip(f"{DIGESTS.name} written from this run: review its diff and commit it")
    committed = read_digests(DIGESTS)
    changed = sorted(name for name in digests.keys() & committed.keys() if digests[name] != committed[name])
    new = sorted(digests.keys() - committed.keys())
    missing = sorted(committed.keys() - digests.keys())
    assert not (changed or new or missing), (
        f"the demo's outputs differ from {DIGESTS.name} (if meant, rerun with {UPDATE}=1):\n"
        f"changed: {changed}\nnew: {new}\nmissing: {missing}"
    )


def test_the_list_reads_back_as_written(tmp_path):
    digests = {"a/b.csv": "0" * 64, "c d.html": "f" * 64}
    write_digests(tmp_path / "digests.txt", digests)
    assert read_digests(tmp_path / "digests.txt") == digests

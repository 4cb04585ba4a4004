"""Published numbers cannot change unnoticed: outputs edited or deleted by hand are restored
from the database and named; an award, a review or a payment changed in the database, and a
chain cut short or rewritten, make `fund audit verify` fail naming what changed — on SQLite
and on PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy
from typer.testing import CliRunner

from fund.cli import app
from fund.cli.cycle import demo_folder
from fund.tasks.store import default_db_url, dispose_engines
from conftest import postgres_schema

runner = CliRunner()


def fund(*args) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def reference(tmp_path_factory, prefect_server):
    base = tmp_path_factory.mktemp("integrity")
    cycle = Path(shutil.copytree(demo_folder(), base / "cycle"))
    code, text = fund("run", cycle, "--out", base / "out")
    assert code == 0, text
    return cycle, base / "out"


@pytest.fixture(scope="module")
def postgres_reference(tmp_path_factory, prefect_server):
    """The demo run once into a PostgreSQL schema of its own (tests undo what they change)."""
    with postgres_schema() as url:
        base = tmp_path_factory.mktemp("integrity-pg")
        cycle = Path(shutil.copytree(demo_folder(), base / "cycle"))
        code, text = fund("run", cycle, "--out", base / "out", "--db", url)
        assert code == 0, text
        yield cycle, base / "out", url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def finished(request, tmp_path):
    """(cycle, output folder, database URL) of a finished demo cycle that a test may tamper with."""
    if request.param == "sqlite":
        cycle, out = request.getfixturevalue("reference")
        copy = Path(shutil.copytree(out, tmp_path / "out"))
        yield cycle, copy, default_db_url(copy)
        return
    cycle, out, url = request.getfixturevalue("postgres_reference")
    copy = Path(shutil.copytree(out, tmp_path / "out"))
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as connection:  # what a test may change, to put back afterwards
        kept = {
            t: connection.execute(sqlalchemy.text(f"SELECT * FROM {t}")).mappings().all()
            for t in ("award", "review", "payment", "auditevent")
        }
    yield cycle, copy, url
    with engine.begin() as connection:
        for table, rows in kept.items():
            connection.execute(sqlalchemy.text(f"DELETE FROM {table}"))
            if rows:
                columns = list(rows[0].keys())
                connection.execute(
                    sqlalchemy.text(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"),
                    [dict(r) for r in rows],
                )
    engine.dispose()
    dispose_engines()


def execute(url: str, *statements: str) -> None:
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(sqlalchemy.text(statement))
    engine.dispose()
    dispose_engines()


def verify(cycle: Path, out: Path, url: str) -> tuple[int, str]:
    return fund("audit", "verify", cycle, "--out", out, "--db", url, "--lang", "en")


def test_an_untouched_cycle_verifies(finished):
    code, text = verify(*finished)
    assert code == 0 and "audit trail intact and the data matches it" in text, text


def test_outputs_edited_or_deleted_by_hand_are_restored_and_named(finished):
    cycle, out, url = finished
    sheet = sorted((out / "review" / "sheets").glob("*.csv"))[0].relative_to(out).as_posix()
    names = ["allocation/allocation.csv", "allocation/publicity.html", "evaluation/reviewers.csv", sheet]
    originals = {name: (out / name).read_bytes() for name in names}
    lines = (out / names[0]).read_text(encoding="utf-8-sig").splitlines(keepends=True)
    cells = lines[1].split(",")
    lines[1] = ",".join(cells[:7] + ["999000.00"] + cells[8:])  # an award in the published list
    (out / names[0]).write_text("".join(lines), encoding="utf-8-sig")
    (out / names[1]).write_text((out / names[1]).read_text(encoding="utf-8").replace("公示", "公告"), encoding="utf-8")
    (out / names[2]).unlink()
    with (out / sheet).open("a", encoding="utf-8") as handle:
        handle.write("scribbled\n")
    code, text = verify(cycle, out, url)
    assert code == 1 and "allocation/allocation.csv differs from what was written (changed)" in text, text
    assert "evaluation/reviewers.csv differs from what was written (removed)" in text
    code, text = fund("status", cycle, "--out", out, "--db", url, "--lang", "en")
    assert "4 output files differ from what was written" in text, text
    code, text = fund("run", cycle, "--out", out, "--db", url)
    assert code == 0, text
    first = text.splitlines()[0]
    assert first.startswith("↺ 输出文件: 已从数据库恢复 4 个被改动或删除的输出文件"), first
    assert all(name in first for name in names)
    assert "· 资金分配: 分配结果未变化" in text  # nothing was redone
    assert {name: (out / name).read_bytes() for name in names} == originals
    code, text = fund("audit", "show", cycle, "--out", out, "--db", url)
    assert "outputs_restored" in text and "evaluation/reviewers.csv" in text
    assert verify(cycle, out, url)[0] == 0


@pytest.mark.parametrize(
    "change, named",
    [
        (
            "UPDATE award SET awarded_fen = awarded_fen + 100000000 WHERE proposal_id = "
            "(SELECT min(proposal_id) FROM award WHERE status = 'funded')",
            "table award: 1 records changed",
        ),
        (
            "UPDATE review SET comment = 'changed' WHERE proposal_id = 'P0001' AND reviewer_id = "
            "(SELECT min(reviewer_id) FROM review WHERE proposal_id = 'P0001')",
            "table review: 1 records changed",
        ),
        ("UPDATE payment SET amount_fen = amount_fen * 10", "records changed after audit event"),
        ("DELETE FROM payment WHERE proposal_id = (SELECT min(proposal_id) FROM payment)", "table payment: 1 records removed"),
    ],
)
def test_changed_data_is_named(finished, change, named):
    cycle, out, url = finished
    execute(url, change)
    code, text = verify(cycle, out, url)
    assert code == 1 and named in text, text


def test_a_chain_cut_short_is_found(finished):
    cycle, out, url = finished
    execute(url, "DELETE FROM auditevent WHERE id = (SELECT max(id) FROM auditevent)")
    code, text = verify(cycle, out, url)
    assert code == 1 and "the audit trail was cut short" in text, text
    execute(url, "DELETE FROM auditevent")
    code, text = verify(cycle, out, url)
    assert code == 1 and "the database holds 0 events" in text, text


def rewrite_chain(url: str) -> None:
    """What an adversary with database access does: change a payload, recompute the plain SHA-256 chain."""
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        rows = connection.execute(
            sqlalchemy.text("SELECT id, cycle_id, at, actor, action, subject, detail FROM auditevent ORDER BY id")
        ).all()
        prev = "0" * 64
        for row in rows:
            fields = dict(zip(("cycle_id", "at", "actor", "action", "subject", "detail"), row[1:]))
            if row[0] == rows[0][0]:
                fields["detail"] = fields["detail"].replace('"done"', '"DONE"')
            digest = hashlib.sha256((prev + json.dumps(fields, sort_keys=True, ensure_ascii=False)).encode()).hexdigest()
            connection.execute(
                sqlalchemy.text("UPDATE auditevent SET detail = :d, prev_hash = :p, hash = :h WHERE id = :i"),
                {"d": fields["detail"], "p": prev, "h": digest, "i": row[0]},
            )
            prev = digest
    engine.dispose()
    dispose_engines()


def test_a_rewritten_chain_is_found_by_its_kept_head(finished):
    cycle, out, url = finished
    rewrite_chain(url)
    code, text = verify(cycle, out, url)
    assert code == 1 and "the audit trail was rewritten" in text, text


def test_with_a_key_the_chain_cannot_be_rewritten(tmp_path, prefect_server, monkeypatch):
    monkeypatch.setenv("FUND_AUDIT_KEY", "the district's secret")
    cycle = Path(shutil.copytree(demo_folder(), tmp_path / "cycle"))
    out = tmp_path / "out"
    (cycle / "reviewers.csv").unlink()  # a short cycle: intake only
    assert fund("run", cycle, "--out", out)[0] == 0
    url = default_db_url(out)
    assert verify(cycle, out, url)[0] == 0
    (out / "audit" / "head.json").unlink()  # even without the kept head
    rewrite_chain(url)
    code, text = verify(cycle, out, url)
    assert code == 1 and "no event of the audit trail matches FUND_AUDIT_KEY" in text, text
    monkeypatch.delenv("FUND_AUDIT_KEY")
    assert verify(cycle, out, url)[0] == 0  # as the adversary sees it without the key


def test_a_proposals_history(reference):
    cycle, out = reference
    code, text = fund("audit", "show", cycle, "--out", out, "--proposal", "P0001")
    assert code == 0 and "payment  P0001/signing" in text, text
    code, text = fund("audit", "show", cycle, "--out", out, "--proposal", "P9999", "--lang", "en")
    assert code == 1 and "there is no proposal P9999" in text


def test_the_public_notice_carries_the_fingerprint(reference):
    _, out = reference
    head = json.loads((out / "audit" / "head.json").read_text(encoding="utf-8"))
    assert head["events"] > 0 and len(head["hash"]) == 64

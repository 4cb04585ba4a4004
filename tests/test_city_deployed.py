"""A city on a real Prefect server with PostgreSQL and two process workers: four districts
started at once through the `city-cycle` deployment (`fund city run`) write exactly what each
writes alone, one keeps its tables in a schema of its own, and the city overview lists all
four (deploy/city_check.py does the setting up and the cleaning up)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import sqlalchemy

from builders import file_digests
from fund.schemas.city import load_city
from test_city import districts_csv

ROOT = Path(__file__).resolve().parent.parent


def load_city_check():
    spec = importlib.util.spec_from_file_location("fund_city_check", ROOT / "deploy" / "city_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.postgres
def test_four_districts_at_once_on_two_workers_write_what_each_writes_alone(tmp_path):
    from test_demo_digests import BLANKED, VOLATILE
    from test_deploy import database_url

    city_check = load_city_check()
    check = city_check.CityCheck(database_url(), districts=4, proposals=30, workers=2, limit=1, log=print)
    try:
        check.start()
        city_file = check.city_file  # 朝阳区 keeps its tables in a PostgreSQL schema of its own
        city_file.write_text(
            city_file.read_text(encoding="utf-8").replace('out = "d02/out"\n', 'out = "d02/out"\nschema = "city_d02"\n'),
            encoding="utf-8",
        )
        run = check.run_city(timeout=600)
        assert run.returncode == 0, run.output
        assert run.output.count("✓") == 4 and "4 个区县，完成 4 个，等待审批 0 个，停止 0 个，仍在运行 0 个" in run.output, (
            run.output
        )
        solo = check.run_solo(tmp_path / "solo", at_once=2)
        for district in load_city(check.city_file).districts:
            together = file_digests(district.out_dir, VOLATILE, BLANKED)
            alone = file_digests(solo[district.name], VOLATILE, BLANKED)
            assert together == alone, district.name
            assert len(together) > 40
        report = check.city_report()  # the weekly deployment's run, on a worker
        assert report["state"]["type"] == "COMPLETED" and "index.html" in report["state"]["message"]
        rows = districts_csv(check.overview)
        assert [r["district"] for r in rows] == ["南关区", "朝阳区", "宽城区", "绿园区"]
        assert all(r["ran"] == "yes" and r["last_stage"] == "report" for r in rows)
        assert run.peak_connections > 0 and len(run.peak_worker_rss_mb) == 2
        engine = sqlalchemy.create_engine(check.product_db)
        try:
            with engine.connect() as connection:
                count = "SELECT count(*) FROM {}.stagerun WHERE cycle_id = '2026-nanguan-2027'"
                assert connection.execute(sqlalchemy.text(count.format("city_d02"))).scalar_one() > 0
                assert connection.execute(sqlalchemy.text(count.format("public"))).scalar_one() == 0
        finally:
            engine.dispose()
    finally:
        check.cleanup()
        print(check.result.table())
    assert check.databases == [] and not check.tmp.exists()
    for service in check.services:
        assert service.process.poll() is not None, f"the {service.name} is still running"

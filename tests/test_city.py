"""A city: many districts' cycles on one installation (city.toml, `fund city check|run|report`).

The city file is checked before anything starts (exit 2 naming the district and the key); the
city overview reads every district's database with the numbers of the district's own
leadership report; on a real Prefect server with PostgreSQL and two workers, four districts
run at once through the deployment and write exactly what each writes alone."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fund.data.generate import generate_city
from fund.schemas.city import CityError, load_city

ROOT = Path(__file__).resolve().parent.parent
FUND = [sys.executable, "-m", "fund"]


def fund(*args: str, **environment: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API") and k != "FUND_DATABASE_URL"}
    env.update(environment)
    return subprocess.run(FUND + list(args), capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    """Two small districts run alone with `fund run` (SQLite in each output folder); between
    the two runs, a first overview (overview-first/) while 朝阳区 had not run yet."""
    city_file = generate_city(tmp_path_factory.mktemp("city"), districts=2, proposals=30)
    first = load_city(city_file).districts
    for number, district in enumerate(first):
        if number == 1:
            done = fund("city", "report", str(city_file), "--out", str(city_file.parent / "overview-first"))
            assert done.returncode == 0, done.stderr
            assert not (district.out_dir / "fund.db").exists()  # reading the overview creates no database
        done = fund("run", str(district.cycle_dir), "--out", str(district.out_dir), "--quiet")
        assert done.returncode == 0, done.stdout + done.stderr
    return city_file


def rewritten(city_file: Path, tmp_path: Path, old: str, new: str) -> Path:
    copy = tmp_path / "city.toml"
    text = city_file.read_text(encoding="utf-8").replace(old, new, 1)
    copy.write_text(
        text.replace('cycle = "d', f'cycle = "{city_file.parent}/d').replace('out = "d', f'out = "{city_file.parent}/d')
    )
    return copy


# -- the city file -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key", "words"),
    [
        ('name = "朝阳区"', 'name = "南关区"', "district_twice", ["district[2].name", "南关区"]),
        ('cycle = "d02/cycle"', 'cycle = "d09/cycle"', "cycle_folder_missing", ["district[2].cycle", "朝阳区", "d09"]),
        (
            'cycle = "d02/cycle"',
            'cycle = "d01/cycle"',
            "cycle_id_twice",
            ["district[2].cycle", "朝阳区", "南关区", "2026-nanguan-2026"],
        ),
        ('out = "d02/out"', 'out = "d01/out"', "out_twice", ["district[2].out", "朝阳区", "南关区"]),
        ('contact = "朝阳区', 'phone_number = "1"\ncontact = "朝阳区', "key_unknown", ["district[2].phone_number"]),
        ('name = "长春市"', "", "key_missing", ["city.name"]),
        ('contact = "朝阳区', 'schema = "Bad-Name"\ncontact = "朝阳区', "key_bad", ["district[2].schema"]),
    ],
)
def test_a_bad_city_file_is_exit_2_naming_the_district_and_nothing_starts(city, tmp_path, old, new, key, words):
    bad = rewritten(city, tmp_path, old, new)
    with pytest.raises(CityError) as caught:
        load_city(bad)
    assert caught.value.key == key
    done = fund("city", "run", str(bad))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    for word in words:
        assert word in done.stderr, (word, done.stderr)
    assert "未启动任何区县的运行" in done.stderr


def test_a_district_whose_cycle_toml_is_bad_is_named_with_its_key(city, tmp_path):
    broken = tmp_path / "d03" / "cycle"
    shutil.copytree(city.parent / "d02" / "cycle", broken)
    config = broken / "cycle.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("[weights]\nexpert = 0.7", "[weights]\nexpert = 0.8"), encoding="utf-8"
    )
    bad = rewritten(city, tmp_path, 'cycle = "d02/cycle"', f'cycle = "{broken}"')
    done = fund("city", "check", str(bad), "--lang", "en")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "district[2].cycle (district 朝阳区): its cycle.toml is not usable (weights)" in done.stderr
    assert "no district was started" in done.stderr


def test_city_run_without_a_server_says_it_needs_one(city, tmp_path):
    done = fund("city", "run", str(city), PREFECT_HOME=str(tmp_path / "prefect-home"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "PREFECT_API_URL" in done.stderr and "deploy/README.md" in done.stderr


@pytest.mark.parametrize("name", ["city-cycle", "city", "city-report"])
def test_the_city_deployments_name_flows_and_parameters_that_exist(name):
    import importlib
    import inspect

    from fund.flows import deployments

    spec = deployments.deployment_spec(name)
    path, _, attribute = spec["entrypoint"].partition(":")
    flow = getattr(importlib.import_module(path.removesuffix(".py").replace("/", ".")), attribute)
    assert set(spec["parameters"]) <= set(inspect.signature(flow.fn).parameters)
    assert spec["work_pool"]["name"] == "fund-process"
    if name == "city-cycle":  # districts side by side: no deployment-wide one-at-a-time limit
        assert "concurrency_limit" not in spec and "schedules" not in spec
        assert {"cycle_dir", "out_dir"} - set(spec["parameters"]) == {"cycle_dir", "out_dir"}  # given per run
    else:
        assert spec["concurrency_limit"]["limit"] == 1
        assert [s["timezone"] for s in spec["schedules"]] == ["Asia/Shanghai"]


def test_the_daily_city_run_on_a_bad_city_file_fails_with_the_reason(tmp_path, prefect_server):
    from fund.flows.city import city_flow

    state = city_flow(str(tmp_path / "missing.toml"), "en", return_state=True)
    assert state.is_failed() and f"no such city file: {tmp_path / 'missing.toml'}" in state.message


def test_the_summary_lists_every_districts_outcome_and_a_stop_holds_no_one_up(tmp_path):
    from fund.flows.city import DistrictRun, city_summary, district_line
    from fund.schemas.city import City

    def district(name: str):
        return load_city(generate_city(tmp_path / name, districts=1, proposals=30)).districts[0]

    one = district("a")
    runs = [
        DistrictRun(one, "1", "r1", "COMPLETED", "Completed", "领导报告已生成：…"),
        DistrictRun(one, "2", "r2", "FAILED", "Failed", "资金分配规则无法同时满足：…\n第二行"),
        DistrictRun(one, "3", "r3", "PAUSED", "Suspended", ""),
        DistrictRun(one, "4", "r4", "RUNNING", "Running", ""),
    ]
    lines = [district_line(r, "zh") for r in runs]
    assert lines[0] == "✓ 南关区（2026-nanguan-2026）：领导报告已生成：…"
    assert lines[1] == "✗ 南关区（2026-nanguan-2026）：运行结束，状态 Failed：资金分配规则无法同时满足：…"
    assert lines[2].startswith("… 南关区") and "等待审批" in lines[2]
    assert lines[3] == "? 南关区（2026-nanguan-2026）：超过等待时间仍未结束（状态：Running）"
    city = City("长春市", tmp_path / "city.toml", (one,))
    assert (
        city_summary(city, runs, 12.3, "en")
        == "长春市: 4 districts, 1 completed, 1 waiting for approval, 1 stopped, 1 still running; 12 s"
    )


# -- the city overview ---------------------------------------------------------------------


def districts_csv(folder: Path) -> list[dict]:
    with open(folder / "districts.csv", encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_overview_lists_every_district_with_its_own_reports_numbers(city, tmp_path):
    done = fund("city", "report", str(city), "--out", str(tmp_path / "overview"))
    assert done.returncode == 0, done.stderr
    rows = districts_csv(tmp_path / "overview")
    assert [r["district"] for r in rows] == ["南关区", "朝阳区"]
    for row, district in zip(rows, load_city(city).districts):
        status = list(csv.DictReader(open(district.out_dir / "reports" / "status.csv", encoding="utf-8-sig", newline="")))
        assert row["ran"] == "yes" and int(row["projects"]) == len(status)
        fen = lambda text: int(text.replace(".", "")) if text else 0  # noqa: E731
        committed = sum(fen(s["awarded"]) - fen(s["returned"]) for s in status)
        assert fen(row["committed"]) == committed > 0  # to the fen
        assert fen(row["disbursed"]) == sum(fen(s["disbursed"]) for s in status)
        assert row["cycle_id"] == district.cycle_id and row["last_stage"] == "report"
    page = (tmp_path / "overview" / "index.html").read_text(encoding="utf-8")
    for words in ("长春市公益创投城市总览", "南关区", "朝阳区", "南关区民政局社会组织科", "南关区2026年度公益创投（第一批）"):
        assert words in page
    assert "<script" not in page and "http" not in page.replace("http-equiv", "")


def test_a_district_not_run_yet_is_shown_and_the_next_overview_says_what_changed(city, tmp_path):
    overview = tmp_path / "overview"
    shutil.copytree(city.parent / "overview-first", overview)
    rows = districts_csv(overview)
    assert rows[1]["district"] == "朝阳区" and rows[1]["ran"] == "no" and rows[1]["committed"] == "0.00"
    assert rows[0]["ran"] == "yes"
    assert "该区县的周期尚未运行" in (overview / "index.html").read_text(encoding="utf-8")
    assert fund("city", "report", str(city), "--out", str(overview)).returncode == 0  # 朝阳区 has run since
    rows = districts_csv(overview)
    assert rows[1]["ran"] == "yes" and rows[1]["committed"] != "0.00"
    page = (overview / "index.html").read_text(encoding="utf-8")
    assert page.count("较上次 +") >= 2  # 朝阳区: committed, disbursed… since the first overview
    assert "上次总览" in page and "该区县的周期尚未运行" not in page


@pytest.mark.parametrize("width", (390, 1280))
def test_the_overview_reads_on_a_phone_and_loads_nothing_from_the_network(city, tmp_path, width):
    from browser import Browser, offsite

    assert fund("city", "report", str(city), "--out", str(tmp_path)).returncode == 0
    browser = Browser()  # skips without Chromium (fails in CI)
    try:
        browser.open(tmp_path / "index.html", width)
        assert offsite(browser.requests()) == []
        assert browser.horizontal_overflow() == 0, f"the overview scrolls sideways at {width} px"
        text = browser.text()
        assert "南关区" in text and "朝阳区" in text and "数据截至" in text
        sizes = browser.js(
            "return [...document.querySelectorAll('.bar-head .lbl')].map(e => parseFloat(getComputedStyle(e).fontSize))"
        )
        assert sizes and min(sizes) >= 14  # the chart's labels are text, not shrunken SVG
    finally:
        browser.quit()


# -- a district across the years -------------------------------------------------------------


def test_a_districts_report_shows_its_cycles_across_the_years(city, tmp_path):
    """南关区's 2025 batch run into the database of its 2026 batch (the city fixture's): both
    cycles name `[cycle] district = "南关区"`, so its report shows the two, oldest first."""
    from fund.data.generate import generate_cycle

    nanguan = load_city(city).districts[0]
    folder = generate_cycle(tmp_path / "2025" / "cycle", 30, 2027)
    config = folder / "cycle.toml"
    text = config.read_text(encoding="utf-8").replace("南关区2026年度", "南关区2025年度", 1)
    text = text.replace('id = "2026-nanguan-2027"', 'id = "2025-nanguan"', 1)
    config.write_text(text.replace("[cycle]\n", '[cycle]\ndistrict = "南关区"\n', 1), encoding="utf-8")
    database = f"sqlite:///{nanguan.out_dir / 'fund.db'}"
    done = fund("run", str(folder), "--out", str(tmp_path / "2025" / "out"), "--db", database, "--quiet")
    assert done.returncode == 0, done.stdout + done.stderr
    page = (tmp_path / "2025" / "out" / "reports" / "index.html").read_text(encoding="utf-8")
    section = page[page.index("历年对比") :]
    section = section[: section.index("</section>")]
    table = section[section.index("<table>") :]
    assert table.index("<b>南关区2025年度") < table.index("南关区2026年度")  # oldest first, this one in bold
    assert section.index("南关区2025年度") < section.index("南关区2026年度")  # the bars too
    assert "历年对比" not in (nanguan.out_dir / "reports" / "index.html").read_text(encoding="utf-8")  # written before

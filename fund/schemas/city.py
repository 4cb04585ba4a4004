"""`city.toml`: the districts one installation runs (`fund city run`, `fund city report`).

    [city]
    name = "滨江市"                     # the city (or province) whose bureau runs the installation

    [[district]]
    name = "南关区"                     # unique in the file
    cycle = "nanguan/cycle"            # the district's cycle folder (relative to this file)
    out = "nanguan/out"                # its output folder (relative to this file)
    contact = "张科长"                  # optional: who answers for it, and how
    phone = "0431-12345678"
    email = "gongyi@nanguan.example.gov.cn"
    schema = "nanguan"                 # optional, PostgreSQL: the district's tables in a schema of their own

Any problem raises `CityError`, which says it in Chinese or English (the command exits 2,
before anything starts): a
missing key, a folder that does not exist, a district named twice, two districts with one cycle
id or one output folder, a district whose cycle.toml is not usable.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fund.schemas.config import ConfigError, CycleConfig, load_config


PROBLEMS: dict[str, tuple[str, str]] = {
    "file_missing": ("找不到城市配置文件：{f}", "no such city file: {f}"),
    "file_not_utf8": ("城市配置文件 {f} 须以 UTF-8 编码保存", "the city file {f} must be saved as UTF-8"),
    "file_not_toml": ("城市配置文件 {f} 不是有效的 TOML：{p}", "the city file {f} is not valid TOML: {p}"),
    "key_missing": ("城市配置文件 {f}：缺少必填项 {k}", "city file {f}: the required key {k} is missing"),
    "key_unknown": ("城市配置文件 {f}：无法识别的项 {k}", "city file {f}: unknown key {k}"),
    "key_bad": ("城市配置文件 {f}：{k} 有误（{p}）", "city file {f}: {k} is not usable ({p})"),
    "district_twice": ("城市配置文件 {f}：{k} 区县“{n}”重复出现", "city file {f}: {k} names the district {n} a second time"),
    "cycle_folder_missing": (
        "城市配置文件 {f}：{k} 区县“{n}”的周期文件夹不存在：{d}",
        "city file {f}: {k} (district {n}): no such cycle folder: {d}",
    ),
    "cycle_not_usable": (
        "城市配置文件 {f}：{k} 区县“{n}”的 cycle.toml 有误（{c}）：{p}",
        "city file {f}: {k} (district {n}): its cycle.toml is not usable ({c}): {p}",
    ),
    "cycle_id_twice": (
        "城市配置文件 {f}：{k} 区县“{n}”与“{o}”的周期编号相同（{c}），每个区县的周期须有自己的编号",
        "city file {f}: {k} (district {n}) has the cycle id {c} of district {o}; each district's cycle needs an id of its own",
    ),
    "schema_twice": (
        "城市配置文件 {f}：{k} 区县“{n}”与“{o}”使用同一个数据库 schema {s}",
        "city file {f}: {k} (district {n}) uses the database schema of district {o}: {s}",
    ),
    "out_twice": (
        "城市配置文件 {f}：{k} 区县“{n}”与“{o}”使用同一个输出文件夹 {d}",
        "city file {f}: {k} (district {n}) uses the output folder of district {o}: {d}",
    ),
}


class CityError(Exception):
    """city.toml cannot be used: `key` names the problem in PROBLEMS, `params` fill its sentence."""

    def __init__(self, key: str, **params):
        super().__init__(PROBLEMS[key][1].format(**params))
        self.key = key
        self.params = params

    def text(self, lang: str) -> str:
        return PROBLEMS[self.key][1 if lang == "en" else 0].format(**self.params)


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CitySection(_Entry):
    name: str = Field(min_length=1, max_length=100)


class DistrictEntry(_Entry):
    name: str = Field(min_length=1, max_length=100)
    cycle: str = Field(min_length=1)
    out: str = Field(min_length=1)
    contact: str = ""
    phone: str = ""
    email: str = ""
    schema_: str | None = Field(default=None, alias="schema", pattern=r"^[a-z_][a-z0-9_]{0,62}$")


class CityFile(_Entry):
    city: CitySection
    district: list[DistrictEntry] = Field(min_length=1)


@dataclass(frozen=True)
class District:
    name: str
    cycle_dir: Path
    out_dir: Path
    cfg: CycleConfig
    contact: str = ""
    phone: str = ""
    email: str = ""
    schema: str | None = None  # on PostgreSQL: the schema its tables live in (None: the database's own)

    @property
    def cycle_id(self) -> str:
        return self.cfg.cycle.id


@dataclass(frozen=True)
class City:
    name: str
    path: Path
    districts: tuple[District, ...]


def load_city(path: Path) -> City:
    path = Path(path)
    if not path.is_file():
        raise CityError("file_missing", f=path)
    try:
        raw = tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise CityError("file_not_utf8", f=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise CityError("file_not_toml", f=path, p=str(exc)) from None
    try:
        parsed = CityFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "".join(f"[{part + 1}]" if isinstance(part, int) else f".{part}" for part in first["loc"]).lstrip(".")
        if first["type"] == "missing":
            raise CityError("key_missing", f=path, k=where) from None
        if first["type"] == "extra_forbidden":
            raise CityError("key_unknown", f=path, k=where) from None
        raise CityError("key_bad", f=path, k=where, p=first["msg"].removeprefix("Value error, ")) from None
    folder = path.resolve().parent
    districts: list[District] = []
    for number, entry in enumerate(parsed.district, start=1):
        where = f"district[{number}]"
        if any(d.name == entry.name.strip() for d in districts):
            raise CityError("district_twice", f=path, k=f"{where}.name", n=entry.name.strip())
        cycle_dir = (folder / entry.cycle).resolve()
        out_dir = (folder / entry.out).resolve()
        if not cycle_dir.is_dir():
            raise CityError("cycle_folder_missing", f=path, k=f"{where}.cycle", n=entry.name, d=cycle_dir)
        try:
            cfg = load_config(cycle_dir)
        except ConfigError as exc:
            raise CityError("cycle_not_usable", f=path, k=f"{where}.cycle", n=entry.name, c=exc.key, p=exc.problem) from None
        for other in districts:
            if other.cycle_id == cfg.cycle.id:
                raise CityError("cycle_id_twice", f=path, k=f"{where}.cycle", n=entry.name, o=other.name, c=cfg.cycle.id)
            if other.out_dir == out_dir:
                raise CityError("out_twice", f=path, k=f"{where}.out", n=entry.name, o=other.name, d=out_dir)
            if entry.schema_ and other.schema == entry.schema_:
                raise CityError("schema_twice", f=path, k=f"{where}.schema", n=entry.name, o=other.name, s=entry.schema_)
        districts.append(
            District(
                entry.name.strip(),
                cycle_dir,
                out_dir,
                cfg,
                entry.contact.strip(),
                entry.phone.strip(),
                entry.email.strip(),
                entry.schema_,
            )
        )
    return City(parsed.city.name.strip(), path.resolve(), tuple(districts))

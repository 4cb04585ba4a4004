"""Generates the front of a cycle for a cycle folder: the needs list residents raised (needs.csv,
三征), the resources units in the area pledge (resources.csv, 三筹) and the needs each proposal
answers (a need_ids column added to proposals.csv), seeded and deterministic.

    python -m fund.data.needs CYCLE_DIR [--seed 2026] [--broken]

Each proposal answers the need of its street, service group and topic (its title's theme); a
few answer a second one. About 8 needs per street, some of them asked for by nobody's proposal
(left for the next call). `broken` adds rows broken the ways real ones break, on needs and
proposals that no rule depends on, so the allocation does not change.

The bundled demo's lists were made with `--seed 2044 --broken` on its folder: a seed whose urgent
needs include two that the merit policy leaves unmet and the optimal policy covers, while the rule
"urgent needs coverage" does not change which projects the optimal policy funds (so the demo's
progress reports and payments still belong to the funded projects).
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

CATEGORY_KEYS = {
    "elderly": "elderly",
    "为老": "elderly",
    "children": "children",
    "为小": "children",
    "disabled": "disabled",
    "为残": "disabled",
    "hardship": "hardship",
    "为困": "hardship",
    "other": "other",
    "其他": "other",
}
# in the order of the proposal titles' themes (fund.data.generate.TITLES): theme k answers need k
NEED_TITLES = {
    "elderly": [
        "独居老人吃饭难",
        "老年人不会用智能手机",
        "高龄老人无人定期探访",
        "老年人慢病缺少日常监测",
        "失能老人家属照护压力大",
    ],
    "children": [
        "双职工家庭孩子放学后无人看护",
        "学龄前儿童缺少托管",
        "留守儿童缺少陪伴",
        "青少年缺少课外阅读场所",
        "暑期儿童安全隐患多",
    ],
    "disabled": [
        "残疾人缺少社区康复训练",
        "残疾人就业技能不足",
        "残障儿童缺少融合活动",
        "视障人士出行不便",
        "心智障碍者白天无人照料",
    ],
    "hardship": [
        "困难家庭日常物资短缺",
        "低保家庭缺少持续帮扶",
        "困境青年就业难",
        "冬季取暖与御寒物资不足",
        "困难群众心理压力大",
    ],
    "other": ["邻里关系疏远", "楼院环境脏乱", "缺少党群议事空间", "社区文化活动少", "老旧小区改造意见分歧大"],
}
THEMES = {  # fund.data.generate.TITLES, by group
    "elderly": ["空巢老人助餐服务", "老年人智能手机课堂", "高龄老人居家探访", "银龄互助健康小站", "失能老人喘息服务"],
    "children": ["四点半课堂", "社区儿童管护班", "留守儿童成长陪伴", "青少年阅读空间", "暑期安全教育营"],
    "disabled": ["残疾人康复陪伴", "助残就业技能培训", "残障儿童融合游戏", "视障人士出行助力", "心智障碍者日间照料"],
    "hardship": ["困难家庭微超市", "低保家庭帮扶计划", "困境青年就业帮扶", "冬季温暖包行动", "困难群众心理疏导"],
    "other": ["社区邻里节", "楼院环境共治", "红色自治庭院", "社区微舞台", "老旧小区议事会"],
}
SOURCES = ["入户走访", "居民议事会", "网格员排查", "12345 热线", "社区党委征集", "驻区单位座谈"]
URGENCIES = ["高", "中", "中", "低", "high", "medium", "low", "中"]
UNITS = [
    "南关区人民医院",
    "长春银行南关支行",
    "吉林省实验中学",
    "万科物业南关服务中心",
    "南关区税务局",
    "大成超市南关店",
    "区消防救援大队",
    "南关区图书馆",
    "吉林大学社会工作系",
    "华润燃气南关营业厅",
    "南关区工商联",
    "市第二实验小学",
]
NEEDS_HEADER = ["need_id", "street", "community", "group", "title", "description", "source", "people", "urgency", "raised_on"]
RESOURCES_HEADER = ["resource_id", "unit", "kind", "amount", "street", "community", "pledged_to"]
NEEDS_TOML = """
[needs]                       # the needs list (needs.csv): urgent needs first
cover_urgent = true           # optimal policy: each urgent need a fundable proposal answers gets one funded
require_need = false          # true: a proposal that names no need of needs.csv is not eligible
"""


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def theme_of(title: str, group: str) -> int:
    return next((k for k, theme in enumerate(THEMES[group]) if title.endswith(theme)), 0)


def add_needs(folder: Path, seed: int = 2026, broken: bool = False, per_street: int = 8) -> None:
    """needs.csv, resources.csv and a need_ids column on proposals.csv; `[needs]` in cycle.toml."""
    folder = Path(folder)
    rng = random.Random(f"needs-{seed}")
    header, proposals = _read(folder / "proposals.csv")
    col = {name: header.index(name) for name in ("proposal_id", "category", "street", "community", "title")}
    needs: dict[tuple[str, str, int], list] = {}
    answers: dict[int, list[str]] = {}
    streets: dict[str, list[str]] = {}
    for k, row in enumerate(proposals):
        group = CATEGORY_KEYS.get(row[col["category"]])
        street, community = row[col["street"]], row[col["community"]]
        streets.setdefault(street, [])
        if community not in streets[street]:
            streets[street].append(community)
        if group is None or k % 9 == 8:  # an unknown category, and about one in nine: answers no need
            continue
        key = (street, group, theme_of(row[col["title"]], group))
        if key not in needs:
            needs[key] = _need(rng, key, community)
        answers[k] = [key]
    for street, communities in sorted(streets.items()):  # needs nobody's proposal answers yet
        while sum(1 for key in needs if key[0] == street) < per_street:
            group = rng.choice(list(NEED_TITLES))
            key = (street, group, rng.randrange(5))
            if key not in needs:
                needs[key] = _need(rng, key, rng.choice(communities))
    ordered = sorted(needs, key=lambda key: (key[0], list(NEED_TITLES).index(key[1]), key[2]))
    ids = {key: f"N{i + 1:03d}" for i, key in enumerate(ordered)}
    for k, keys in answers.items():  # about one in six answers a second need of its street and group
        street, group, theme = keys[0]
        second = (street, group, (theme + 1) % 5)
        if rng.random() < 0.17 and second in needs:
            keys.append(second)
    rows = [[ids[key], *needs[key]] for key in ordered]
    need_ids = {k: ";".join(sorted(ids[key] for key in keys)) for k, keys in answers.items()}
    if broken:
        _break_needs(rows, proposals, need_ids, col, ids, ordered)
    _write(folder / "needs.csv", NEEDS_HEADER, rows)
    _write(folder / "proposals.csv", [*header, "need_ids"], [[*row, need_ids.get(k, "")] for k, row in enumerate(proposals)])
    _write(folder / "resources.csv", RESOURCES_HEADER, _resources(rng, rows, proposals, col, broken))
    with (folder / "cycle.toml").open("a", encoding="utf-8") as handle:
        handle.write(NEEDS_TOML)


def _need(rng: random.Random, key: tuple[str, str, int], community: str) -> list:
    street, group, theme = key
    title = NEED_TITLES[group][theme]
    return [
        street,
        community,
        group
        if rng.random() < 0.5
        else {"elderly": "为老", "children": "为小", "disabled": "为残", "hardship": "为困", "other": "其他"}[group],
        title,
        f"{community}居民反映：{title}，希望社区协调解决。",
        rng.choice(SOURCES),
        rng.randint(8, 300),
        rng.choice(URGENCIES),
        f"2026-{rng.randint(1, 2):02d}-{rng.randint(1, 28):02d}",
    ]


def _resources(rng: random.Random, needs: list[list], proposals: list[list], col: dict[str, int], broken: bool) -> list[list]:
    rows = []
    by_street: dict[str, list[str]] = {}
    for row in proposals:
        by_street.setdefault(row[col["street"]], []).append(row[col["proposal_id"]])
    for i in range(max(12, len(needs) * 3 // 8)):
        need = rng.choice(needs)
        street, community = need[1], need[2]
        kind = rng.choice(["money", "资金", "venue", "volunteers", "志愿者", "goods", "场地", "物资"])
        amount = {
            "money": f"{rng.randrange(2_000, 60_001, 500)}.00",
            "资金": f"{rng.randrange(2_000, 60_001, 500):,}.00",
            "venue": rng.randint(6, 48),
            "场地": rng.randint(6, 48),
            "volunteers": rng.randint(20, 240),
            "志愿者": rng.randint(20, 240),
            "goods": rng.randint(30, 600),
            "物资": rng.randint(30, 600),
        }[kind]
        target = rng.random()
        pledged = need[0] if target < 0.4 else rng.choice(by_street.get(street, [""])) if target < 0.7 else ""
        rows.append([f"R{i + 1:03d}", rng.choice(UNITS), kind, amount, street, community if target < 0.8 else "", pledged])
    if broken:
        rows.append([f"R{len(rows) + 1:03d}", "南关区人民医院", "场地", "两间会议室", needs[0][1], "", ""])  # not a quantity
        rows.append(
            [f"R{len(rows) + 1:03d}", "长春银行南关支行", "资金", "20000.00", needs[0][1], "", "N999"]
        )  # pledged to nothing
        rows.append(list(rows[2]))  # the same id twice
    return rows


def _break_needs(
    rows: list[list], proposals: list[list], need_ids: dict[int, str], col: dict[str, int], ids: dict, ordered: list
) -> None:
    """Broken rows on needs no proposal answers, and need ids on proposals that are ineligible anyway."""
    answered = {nid for value in need_ids.values() for nid in value.split(";")}
    free = [row for row in rows if row[0] not in answered]
    free[0][8] = "紧急"  # an urgency that is not high/medium/low
    rows.append([free[1][0], *free[2][1:]])  # one need id on two different rows
    for k, row in enumerate(proposals):
        if row[col["proposal_id"]] == "P0003":  # ineligible already: org failed inspection
            other = next(key for key in ordered if key[0] != row[col["street"]])
            need_ids[k] = ids[other]  # a need of another street
        if row[col["proposal_id"]] == "P0006":  # ineligible already: asks above the maximum
            need_ids[k] = "N998"  # a need that is not on the list


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--broken", action="store_true")
    args = parser.parse_args()
    add_needs(args.folder, args.seed, args.broken)
    print(args.folder)


if __name__ == "__main__":
    main()

"""Generates a complete, realistic cycle folder of any size, seeded and deterministic.

    python -m fund.data.generate OUT_DIR --proposals 60 [--broken] [--seed 2026] [--needs]

Organizations, proposals, budget lines, reviewers and community ratings are drawn
from a seeded random generator; the reviewers' filled score sheets are made by
running the product's own assignment and scoring rules (first round, then third
reviews and conflict replacements) so the folder runs end to end. `--broken` adds a
handful of rows broken in different ways (the bundled demo has them). `--needs` adds the
needs list (needs.csv), the resources pledged (resources.csv) and the needs each proposal
answers (`add_needs`, which also works on an existing cycle folder, as the demo's were made).
"""

from __future__ import annotations

import argparse
import csv
import random
from collections import defaultdict
from pathlib import Path

from fund.schemas.config import load_config
from fund.tasks.assignment import assign_initial, assign_more, read_reviewers, validate_reviewers
from fund.data.needs import add_needs
from fund.tasks.intake import read_intake, validate_intake
from fund.tasks.needs import read_needs_lists
from fund.schemas.cells import credit_check_char
from fund.tasks.scoring import evaluate, read_ratings, read_score_sheets, validate_ratings, validate_reviews

STREETS = [
    "永吉街道",
    "南岭街道",
    "自强街道",
    "民康街道",
    "新春街道",
    "长通街道",
    "全安街道",
    "曙光街道",
    "鸿城街道",
    "明珠街道",
    "桃源街道",
    "永兴街道",
]
COMMUNITY_WORDS = [
    "丰顺",
    "平安",
    "福祉",
    "东盛",
    "兴隆",
    "华阳",
    "康宁",
    "和睦",
    "春晖",
    "锦园",
    "翠湖",
    "东风",
    "新民",
    "幸福",
    "友谊",
    "光明",
    "长青",
    "育才",
    "清华",
    "德政",
]
ORG_WORDS = [
    "仁爱",
    "同心",
    "暖阳",
    "善行",
    "邻里",
    "红烛",
    "春雨",
    "益家",
    "馨港",
    "乐龄",
    "童心",
    "阳光",
    "爱心",
    "和美",
    "筑梦",
    "启航",
    "博爱",
    "惠民",
    "众合",
    "向善",
    "金色",
    "晨曦",
    "彩虹",
    "友善",
    "荣和",
    "明德",
]
ORG_KINDS = [
    ("社会工作服务中心", "民办非企业单位"),
    ("养老服务中心", "民办非企业单位"),
    ("志愿者协会", "社会团体"),
    ("儿童发展中心", "民办非企业单位"),
    ("残疾人康复服务中心", "民办非企业单位"),
    ("公益服务社", "社会团体"),
]
TITLES = {
    "elderly": ["空巢老人助餐服务", "老年人智能手机课堂", "高龄老人居家探访", "银龄互助健康小站", "失能老人喘息服务"],
    "children": ["四点半课堂", "社区儿童管护班", "留守儿童成长陪伴", "青少年阅读空间", "暑期安全教育营"],
    "disabled": ["残疾人康复陪伴", "助残就业技能培训", "残障儿童融合游戏", "视障人士出行助力", "心智障碍者日间照料"],
    "hardship": ["困难家庭微超市", "低保家庭帮扶计划", "困境青年就业帮扶", "冬季温暖包行动", "困难群众心理疏导"],
    "other": ["社区邻里节", "楼院环境共治", "红色自治庭院", "社区微舞台", "老旧小区议事会"],
}
CATEGORY_WORDS = {"elderly": "为老", "children": "为小", "disabled": "为残", "hardship": "为困", "other": "其他"}
CATEGORY_WEIGHTS = {"elderly": 0.28, "children": 0.26, "disabled": 0.14, "hardship": 0.16, "other": 0.16}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "桂英",
    "建华",
]
FULL_WIDTH = str.maketrans("0123456789,.", "０１２３４５６７８９，．")
RATER_GROUPS = ["居民议事会", "受益人代表", "社区党委", "网格员代表"]

CYCLE_TOML = """[cycle]
id = "{cycle_id}"
name = "南关区2026年度公益创投（第一批）"
budget = "{budget}"
opens = 2026-03-01
closes = 2026-12-31
submission_deadline = 2026-03-31

[rules]
min_request = "20000.00"
max_request = "200000.00"
max_proposals_per_org = 2
max_funded_per_org = 1
min_org_age_days = 365
max_admin_share = 0.10
score_threshold = 70.0
reviewers_per_proposal = 2
discrepancy_threshold = 15.0

[rubric]
need = 20
design = 20
feasibility = 15
capacity = 15
budget = 15
impact = 15

[weights]
expert = 0.7
community = 0.3

[allocation]
policy = "optimal"
cover_every_street = true
require_approval = false

[priorities]
elderly = 0.20
children = 0.20
disabled = 0.10
hardship = 0.10

[tranches]
signing = 0.5
midterm = 0.3
final = 0.2
"""


def credit_code(rng: random.Random) -> str:
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "52" + "220102" + "".join(rng.choice(chars) for _ in range(9))
    return body + credit_check_char(body)


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def write(path: Path, header: list[str], rows: list[list], encoding: str = "utf-8-sig") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def generate_cycle(
    folder: Path,
    proposals: int = 60,
    seed: int = 2026,
    broken: bool = False,
    reviewers: int | None = None,
    budget: str | None = None,
    scores: bool = True,
    tracking: bool | None = None,
    needs: bool = False,
) -> Path:
    rng = random.Random(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n_streets = max(3, min(len(STREETS), proposals // 6))
    streets = STREETS[:n_streets] if proposals <= 200 else [f"第{i + 1}街道" for i in range(max(12, proposals // 40))]
    communities = {s: [f"{w}社区" for w in rng.sample(COMMUNITY_WORDS, 4)] for s in streets}
    n_orgs = max(4, round(proposals / 1.5))
    orgs = []
    used_names = set()
    for i in range(n_orgs):
        kind, org_type = rng.choice(ORG_KINDS)
        name = f"南关区{rng.choice(ORG_WORDS)}{kind}"
        while name in used_names:
            name = f"南关区{rng.choice(ORG_WORDS)}{rng.choice(ORG_WORDS)}{kind}"
            if name in used_names:
                name = f"{name[: -len(kind)]}{i}{kind}"
        used_names.add(name)
        registered = f"20{rng.randint(10, 23)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        orgs.append(
            [
                credit_code(rng),
                name,
                org_type,
                registered,
                rng.choice(["合格"] * 8 + ["基本合格"]),
                person(rng),
                f"139{rng.randint(10000000, 99999999)}",
            ]
        )
    # budget: about two thirds of what is asked, so the allocation has real choices to make
    total_budget = budget or ("3800000.00" if proposals <= 100 else f"{proposals * 90000}.00")
    prop_rows, line_rows, quality = [], [], {}
    categories = list(CATEGORY_WEIGHTS)
    per_org = defaultdict(int)
    for i in range(proposals):
        pid = f"P{i + 1:04d}" if proposals < 10000 else f"P{i + 1:06d}"
        org = orgs[i % n_orgs] if i < n_orgs else rng.choice(orgs)
        while per_org[org[0]] >= 2:
            org = rng.choice(orgs)
        per_org[org[0]] += 1
        category = rng.choices(categories, weights=list(CATEGORY_WEIGHTS.values()))[0]
        street = rng.choice(streets)
        requested = rng.randrange(60_000, 200_001, 500) * 100
        personnel = requested * rng.randint(30, 45) // 100
        admin = requested * rng.randint(3, 9) // 100
        materials = requested * rng.randint(10, 25) // 100
        activity = requested - personnel - admin - materials
        lines = [
            ("项目社工劳务", "人员", personnel),
            ("活动组织", "活动", activity),
            ("物资采购", "物资", materials),
            ("项目管理", "管理", admin),
        ]
        start = f"2026-{rng.randint(4, 6):02d}-{rng.randint(1, 28):02d}"
        end = f"2026-{rng.randint(10, 12):02d}-{rng.randint(1, 28):02d}"
        title = f"{street[:-2]}{rng.choice(TITLES[category])}"
        prop_rows.append(
            [
                pid,
                org[0],
                title,
                CATEGORY_WORDS[category] if i % 3 else category,
                street,
                rng.choice(communities[street]),
                f"{requested // 100:,}.{requested % 100:02d}" if i % 4 == 0 else f"{requested // 100}.{requested % 100:02d}",
                f"{rng.randrange(0, 50_001, 1000)}.00",
                rng.randint(40, 600),
                start,
                end,
                f"面向{street}{CATEGORY_WORDS[category]}群体开展{title}，计划每月开展服务活动。",
                f"2026-03-{rng.randint(5, 30):02d}",
            ]
        )
        line_rows += [[pid, item, kind, f"{fen // 100}.{fen % 100:02d}"] for item, kind, fen in lines]
        quality[pid] = rng.gauss(80, 9)
    n_reviewers = reviewers or max(12, proposals * 2 // 9)
    reviewer_rows = []
    for i in range(n_reviewers):
        rid = f"R{i + 1:02d}" if n_reviewers < 100 else f"R{i + 1:05d}"
        expertise = ";".join(sorted(rng.sample(["为老", "为小", "为残", "为困", "其他"], 2)))
        affiliated = ";".join(o[0] for o in rng.sample(orgs, 1)) if i % 3 == 0 else ""
        load = max(10, proposals * 2 * 3 // n_reviewers)
        reviewer_rows.append([rid, person(rng), f"{rid.lower()}@review.example.cn", expertise, affiliated, load])
    if broken:
        _break_rows(rng, orgs, prop_rows, line_rows, quality)

    (folder / "cycle.toml").write_text(
        CYCLE_TOML.format(
            cycle_id=f"2026-nanguan-{seed}" if proposals <= 100 else f"bench-{proposals}-{seed}", budget=total_budget
        ),
        encoding="utf-8",
    )
    write(
        folder / "organizations.csv",
        ["统一社会信用代码", "机构名称", "机构类型", "登记日期", "年检结果", "联系人", "联系电话"],
        orgs,
    )
    write(
        folder / "proposals.csv",
        [
            "proposal_id",
            "credit_code",
            "title",
            "category",
            "street",
            "community",
            "requested",
            "cofunding",
            "beneficiaries",
            "start_on",
            "end_on",
            "summary",
            "submitted_on",
        ],
        prop_rows,
    )
    write(folder / "budget_lines.csv", ["proposal_id", "item", "kind", "amount"], line_rows)
    # reviewers' list arrives from a Chinese spreadsheet saved as GBK
    write(
        folder / "reviewers.csv",
        ["评审编号", "姓名", "邮箱", "专长", "关联机构", "最大评审数"],
        reviewer_rows,
        encoding="utf-8-sig" if proposals > 200 else "gb18030",
    )
    if needs:
        add_needs(folder, seed, broken)
    if scores:
        _fill_sheets(folder, rng, quality, broken)
        if tracking if tracking is not None else proposals <= 200:
            _write_tracking(folder, seed, quality, broken)
    return folder


def _break_rows(rng, orgs, prop_rows, line_rows, quality) -> None:
    """A handful of rows broken the ways real submissions break."""
    orgs[1][0] = orgs[1][0][:-1] + ("0" if orgs[1][0][-1] != "0" else "1")  # wrong check digit
    orgs[2][4] = "不合格"  # failed annual inspection
    orgs[3][3] = "2025-12-01"  # registered < 1 year before opens
    prop_rows[5][6] = "250000.00"  # above max_request
    prop_rows[7][3] = "为青"  # unknown category
    prop_rows[9][10] = "2027-02-28"  # ends after the cycle closes
    prop_rows[11][9] = "2026/13/40"  # not a date
    prop_rows.append(list(prop_rows[13]))  # same proposal id twice
    for row in line_rows:  # admin lines over 10 %
        if row[0] == prop_rows[15][0] and row[2] == "管理":
            row[3] = str(int(row[3].split(".")[0]) + 20000) + ".00"
        if row[0] == prop_rows[15][0] and row[2] == "活动":
            row[3] = str(int(row[3].split(".")[0]) - 20000) + ".00"
    for row in line_rows:  # budget lines do not add up
        if row[0] == prop_rows[17][0] and row[2] == "物资":
            row[3] = str(int(row[3].split(".")[0]) + 1234) + ".00"
            break
    for row in line_rows:  # three decimals
        if row[0] == prop_rows[19][0] and row[2] == "人员":
            row[3] = row[3] + "5"
            break
    prop_rows[21][6] = prop_rows[21][6].translate(FULL_WIDTH)  # full-width digits: still fine
    extra = list(prop_rows[23])  # a third proposal of one org
    extra[0], extra[2] = "P0901", "额外申报项目"
    prop_rows.append(extra)
    quality["P0901"] = 70
    prop_rows[25][12] = "2026-04-15"  # submitted after the deadline


def _fill_sheets(folder: Path, rng: random.Random, quality: dict[str, float], broken: bool) -> None:
    cfg = load_config(folder)
    result = validate_intake(cfg, *read_intake(folder))
    accepted = [p for p in result.proposals if p["eligible"]]
    pool, _ = validate_reviewers(read_reviewers(folder))
    assignments = assign_initial(accepted, pool, [], cfg.rules.reviewers_per_proposal)
    severity = {r["reviewer_id"]: rng.uniform(-4, 4) for r in pool}
    sheets: dict[str, list[list]] = defaultdict(list)
    conflict_done = not broken
    erratic = {p["proposal_id"] for p in accepted[2:4]} if broken else set()
    rubric = cfg.rubric

    def fill(batch: list[dict]) -> None:
        nonlocal conflict_done
        for a in batch:
            pid, rid = a["proposal_id"], a["reviewer_id"]
            if not conflict_done and a["round"] == 1:
                sheets[rid].append([pid, rid] + [""] * len(rubric) + ["本人曾担任该机构顾问，申请回避", "是"])
                conflict_done = True
                continue
            total = quality[pid] + severity[rid] + rng.gauss(0, 3)
            if pid in erratic and a["round"] == 1:  # two experts far apart: third review
                total += 22 if rng.random() < 0.5 else -22
                erratic.discard(pid)
            total = min(98.0, max(35.0, total))
            cells = []
            for criterion, maximum in rubric.items():
                value = round(total / 100 * maximum * 2) / 2
                cells.append(f"{min(maximum, value):g}")
            sheets[rid].append(
                [pid, rid, *cells, rng.choice(["", "设计合理", "需求明确", "预算需细化", "执行团队经验丰富"]), "否"]
            )

    fill(assignments)
    header = ["proposal_id", "reviewer_id", *rubric, "comment", "conflict"]
    ratings = []
    for p in accepted:
        for group in rng.sample(RATER_GROUPS, rng.randint(1, 2)):
            rating = min(100.0, max(30.0, quality[p["proposal_id"]] + rng.gauss(0, 5)))
            ratings.append([p["proposal_id"], group, rng.randint(5, 40), f"{rating:.1f}"])
    if broken:
        ratings.append([accepted[0]["proposal_id"], "楼栋长代表", 8, "105"])  # rating out of range
    write(folder / "community_ratings.csv", ["项目编号", "评议主体", "参评人数", "评分"], ratings)
    for _ in range(10):
        _write_sheets(folder, sheets, header)
        imported = validate_reviews(
            read_score_sheets(folder, rubric),
            rubric,
            {p["proposal_id"] for p in accepted},
            {(a["proposal_id"], a["reviewer_id"]) for a in assignments},
        )
        ratings_ok, _ = validate_ratings(read_ratings(folder), {p["proposal_id"] for p in accepted})
        evaluation = evaluate(cfg, accepted, assignments, imported.reviews, ratings_ok, imported.pending)
        more, _ = assign_more(evaluation.requests, pool, assignments)
        if not more:
            break
        assignments += more
        fill(more)
    if broken:
        first = sorted(sheets)[0]
        mine = {a["proposal_id"] for a in assignments if a["reviewer_id"] == first}
        outsider = next(a["proposal_id"] for a in assignments if a["proposal_id"] not in mine)
        sheets[first].append([outsider, first] + ["10"] * len(rubric) + ["", "否"])  # not assigned to it
        row = list(next(r for r in sheets[first] if r[-1] == "否"))
        row[2] = str(list(rubric.values())[0] + 5)  # above the maximum
        sheets[first].append(row)
    _write_sheets(folder, sheets, header)


def _write_sheets(folder: Path, sheets: dict[str, list[list]], header: list[str]) -> None:
    for rid, rows in sheets.items():
        write(folder / "scores" / f"{rid}.csv", header, rows)


# ---------------------------------------------------------------- after the award (tracking)

TRACKING_TOML = """
[publicity]                   # the public notice: its issuer (落款) and where objections go
issuer = "南关区民政局"
phone = "0431-8888 1234"
email = "gycy@example.gov.cn"
address = "南关区人民大街 1 号 301 室（区社会组织服务中心）"
starts = {published}           # demo only: the day the notice was posted (default: the approval date)

[review]                      # printed on the reviewer workbooks
contact = "区社会组织服务中心 王老师，0431-8888 1234，gycy@example.gov.cn"

# demo only: the demonstration stands on this date; remove it for a real cycle
[tracking]
as_of = {as_of}            # the date tracking and the leadership report are "as of"
report_period_days = 60          # a progress report every 60 days from each project's start
report_grace_days = 10
pass_mark = 60.0
expert_weight = 0.7
satisfaction_weight = 0.3
rectification_days = 60          # after a failed mid-term evaluation: days to rectify and be re-evaluated

[finance]                     # the finance office's export, as its bank software heads it (fund reconcile)
date_column = "交易日期"
amount_column = "交易金额"
payee_column = "收款单位"
reference_column = "凭证号"
"""
TRACKING_AS_OF, PUBLISHED = "2026-09-30", "2026-04-01"
PROGRESS_HEADER = [
    "proposal_id",
    "period_end",
    "services",
    "activities",
    "beneficiaries",
    "spent",
    "satisfaction",
    "note",
    "submitted_on",
]
EVALUATION_HEADER = ["proposal_id", "phase", "evaluator", "score", "evaluated_on", "comment"]
PAYMENT_HEADER = ["proposal_id", "tranche", "amount", "paid_on", "by", "reference", "reverses"]
STATEMENT_HEADER = ["交易日期", "交易金额", "收款单位", "用途", "凭证号"]
STATEMENT = "statement.csv"  # the finance office's export: an input of fund reconcile, not of fund run
NOTES = ["", "", "", "按计划开展", "新增志愿者 6 名", "居民反响良好", "受天气影响顺延 1 场活动", "与社区党委联合开展"]


def funded_list(folder: Path) -> tuple[list[dict], list[dict]]:
    """(funded proposals with their organization's name, all accepted proposals) by running the
    product's own stage logic on the folder."""
    from fund.tasks.decision import decide  # the solver stack loads only here

    cfg = load_config(folder)
    result = validate_intake(cfg, *read_intake(folder), None, *read_needs_lists(folder))
    accepted = [p for p in result.proposals if p["eligible"]]
    pool, _ = validate_reviewers(read_reviewers(folder))
    assignments = assign_initial(accepted, pool, [], cfg.rules.reviewers_per_proposal)
    ids = {p["proposal_id"] for p in accepted}
    ratings, _ = validate_ratings(read_ratings(folder), ids)
    for _ in range(10):
        imported = validate_reviews(
            read_score_sheets(folder, cfg.rubric), cfg.rubric, ids, {(a["proposal_id"], a["reviewer_id"]) for a in assignments}
        )
        evaluation = evaluate(cfg, accepted, assignments, imported.reviews, ratings, imported.pending)
        more, _ = assign_more(evaluation.requests, pool, assignments)
        if not more:
            break
        assignments += more
    scores = {e["proposal_id"]: e for e in evaluation.rows}
    awards = decide(cfg, result.proposals, scores, {}, "zh", needs=result.needs).awards
    funded = {a["proposal_id"] for a in awards if a["status"] == "funded"}
    names = {o["credit_code"]: o["name"] for o in result.organizations}
    return [p | {"organization": names[p["credit_code"]]} for p in accepted if p["proposal_id"] in funded], accepted


def _money(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _write_tracking(folder: Path, seed: int, quality: dict[str, float], broken: bool) -> None:
    """Two periods of progress reports, the mid-term evaluation sheet and the payments so far,
    for the projects the allocation funds, and the finance office's statement of them; `broken`
    adds rows broken the ways real ones break, and the finance office's ways: a tranche paid in
    two transfers (the second not in the ledger yet), a transfer returned by the bank, reversed
    and paid again, a project that fails its mid-term and passes the re-evaluation, and an
    amount typed wrong in the ledger."""
    import datetime as dt

    from fund.tasks.tracking import expected_periods, split_amount

    rng = random.Random(f"tracking-{seed}")
    with (folder / "cycle.toml").open("a", encoding="utf-8") as handle:
        handle.write(TRACKING_TOML.format(as_of=TRACKING_AS_OF, published=PUBLISHED))
    cfg = load_config(folder)
    funded, accepted = funded_list(folder)
    as_of = dt.date.fromisoformat(TRACKING_AS_OF)
    signed = dt.date.fromisoformat(PUBLISHED) + dt.timedelta(days=cfg.cycle.publicity_days)  # the day after the notice
    grace = cfg.tracking.report_grace_days
    shares = {k: v for k, v in cfg.tranches.items()}
    first, second, evaluations, payments, rechecks = [], [], [], [], []
    slow = {p["proposal_id"] for p in funded[3:5]} if broken else set()  # under-delivering
    silent = {funded[6]["proposal_id"]} if broken and len(funded) > 6 else set()  # stops reporting
    lazy = {p["proposal_id"] for p in funded[8:10]} if broken else set()  # reports late
    failing = {p["proposal_id"] for p in funded[4:5]} if broken else set()  # fails the mid-term
    for p in funded:
        pid, start, end = p["proposal_id"], p["start_on"], p["end_on"]
        span = (end - start).days + 1
        tranche = split_amount(p["requested_fen"], shares)
        paid_on = signed + dt.timedelta(days=rng.randint(3, 10))
        payments.append(
            [pid, "signing", _money(tranche["signing"]), paid_on.isoformat(), "区民政局财务科", f"BF{len(payments) + 1:04d}"]
        )
        spent = 0
        level = max(0.5, min(1.2, quality[pid] / 78)) * (0.3 if pid in slow else 1.0)
        ends = expected_periods(start, end, cfg.tracking.report_period_days)
        for k, period_end in enumerate(ends[:2]):
            days = (period_end - (ends[k - 1] if k else start - dt.timedelta(days=1))).days
            submitted = period_end + dt.timedelta(days=rng.randint(2, 9) + (grace + 6 if pid in lazy else 0))
            if submitted > as_of or (pid in silent and k == 1):
                continue
            people = max(1, round(p["beneficiaries"] * days / span * level * rng.uniform(0.85, 1.15)))
            cost = int(p["requested_fen"] * days / span * rng.uniform(0.55, 0.8)) // 100 * 100
            spent += cost
            satisfaction = min(99.0, max(55.0, quality[pid] + 10 + rng.gauss(0, 4) - (18 if pid in failing else 0)))
            row = [
                pid,
                period_end.isoformat(),
                people * rng.randint(3, 6),
                rng.randint(3, 10),
                people,
                _money(cost),
                f"{satisfaction:.1f}",
                rng.choice(NOTES),
                submitted.isoformat(),
            ]
            (first if k == 0 else second).append(row)
        midpoint = start + (end - start) // 2
        evaluated = midpoint + dt.timedelta(days=rng.randint(5, 20))
        if evaluated <= as_of - dt.timedelta(days=3):
            score = min(97.0, max(62.0, quality[pid] + 4 + rng.gauss(0, 4)))
            if pid in failing:
                score = 48.5
            evaluations.append(
                [
                    pid,
                    "midterm",
                    "南关区社会组织评估中心",
                    f"{score:.1f}",
                    evaluated.isoformat(),
                    "进度滞后，需整改" if pid in failing else rng.choice(["执行规范", "成效明显", "台账完整", "建议加强宣传"]),
                ]
            )
            if score >= 60 and evaluated + dt.timedelta(days=7) <= as_of:
                payments.append(
                    [
                        pid,
                        "midterm",
                        _money(tranche["midterm"]),
                        (evaluated + dt.timedelta(days=7)).isoformat(),
                        "区民政局财务科",
                        f"BF{len(payments) + 1:04d}",
                    ]
                )
            elif pid in failing and evaluated + dt.timedelta(days=11) <= as_of:  # rectified, re-evaluated, paid
                again = evaluated + dt.timedelta(days=9)
                rechecks.append([pid, "整改复评", "南关区社会组织评估中心", "82.0", again.isoformat(), "已按要求整改"])
                payments.append(
                    [
                        pid,
                        "midterm",
                        _money(tranche["midterm"]),
                        (again + dt.timedelta(days=2)).isoformat(),
                        "区民政局财务科",
                        f"BF{len(payments) + 1:04d}",
                    ]
                )
        else:
            evaluations.append([pid, "midterm", "", "", "", ""])  # not evaluated yet
    statement = _finance_office(funded, payments, broken)
    objections = [
        [
            "YY-001",
            funded[1]["proposal_id"],
            "2026-04-03",
            "居民代表",
            "反映该机构去年项目执行不到位",
            "不成立",
            "2026-04-07",
            "经核查，该机构上年度项目已通过结项评估",
        ]
    ]
    if broken:
        unfunded = next(p["proposal_id"] for p in accepted if p["proposal_id"] not in {f["proposal_id"] for f in funded})
        target = funded[2]
        second.append(list(first[0][:1]) + ["2026-13-01"] + first[0][2:])  # not a date
        first.append([unfunded, "2026-06-30", 120, 4, 40, "5000.00", "90", "", "2026-07-05"])  # not funded
        first.append(["P0999", "2026-06-30", 80, 3, 20, "3000.00", "88", "", "2026-07-05"])  # unknown project
        first.append(
            [target["proposal_id"], (target["start_on"] - dt.timedelta(days=10)).isoformat(), 10, 1, 5, "100.00", "90", "", ""]
        )  # before the project
        copy = list(second[0])
        copy[2], copy[4] = str(int(copy[2]) + 40), str(int(copy[4]) + 10)
        first.append(copy)  # same period, other figures
        over = funded[7]
        second.append(
            [
                over["proposal_id"],
                "2026-09-20",
                300,
                6,
                90,
                _money(over["requested_fen"] * 6 // 10),
                "92",
                "采购了全年物资",
                "2026-09-25",
            ]
        )  # spent above disbursed
        second.append([funded[11]["proposal_id"], "2026-09-15", 100, 3, 30, "2000.00", "105", "", ""])  # satisfaction > 100
        payments.append(
            [
                funded[4]["proposal_id"],
                "midterm",
                _money(split_amount(funded[4]["requested_fen"], shares)["midterm"]),
                "2026-09-20",
                "区民政局财务科",
                "BF9001",
            ]
        )  # mid-term failed: not payable
        payments.append(list(payments[0]))  # the same payment twice
        objections.append(
            ["YY-002", unfunded, "2026-04-05", "申报机构", "对评审结果有异议", "待处理", "", ""]
        )  # not on the notice
    write(folder / "progress" / "period-1.csv", PROGRESS_HEADER, first)
    write(folder / "progress" / "period-2.csv", PROGRESS_HEADER, second)
    write(folder / "evaluations" / "midterm.csv", EVALUATION_HEADER, evaluations)
    if rechecks:
        write(folder / "evaluations" / "rectification.csv", EVALUATION_HEADER, rechecks)
    write(folder / "payments.csv", PAYMENT_HEADER, [row + [""] * (len(PAYMENT_HEADER) - len(row)) for row in payments])
    write(folder / STATEMENT, STATEMENT_HEADER, statement, encoding="gb18030")
    write(
        folder / "objections.csv",
        ["异议编号", "项目编号", "收到日期", "异议人", "异议内容", "处理结果", "处理日期", "处理说明"],
        objections,
    )


def _finance_office(funded: list[dict], payments: list[list], broken: bool) -> list[list]:
    """The finance office's export of the payments made (rows of payments.csv so far). With
    `broken`, money goes as it does in practice, and `payments` becomes what the ledger was
    told: a mid-term tranche paid in two transfers, the second not in the ledger yet; a signing
    transfer returned by the bank, reversed (冲正) and paid again; an amount typed 90 yuan short
    in the ledger. The statement then differs from the ledger twice."""
    import datetime as dt

    names = {p["proposal_id"]: p["organization"] for p in funded}
    kinds = {"signing": "签约款", "midterm": "中期款"}
    statement = [[row[3], row[2], names[row[0]], f"{row[0]} {kinds[row[1]]}", row[5]] for row in payments]
    if not broken or len(payments) < 15:
        return sorted(statement)
    n = len(payments)
    split = next(i for i, row in enumerate(payments) if row[1] == "midterm")
    pid, whole, day = payments[split][0], int(payments[split][2].replace(".", "")), dt.date.fromisoformat(payments[split][3])
    payments[split][2] = statement[split][1] = _money(whole * 6 // 10)
    statement.append(
        [
            (day + dt.timedelta(days=7)).isoformat(),
            _money(whole - whole * 6 // 10),
            names[pid],
            f"{pid} 中期款（第二笔）",
            f"BF{n + 1:04d}",
        ]
    )
    returned = next(i for i, row in enumerate(payments) if row[1] == "signing" and i > split)
    pid, _, amount, day, by, reference = payments[returned][:6]
    back, again = (dt.date.fromisoformat(day) + dt.timedelta(days=d) for d in (2, 4))
    payments += [
        [pid, "signing", amount, back.isoformat(), by, "CZ0001", reference],
        [pid, "signing", amount, again.isoformat(), by, f"BF{n + 2:04d}"],
    ]
    statement += [
        [back.isoformat(), f"-{amount}", names[pid], f"{pid} 签约款退回（账户信息有误）", "CZ0001"],
        [again.isoformat(), amount, names[pid], f"{pid} 签约款（重新拨付）", f"BF{n + 2:04d}"],
    ]
    typo = max(i for i, row in enumerate(payments) if row[1] == "midterm")
    payments[typo][2] = _money(int(payments[typo][2].replace(".", "")) - 9000)
    return sorted(statement)


DISTRICT_NAMES = (
    "南关区",
    "朝阳区",
    "宽城区",
    "绿园区",
    "二道区",
    "双阳区",
    "九台区",
    "净月区",
    "高新区",
    "经开区",
    "汽开区",
    "莲花区",
)


def generate_city(folder: Path, districts: int = 4, proposals: int = 60, seed: int = 2026, **cycle) -> Path:
    """A city file (city.toml) over `districts` generated cycles, each with its own name, seed
    and cycle id; cycle folders in d01/cycle, d02/cycle…, outputs to go in d01/out… Returns
    the city file's path."""
    folder = Path(folder)
    lines = ["[city]", 'name = "长春市"', ""]
    for i in range(districts):
        name = DISTRICT_NAMES[i] if i < len(DISTRICT_NAMES) else f"第{i + 1}区"
        cycle_dir = generate_cycle(folder / f"d{i + 1:02d}" / "cycle", proposals, seed + i, **cycle)
        config = cycle_dir / "cycle.toml"
        text = config.read_text(encoding="utf-8").replace("南关区2026年度", f"{name}2026年度", 1)
        config.write_text(text.replace("[cycle]\n", f'[cycle]\ndistrict = "{name}"\n', 1), encoding="utf-8")
        lines += [
            "[[district]]",
            f'name = "{name}"',
            f'cycle = "d{i + 1:02d}/cycle"',
            f'out = "d{i + 1:02d}/out"',
            f'contact = "{name}民政局社会组织科"',
            "",
        ]
    city_file = folder / "city.toml"
    city_file.write_text("\n".join(lines), encoding="utf-8")
    return city_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--proposals", type=int, default=60)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--broken", action="store_true")
    parser.add_argument("--no-scores", action="store_true", help="leave the score sheets out (a cycle waiting for reviews)")
    parser.add_argument("--no-tracking", action="store_true", help="leave out progress reports, payments and evaluations")
    parser.add_argument("--needs", action="store_true", help="add the needs list, the resources pledged and need_ids")
    parser.add_argument("--districts", type=int, default=0, help="a city of this many districts' cycles (city.toml)")
    args = parser.parse_args()
    if args.districts:
        print(generate_city(args.folder, args.districts, args.proposals, args.seed, scores=not args.no_scores, needs=args.needs))
        return
    generate_cycle(
        args.folder,
        args.proposals,
        args.seed,
        args.broken,
        scores=not args.no_scores,
        tracking=False if args.no_tracking else None,
        needs=args.needs,
    )
    print(args.folder)


if __name__ == "__main__":
    main()

"""The honest floor: the same cycle work as `fund run`, done the plain way.

    python benchmarks/baseline.py CYCLE_DIR --out OUT_DIR

pandas + numpy for reading and vectorised validation, a vectorised reviewer
assignment, integer arithmetic for the double evaluation and the product's own HiGHS
model (`tasks.allocation.optimal_select`, `merit_select`, `compare`) for the
allocation. No Prefect, no Great Expectations, no database, no per-row Python
objects, no fsync. It writes the contract's output CSVs (rejected, assignments,
reviewer sheets, scores, allocation, comparison) and a plain public notice.

It is a floor, not a second product: messages are short English texts, line numbers
assume one record per physical line, and a score row is accepted from any known
reviewer who is not affiliated with the proposal's organization (its own round-robin
assignment differs from the product's, which the generated score sheets follow; the
check costs the same vectorised lookup). On a generated cycle the final scores and the
funded set are the same as the product's (`benchmarks/run.py` compares them).

The last line on stdout is JSON: seconds per stage and in total.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import json
import re
import sys
import time
import tomllib
import unicodedata
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

try:
    from fund.tasks.allocation import AllocationRules, compare, merit_select, optimal_select
except ImportError:  # not installed: use the checkout this file sits in
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from fund.tasks.allocation import AllocationRules, compare, merit_select, optimal_select

CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64)
CATEGORY = {
    "elderly": "elderly",
    "children": "children",
    "disabled": "disabled",
    "hardship": "hardship",
    "other": "other",
    "为老": "elderly",
    "为小": "children",
    "为残": "disabled",
    "为困": "hardship",
    "其他": "other",
}
CATEGORY_ZH = {"elderly": "为老", "children": "为小", "disabled": "为残", "hardship": "为困", "other": "其他"}
KIND = {
    "personnel": "personnel",
    "activity": "activity",
    "materials": "materials",
    "admin": "admin",
    "other": "other",
    "人员": "personnel",
    "活动": "activity",
    "物资": "materials",
    "管理": "admin",
    "其他": "other",
}
INSPECTION = {"passed": "passed", "basic": "basic", "failed": "failed", "合格": "passed", "基本合格": "basic", "不合格": "failed"}
YES = {"yes", "y", "true", "1", "是", "回避"}
NO = {"no", "n", "false", "0", "否", ""}

# canonical column → accepted headers; required columns marked with *
COLUMNS = {
    "organizations.csv": {
        "*credit_code": ("credit_code", "统一社会信用代码"),
        "*name": ("name", "机构名称"),
        "*registered_on": ("registered_on", "登记日期"),
        "*inspection": ("inspection", "年检结果"),
    },
    "proposals.csv": {
        "*proposal_id": ("proposal_id", "项目编号"),
        "*credit_code": ("credit_code", "统一社会信用代码"),
        "*title": ("title", "项目名称"),
        "*category": ("category", "服务类别"),
        "*street": ("street", "街道"),
        "*community": ("community", "社区"),
        "*requested": ("requested", "申请金额", "申请资助金额"),
        "cofunding": ("cofunding", "配套资金"),
        "*beneficiaries": ("beneficiaries", "计划受益人数"),
        "*start_on": ("start_on", "开始日期"),
        "*end_on": ("end_on", "结束日期"),
        "summary": ("summary", "项目简介"),
        "submitted_on": ("submitted_on", "提交日期"),
    },
    "budget_lines.csv": {
        "*proposal_id": ("proposal_id", "项目编号"),
        "*item": ("item", "支出项目"),
        "*kind": ("kind", "类别"),
        "*amount": ("amount", "金额"),
    },
    "reviewers.csv": {
        "*reviewer_id": ("reviewer_id", "评审编号"),
        "*name": ("name", "姓名"),
        "expertise": ("expertise", "专长"),
        "affiliations": ("affiliations", "关联机构"),
        "*max_load": ("max_load", "最大评审数"),
    },
    "community_ratings.csv": {
        "*proposal_id": ("proposal_id", "项目编号"),
        "*rater_group": ("rater_group", "评议主体"),
        "*raters": ("raters", "参评人数"),
        "*rating": ("rating", "评分"),
    },
}
PROBLEM_COLUMNS = ["source_file", "source_row", "record_id", "field", "value", "rule"]


class Stop(Exception):
    """The cycle cannot go on (a file or the data says so)."""


# ---------------------------------------------------------------- reading


def header_key(text: str) -> str:
    return re.sub(r"[\s_\-（）()]+", "", unicodedata.normalize("NFKC", text).strip().lower())


def decode(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def frame_of(text: str, columns: dict[str, tuple[str, ...]], source: str) -> pd.DataFrame:
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=True)
    keys = {header_key(h): h for h in frame.columns}
    rename = {}
    for name, headers in columns.items():
        found = next((keys[header_key(h)] for h in headers if header_key(h) in keys), None)
        if found is None and name.startswith("*"):
            raise Stop(f"{source}: required column {name[1:]} is missing")
        if found is not None:
            rename[found] = name.lstrip("*")
    frame = frame[list(rename)].rename(columns=rename)
    for name in columns:
        if name.lstrip("*") not in frame.columns:
            frame[name.lstrip("*")] = ""
    frame = frame.apply(lambda s: s.str.strip())
    frame["_line"] = np.arange(len(frame)) + 2
    return frame[(frame.drop(columns="_line") != "").any(axis=1)]


def read_table(folder: Path, name: str) -> pd.DataFrame:
    return frame_of(decode((folder / name).read_bytes()), COLUMNS[name], name)


def nfkc(series: pd.Series) -> pd.Series:
    return series.str.normalize("NFKC").str.strip()


def parse_money(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(fen as Int64, rule or '') — at most two decimals, never negative."""
    text = nfkc(series).str.replace(r"[,¥￥元\s]", "", regex=True)
    parts = text.str.extract(r"^(\d{1,13})(?:\.(\d+))?$")
    decimals = parts[1].fillna("")
    ok = parts[0].notna() & (decimals.str[2:].str.strip("0") == "")
    fen = pd.Series(pd.NA, index=series.index, dtype="Int64")
    fen[ok] = parts[0][ok].astype("int64") * 100 + decimals[ok].str[:2].str.ljust(2, "0").astype("int64")
    rule = pd.Series("", index=series.index)
    rule[~ok] = np.where(
        text[~ok].str.match(r"^-\d"), "money_negative", np.where(parts[0][~ok].notna(), "money_precision", "money_format")
    )
    return fen, rule


def parse_date(series: pd.Series) -> pd.Series:
    text = nfkc(series).str.replace(r"[/.年月]", "-", regex=True).str.replace("日", "", regex=False)
    return pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")


def credit_ok(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(normalised code, rule or '') — 18 characters and the GB 32100 check digit."""
    code = nfkc(series).str.upper().str.replace(" ", "", regex=False)
    fmt = code.str.fullmatch(f"[{CREDIT_CHARS}]{{18}}")
    rule = pd.Series(np.where(fmt, "", "credit_code_format"), index=series.index)
    if fmt.any():
        lut = np.full(128, 0, dtype=np.int64)
        for i, c in enumerate(CREDIT_CHARS):
            lut[ord(c)] = i
        chars = np.frombuffer("".join(code[fmt]).encode("ascii"), dtype=np.uint8).reshape(-1, 18)
        values = lut[chars]
        check = (31 - (values[:, :17] @ CREDIT_WEIGHTS) % 31) % 31
        bad = check != values[:, 17]
        rule[fmt[fmt].index[bad]] = "credit_code_checksum"
    return code, rule


def problems_of(source: str, frame: pd.DataFrame, mask, id_column: str, field: str, value, rule: str) -> pd.DataFrame:
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return pd.DataFrame(columns=PROBLEM_COLUMNS)
    picked = frame[mask]
    values = value[mask] if isinstance(value, pd.Series) else (picked[value] if isinstance(value, str) else "")
    return pd.DataFrame(
        {
            "source_file": source,
            "source_row": picked["_line"].to_numpy(),
            "record_id": picked[id_column].to_numpy(),
            "field": field,
            "value": np.asarray(values, dtype=object) if not isinstance(values, str) else values,
            "rule": rule,
        }
    )


# ---------------------------------------------------------------- stages


def intake(folder: Path, cfg: dict) -> tuple[pd.DataFrame, pd.DataFrame, list[pd.DataFrame]]:
    rules, cycle = cfg["rules"], cfg["cycle"]
    problems: list[pd.DataFrame] = []
    orgs = read_table(folder, "organizations.csv")
    props = read_table(folder, "proposals.csv")
    lines = read_table(folder, "budget_lines.csv")

    orgs["credit_code"], rule = credit_ok(orgs["credit_code"])
    orgs["ok"] = rule == ""
    for r in ("credit_code_format", "credit_code_checksum"):
        problems.append(problems_of("organizations.csv", orgs, rule == r, "credit_code", "credit_code", "credit_code", r))
    orgs["registered"] = parse_date(orgs["registered_on"])
    orgs["inspection"] = nfkc(orgs["inspection"]).str.lower().map(INSPECTION)
    for column, bad, r in (
        ("registered_on", orgs["registered"].isna(), "date_format"),
        ("inspection", orgs["inspection"].isna(), "inspection_unknown"),
        ("name", orgs["name"] == "", "required"),
    ):
        problems.append(problems_of("organizations.csv", orgs, bad, "credit_code", column, column, r))
        orgs["ok"] &= ~bad
    dup = (
        orgs["ok"]
        & orgs.duplicated("credit_code", keep=False)
        & ~orgs.duplicated(["credit_code", "name", "registered_on", "inspection"], keep=False)
    )
    problems.append(
        problems_of("organizations.csv", orgs, dup, "credit_code", "credit_code", "credit_code", "duplicate_organization")
    )
    invalid_codes = set(orgs.loc[~orgs["ok"] | dup, "credit_code"])
    good_orgs = orgs[orgs["ok"] & ~dup].drop_duplicates("credit_code").set_index("credit_code")

    src = "proposals.csv"
    props["proposal_id"] = nfkc(props["proposal_id"])
    props["credit_code"], code_rule = credit_ok(props["credit_code"])
    props["category_key"] = nfkc(props["category"]).str.lower().map(CATEGORY).fillna(nfkc(props["category"]).map(CATEGORY))
    props["requested_fen"], money_rule = parse_money(props["requested"])
    props["start"], props["end"] = parse_date(props["start_on"]), parse_date(props["end_on"])
    props["submitted"] = parse_date(props["submitted_on"])
    props["ok"] = True
    cell_checks = [
        ("proposal_id", ~props["proposal_id"].str.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}"), "id_format"),
        ("credit_code", code_rule == "credit_code_format", "credit_code_format"),
        ("credit_code", code_rule == "credit_code_checksum", "credit_code_checksum"),
        ("category", props["category_key"].isna(), "category_unknown"),
        ("requested", money_rule != "", None),
        ("start_on", props["start"].isna(), "date_format"),
        ("end_on", props["end"].isna(), "date_format"),
        ("submitted_on", props["submitted"].isna() & (props["submitted_on"] != ""), "date_format"),
        ("beneficiaries", ~nfkc(props["beneficiaries"]).str.fullmatch(r"\d{1,12}"), "integer_format"),
    ] + [(c, props[c] == "", "required") for c in ("title", "street", "community")]
    for column, bad, r in cell_checks:
        if r is None:
            for money in ("money_format", "money_negative", "money_precision"):
                problems.append(problems_of(src, props, money_rule == money, "proposal_id", column, column, money))
        else:
            problems.append(problems_of(src, props, bad, "proposal_id", column, column, r))
        props["ok"] &= ~bad

    dup = props.duplicated("proposal_id", keep=False)
    problems.append(problems_of(src, props, dup, "proposal_id", "proposal_id", "proposal_id", "duplicate_proposal_id"))
    per_org = props.groupby("credit_code")["proposal_id"].nunique()
    checked = props["ok"] & ~dup
    org_known = props["credit_code"].isin(good_orgs.index)
    registered = props["credit_code"].map(good_orgs["registered"])
    latest = pd.Timestamp(cycle["opens"]) - pd.Timedelta(days=rules["min_org_age_days"])
    min_fen, max_fen = int(Decimal(rules["min_request"]) * 100), int(Decimal(rules["max_request"]) * 100)

    lines["proposal_id"] = nfkc(lines["proposal_id"])
    lines["amount_fen"], line_rule = parse_money(lines["amount"])
    lines["kind_key"] = nfkc(lines["kind"]).str.lower().map(KIND).fillna(nfkc(lines["kind"]).map(KIND))
    line_ok = (line_rule == "") & lines["kind_key"].notna() & (lines["item"] != "")
    for money in ("money_format", "money_negative", "money_precision"):
        problems.append(problems_of("budget_lines.csv", lines, line_rule == money, "proposal_id", "amount", "amount", money))
    problems.append(
        problems_of("budget_lines.csv", lines, lines["kind_key"].isna(), "proposal_id", "kind", "kind", "budget_kind_unknown")
    )
    good_lines = lines[line_ok]
    total = good_lines.groupby("proposal_id")["amount_fen"].sum()
    admin = good_lines[good_lines["kind_key"] == "admin"].groupby("proposal_id")["amount_fen"].sum()
    bad_lines = lines[~line_ok].groupby("proposal_id").size()
    share = Fraction(Decimal(str(rules["max_admin_share"])))
    req = props["requested_fen"].fillna(0).astype("int64")
    budget_total = props["proposal_id"].map(total).fillna(0).astype("int64")
    admin_total = props["proposal_id"].map(admin).fillna(0).astype("int64")
    has_lines = props["proposal_id"].isin(total.index)
    has_bad = props["proposal_id"].isin(bad_lines.index)
    deadline = pd.Timestamp(cycle["submission_deadline"]) if cycle.get("submission_deadline") else None
    rule_checks = [
        ("credit_code", ~org_known & ~props["credit_code"].isin(invalid_codes), "org_unknown"),
        ("credit_code", ~org_known & props["credit_code"].isin(invalid_codes), "org_invalid"),
        ("credit_code", props["credit_code"].map(good_orgs["inspection"]).eq("failed"), "org_inspection_failed"),
        ("credit_code", org_known & (registered > latest), "org_too_young"),
        ("credit_code", props["credit_code"].map(per_org) > rules["max_proposals_per_org"], "org_proposal_limit"),
        ("requested", req < min_fen, "request_below_min"),
        ("requested", req > max_fen, "request_above_max"),
        ("requested", ~has_lines & ~has_bad, "budget_lines_missing"),
        ("requested", has_bad, "budget_lines_invalid"),
        ("requested", (has_lines | has_bad) & (budget_total != req), "budget_sum_mismatch"),
        ("requested", admin_total * share.denominator > req * share.numerator, "admin_share"),
        ("start_on", props["start"] > props["end"], "dates_order"),
        ("start_on", props["start"] < pd.Timestamp(cycle["opens"]), "start_before_open"),
        ("end_on", props["end"] > pd.Timestamp(cycle["closes"]), "end_after_close"),
    ]
    if deadline is not None:
        rule_checks.append(("submitted_on", props["submitted"] > deadline, "submitted_late"))
    eligible = checked.copy()
    for column, bad, r in rule_checks:
        bad = checked & bad.fillna(False).astype(bool)
        problems.append(problems_of(src, props, bad, "proposal_id", column, column, r))
        eligible &= ~bad
    unknown = ~lines["proposal_id"].isin(props["proposal_id"])
    problems.append(
        problems_of(
            "budget_lines.csv", lines, unknown, "proposal_id", "proposal_id", "proposal_id", "budget_line_unknown_proposal"
        )
    )
    props["eligible"] = eligible  # False for every copy of a duplicated id
    return props.drop_duplicates("proposal_id"), good_orgs, problems


def assignment(folder: Path, cfg: dict, props: pd.DataFrame, out: Path) -> tuple[pd.DataFrame, pd.DataFrame, list]:
    """Round-robin over the reviewers sorted by id (balanced loads), moved on past affiliated reviewers."""
    reviewers = read_table(folder, "reviewers.csv")
    reviewers["reviewer_id"] = nfkc(reviewers["reviewer_id"])
    reviewers["max_load"] = pd.to_numeric(nfkc(reviewers["max_load"]), errors="coerce")
    bad = reviewers["max_load"].isna() | reviewers.duplicated("reviewer_id", keep=False)
    problems = [problems_of("reviewers.csv", reviewers, bad, "reviewer_id", "reviewer_id", "reviewer_id", "reviewer_invalid")]
    pool = reviewers[~bad].sort_values("reviewer_id").reset_index(drop=True)
    per = int(cfg["rules"]["reviewers_per_proposal"])
    accepted = props[props["eligible"]].sort_values("proposal_id").reset_index(drop=True)
    n_p, n_r = len(accepted), len(pool)
    if n_r < per + 1:
        raise Stop("not enough reviewers")
    codes = pd.Index(pd.unique(pd.concat([accepted["credit_code"], pool["affiliations"].str.split(";").explode()])))
    aff = pool[["affiliations"]].assign(r=np.arange(n_r))
    aff = aff.assign(code=aff["affiliations"].str.split(";")).explode("code")
    aff = aff[aff["code"].fillna("") != ""]
    conflict_keys = codes.get_indexer(aff["code"]).astype(np.int64) * n_r + aff["r"].to_numpy()
    p_of_slot = np.repeat(np.arange(n_p), per)
    code_of_slot = codes.get_indexer(accepted["credit_code"]).astype(np.int64)[p_of_slot]
    r_of_slot = np.arange(n_p * per) % n_r
    for _ in range(n_r):
        clash = np.isin(code_of_slot * n_r + r_of_slot, conflict_keys)
        pair = p_of_slot * n_r + r_of_slot
        clash |= pd.Series(pair).duplicated().to_numpy()
        if not clash.any():
            break
        r_of_slot[clash] = (r_of_slot[clash] + per + 1) % n_r
    loads = np.bincount(r_of_slot, minlength=n_r)
    if (loads > pool["max_load"].to_numpy()).any():
        raise Stop("reviewer pool too small for max_load")
    assigned = pd.DataFrame(
        {
            "proposal_id": accepted["proposal_id"].to_numpy()[p_of_slot],
            "reviewer_id": pool["reviewer_id"].to_numpy()[r_of_slot],
            "round": 1,
        }
    )
    review = out / "review"
    write_csv(review / "assignments.csv", ["proposal_id", "reviewer_id", "round"], assigned.itertuples(index=False))
    rubric = list(cfg["rubric"])
    sheet = assigned.merge(
        accepted[["proposal_id", "title", "category_key", "street", "community", "summary"]], on="proposal_id"
    ).sort_values(["reviewer_id", "proposal_id"])
    sheet["category_key"] = sheet["category_key"].map(CATEGORY_ZH)
    header = [
        "proposal_id",
        "reviewer_id",
        *rubric,
        "comment",
        "conflict",
        "round",
        "title",
        "category",
        "street",
        "community",
        "summary",
    ]
    blank = [""] * (len(rubric) + 2)
    ids = sheet["reviewer_id"].to_numpy()
    rows = list(
        zip(
            sheet["proposal_id"],
            ids,
            sheet["round"],
            sheet["title"],
            sheet["category_key"],
            sheet["street"],
            sheet["community"],
            sheet["summary"],
        )
    )
    bounds = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    (review / "sheets").mkdir(parents=True, exist_ok=True)
    for start, stop in zip(np.r_[0, bounds], np.r_[bounds, len(ids)]):
        write_csv(review / "sheets" / f"{ids[start]}.csv", header, ([r[0], r[1], *blank, *r[2:]] for r in rows[start:stop]))
    (review / "README.txt").write_text(
        "Fill in the criteria (whole or half points); conflict = yes to decline.\n", encoding="utf-8"
    )
    return pool, assigned, problems


def read_score_sheets(folder: Path, rubric: list[str]) -> pd.DataFrame:
    """Every scores/*.csv; files with the same header are parsed together in one read_csv."""
    by_header: dict[str, list[tuple[str, str]]] = {}
    for path in sorted((folder / "scores").glob("*")):
        if path.suffix.lower() not in (".csv", ".txt"):
            continue
        text = decode(path.read_bytes())
        head, _, body = text.partition("\n")
        by_header.setdefault(head.strip("\r"), []).append((f"scores/{path.name}", body))
    columns = {
        "*proposal_id": ("proposal_id", "项目编号"),
        "*reviewer_id": ("reviewer_id", "评审编号"),
        "comment": ("comment", "评语", "意见"),
        "conflict": ("conflict", "回避", "利益冲突", "是否回避"),
        **{c: (c,) for c in rubric},
    }
    frames = []
    for head, files in by_header.items():
        bodies = [body if body.endswith("\n") or not body else body + "\n" for _, body in files]
        frame = frame_of(head + "\n" + "".join(bodies), columns, files[0][0])
        counts = [body.count("\n") for body in bodies]
        frame["_file"] = np.repeat([name for name, _ in files], counts)[frame["_line"].to_numpy() - 2]
        frame["_line"] = np.concatenate([np.arange(c) for c in counts])[frame["_line"].to_numpy() - 2] + 2
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["proposal_id", "reviewer_id"])


def scoring(folder: Path, cfg: dict, props: pd.DataFrame, pool: pd.DataFrame, out: Path) -> tuple[pd.DataFrame, list]:
    rubric = cfg["rubric"]
    problems: list[pd.DataFrame] = []
    accepted = props[props["eligible"]].set_index("proposal_id")
    sheets = read_score_sheets(folder, list(rubric))
    sheets["proposal_id"], sheets["reviewer_id"] = nfkc(sheets["proposal_id"]), nfkc(sheets["reviewer_id"])
    sheets["ident"] = sheets["proposal_id"] + "/" + sheets["reviewer_id"]
    conflict = nfkc(sheets["conflict"]).str.lower()
    sheets["conflict_yes"] = conflict.isin(YES)
    ok = conflict.isin(YES | NO)
    scores = pd.DataFrame({c: pd.to_numeric(nfkc(sheets[c]), errors="coerce") for c in rubric})
    blank = scores.isna().all(axis=1) & (sheets[list(rubric)] == "").all(axis=1)
    checks = [
        ("proposal_id", ~sheets["proposal_id"].isin(accepted.index), "score_proposal_unknown"),
        ("reviewer_id", ~sheets["reviewer_id"].isin(pool["reviewer_id"]), "reviewer_unknown"),
        ("conflict", ~ok, "yes_no_unknown"),
    ]
    affiliated = pool.assign(code=pool["affiliations"].str.split(";")).explode("code")
    aff_keys = set(zip(affiliated["reviewer_id"], affiliated["code"]))
    org = sheets["proposal_id"].map(accepted["credit_code"])
    coi = pd.Series([k in aff_keys for k in zip(sheets["reviewer_id"], org)], index=sheets.index, dtype=bool)
    checks.append(("reviewer_id", coi, "not_assigned"))
    scored = ~sheets["conflict_yes"] & ~blank
    for criterion, maximum in rubric.items():
        value = scores[criterion]
        checks += [
            (criterion, scored & value.isna(), "required"),
            (criterion, scored & ((value < 0) | (value > maximum)), "score_out_of_range"),
            (criterion, scored & ((value * 2) != (value * 2).round()), "score_step"),
        ]
    good = pd.Series(True, index=sheets.index)
    for column, bad, r in checks:
        bad = bad & good  # one problem per row is enough for the floor
        problems.append(problems_of_sheet(sheets, bad, column, r))
        good &= ~bad
    rows = sheets[good & ~(blank & ~sheets["conflict_yes"])].copy()
    rows["total_half"] = (scores.loc[rows.index] * 2).round().fillna(0).astype("int64").sum(axis=1)
    rows.loc[rows["conflict_yes"], "total_half"] = 0
    key = ["proposal_id", "reviewer_id"]
    same = rows.duplicated(key + ["total_half", "conflict_yes", "comment"])
    rows = rows[~same]
    dup = rows.duplicated(key, keep=False)
    problems.append(problems_of_sheet(rows, dup, "reviewer_id", "duplicate_review"))
    reviews = rows[~dup & ~rows["conflict_yes"]]
    expert = reviews.groupby("proposal_id")["total_half"].agg(["sum", "max", "min", "count"])

    ratings = read_table(folder, "community_ratings.csv")
    ratings["proposal_id"] = nfkc(ratings["proposal_id"])
    ratings["raters_n"] = pd.to_numeric(nfkc(ratings["raters"]), errors="coerce")
    text = nfkc(ratings["rating"])
    value = pd.to_numeric(text, errors="coerce")
    rating_checks = [
        ("rating", value.isna() | ratings["raters_n"].isna(), "number_format"),
        ("proposal_id", ~ratings["proposal_id"].isin(accepted.index), "rating_proposal_unknown"),
        ("rating", (value < 0) | (value > 100), "rating_out_of_range"),
        ("rating", text.str.extract(r"\.(\d*)$")[0].fillna("").str.rstrip("0").str.len() > 2, "rating_precision"),
    ]
    ok = pd.Series(True, index=ratings.index)
    for column, bad, r in rating_checks:
        bad = bad & ok
        problems.append(
            problems_of(
                "community_ratings.csv",
                ratings.assign(ident=ratings["proposal_id"] + "/" + ratings["rater_group"]),
                bad,
                "ident",
                column,
                column,
                r,
            )
        )
        ok &= ~bad
    dup = ok & ratings.duplicated(["proposal_id", "rater_group"], keep=False)
    problems.append(
        problems_of(
            "community_ratings.csv",
            ratings.assign(ident=ratings["proposal_id"]),
            dup,
            "ident",
            "rater_group",
            "rater_group",
            "duplicate_rating",
        )
    )
    good_ratings = ratings[ok & ~dup].assign(centi=(value * 100).round().astype("Int64"))
    good_ratings = good_ratings.assign(
        weighted=good_ratings["centi"].astype("int64") * good_ratings["raters_n"].astype("int64"),
        raters_i=good_ratings["raters_n"].astype("int64"),
    )
    community = good_ratings.groupby("proposal_id")[["weighted", "raters_i"]].sum()

    ev = pd.DataFrame(index=accepted.index.sort_values())
    ev = ev.join(expert).join(community)
    n = ev["count"].fillna(0).astype("int64")
    trimmed = n >= 3
    e_sum = np.where(trimmed, ev["sum"] - ev["max"] - ev["min"], ev["sum"]).astype("float64")
    e_n = np.where(trimmed, n - 2, n)
    threshold_half = int(Decimal(str(cfg["rules"]["discrepancy_threshold"])) * 2)
    disagree = (n == 2) & ((ev["max"] - ev["min"]) > threshold_half)
    per = int(cfg["rules"]["reviewers_per_proposal"])
    has_expert = (n >= per) & ~disagree
    has_community = ev["raters_i"].fillna(0) > 0
    eh = np.nan_to_num(e_sum).astype("int64")
    ne = np.maximum(e_n, 1).astype("int64")
    c_sum = ev["weighted"].fillna(0).astype("int64").to_numpy()
    c_n = np.maximum(ev["raters_i"].fillna(0).astype("int64").to_numpy(), 1)
    w_e, w_c = Fraction(Decimal(str(cfg["weights"]["expert"]))), Fraction(Decimal(str(cfg["weights"]["community"])))
    # 100 × final = 100·w_e·Eh/(2·ne) + w_c·C/R, exactly, then half up once
    num = 50 * w_e.numerator * w_c.denominator * eh * c_n + w_c.numerator * w_e.denominator * c_sum * ne
    den = w_e.denominator * w_c.denominator * ne * c_n
    final = (2 * num + den) // (2 * den)
    expert_centi = (200 * eh + 2 * ne) // (4 * ne)
    community_centi = (2 * c_sum + c_n) // (2 * c_n)
    status = np.select(
        [~has_expert & disagree, ~has_expert, ~has_community],
        ["waiting_third_review", "waiting_reviews", "waiting_community"],
        "scored",
    )
    result = pd.DataFrame(
        {
            "proposal_id": ev.index,
            "n_reviews": n.to_numpy(),
            "expert_centi": np.where(has_expert, expert_centi, -1),
            "community_centi": np.where(has_community, community_centi, -1),
            "final_centi": np.where(has_expert & has_community, final, -1),
            "status": status,
        }
    )
    write_csv(
        out / "evaluation" / "scores.csv",
        ["proposal_id", "n_reviews", "expert_score", "community_score", "final_score", "status"],
        zip(
            result["proposal_id"],
            result["n_reviews"],
            centi(result["expert_centi"]),
            centi(result["community_centi"]),
            centi(result["final_centi"]),
            result["status"],
        ),
    )
    return result, problems


def problems_of_sheet(frame: pd.DataFrame, mask, field: str, rule: str) -> pd.DataFrame:
    mask = np.asarray(mask, dtype=bool)
    picked = frame[mask]
    return pd.DataFrame(
        {
            "source_file": picked["_file"].to_numpy(),
            "source_row": picked["_line"].to_numpy(),
            "record_id": picked["ident"].to_numpy(),
            "field": field,
            "value": picked[field].to_numpy() if field in picked else "",
            "rule": rule,
        }
    )


def allocation(cfg: dict, props: pd.DataFrame, scores: pd.DataFrame, out: Path) -> None:
    waiting = scores[scores["status"] != "scored"]
    if len(waiting):
        raise Stop(f"{len(waiting)} proposals wait for scores; no allocation")
    threshold = int(Decimal(str(cfg["rules"]["score_threshold"])) * 100)
    table = props.merge(scores[["proposal_id", "final_centi"]], on="proposal_id", how="left").sort_values("proposal_id")
    table["final_centi"] = table["final_centi"].fillna(-1).astype("int64")
    fundable = table["eligible"] & (table["final_centi"] >= threshold)
    candidates = pd.DataFrame(
        {
            "proposal_id": table["proposal_id"][fundable],
            "credit_code": table["credit_code"][fundable],
            "category": table["category_key"][fundable],
            "street": table["street"][fundable],
            "requested_fen": table["requested_fen"][fundable].astype("int64"),
            "score_centi": table["final_centi"][fundable],
        }
    )
    alloc = cfg.get("allocation", {})
    rules = AllocationRules(
        budget_fen=int(Decimal(cfg["cycle"]["budget"]) * 100),
        max_funded_per_org=int(cfg["rules"]["max_funded_per_org"]),
        priority_shares={k: Decimal(str(v)) for k, v in cfg.get("priorities", {}).items()},
        cover_every_street=bool(alloc.get("cover_every_street", False)),
        mip_gap=float(alloc.get("mip_gap", 0.0)),
        time_limit_s=float(alloc["time_limit_s"]) if alloc.get("time_limit_s") else None,
    )
    merit = merit_select(candidates, rules)
    chosen = optimal_select(candidates, rules) if alloc.get("policy", "optimal") == "optimal" else merit
    comparison = compare(candidates, rules, merit=merit, optimal=chosen if chosen is not merit else None)
    funded = set(chosen.funded)
    reasons = chosen.reasons
    status = np.where(~table["eligible"], "ineligible", np.where(table["proposal_id"].isin(funded), "funded", "not_funded"))
    reason = [
        ("ineligible" if s == "ineligible" else "below_threshold" if f < threshold else reasons[p].code)
        for p, s, f in zip(table["proposal_id"], status, table["final_centi"])
    ]
    requested = table["requested_fen"].fillna(0).astype("int64")
    awarded = np.where(status == "funded", requested, 0)
    explanation = [
        f"{r}: final score {c}, rank {reasons[p].rank}" if p in reasons else r
        for p, r, c in zip(table["proposal_id"], reason, centi(table["final_centi"]))
    ]
    write_csv(
        out / "allocation" / "allocation.csv",
        [
            "proposal_id",
            "credit_code",
            "category",
            "street",
            "community",
            "final_score",
            "requested",
            "awarded",
            "status",
            "reason",
            "explanation",
        ],
        zip(
            table["proposal_id"],
            table["credit_code"],
            table["category_key"].fillna(""),
            table["street"],
            table["community"],
            centi(table["final_centi"]),
            money(requested),
            money(pd.Series(awarded)),
            status,
            reason,
            explanation,
        ),
    )
    write_csv(
        out / "allocation" / "comparison.csv",
        ["policy", "status", "funded_count", "amount", "unused_budget", "score_weighted_spend", "floors_met", "streets_covered"],
        (
            [
                c.get("policy"),
                c.get("status", "ok"),
                c.get("funded_count", ""),
                fen_text(c.get("amount_fen")),
                fen_text(c.get("unused_fen")),
                fen_text(None if c.get("objective") is None else (c["objective"] + 50) // 100),
                c.get("floors_met", ""),
                c.get("streets_covered", ""),
            ]
            for c in comparison
        ),
    )
    return table[status == "funded"]


def publication(cfg: dict, funded: pd.DataFrame, orgs: pd.DataFrame, out: Path) -> None:
    funded = funded.sort_values(["final_centi", "proposal_id"], ascending=[False, True])
    names = funded["credit_code"].map(orgs["name"]).fillna("")
    rows = "\n".join(
        f"<tr><td>{html.escape(p)}</td><td>{html.escape(n)}</td><td>{html.escape(t)}</td><td>{s}</td><td>{m}</td></tr>"
        for p, n, t, s, m in zip(
            funded["proposal_id"],
            names,
            funded["title"],
            centi(funded["final_centi"]),
            money(funded["requested_fen"].astype("int64")),
        )
    )
    path = out / "allocation" / "publicity.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"<!doctype html><meta charset='utf-8'><title>{html.escape(cfg['cycle']['name'])}</title><table>\n{rows}\n</table>\n",
        encoding="utf-8",
    )


# ---------------------------------------------------------------- output


def write_csv(path: Path, header: list[str], rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def centi(values: pd.Series) -> list[str]:
    return ["" if v < 0 else f"{v // 100}.{v % 100:02d}" for v in np.asarray(values, dtype=np.int64).tolist()]


def money(values: pd.Series) -> list[str]:
    return [f"{v // 100}.{v % 100:02d}" for v in np.asarray(values, dtype=np.int64).tolist()]


def fen_text(fen: int | None) -> str:
    return "" if fen is None else f"{fen // 100}.{fen % 100:02d}"


MESSAGES = {
    "duplicate_proposal_id": "proposal id appears more than once",
    "org_unknown": "organization not registered",
    "budget_sum_mismatch": "budget lines do not add up to the request",
    "not_assigned": "reviewer is affiliated",
}


def write_rejected(out: Path, problems: list[pd.DataFrame]) -> int:
    frames = [p for p in problems if len(p)]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=PROBLEM_COLUMNS)
    table = table.sort_values(["source_file", "source_row", "record_id", "field", "rule"])
    table["message"] = table["rule"].map(MESSAGES).fillna(table["rule"].str.replace("_", " "))
    path = out / "validation" / "rejected.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return len(table)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cycle_dir", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    folder, out = args.cycle_dir, args.out
    out.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    started = mark = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        seconds[stage] = round(now - mark, 3)
        mark = now

    try:
        cfg = tomllib.loads((folder / "cycle.toml").read_text(encoding="utf-8-sig"))
        props, orgs, problems = intake(folder, cfg)
        lap("intake")
        pool, _, more = assignment(folder, cfg, props, out)
        problems += more
        lap("assignment")
        scores, more = scoring(folder, cfg, props, pool, out)
        problems += more
        rejected = write_rejected(out, problems)
        lap("scoring")
        funded = allocation(cfg, props, scores, out)
        lap("allocation")
        publication(cfg, funded, orgs, out)
        lap("publication")
    except Stop as exc:
        print(f"stopped: {exc}", file=sys.stderr)
        return 1
    seconds["total"] = round(time.perf_counter() - started, 3)
    print(f"{int(props['eligible'].sum())} of {len(props)} proposals accepted, {rejected} problems, {len(funded)} funded")
    print(json.dumps({"seconds": seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Small helpers for the unit tests: valid credit codes, tiny CSV cycle folders, configs.

Everything writes into a folder the test gives (normally pytest's `tmp_path`).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from decimal import Decimal
from pathlib import Path

from fund.schemas.cells import CREDIT_CHARS, credit_check_char
from fund.schemas.codes import TrancheStatus
from fund.schemas.config import CycleConfig, parse_config

ORG_HEADER = ["credit_code", "name", "org_type", "registered_on", "inspection", "contact", "phone"]
PROPOSAL_HEADER = [
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
]
LINE_HEADER = ["proposal_id", "item", "kind", "amount"]
RUBRIC = {"need": 20, "design": 20, "feasibility": 15, "capacity": 15, "budget": 15, "impact": 15}

# the example of CONTRACT.md, verbatim
CONTRACT_TOML = """\
[cycle]
id = "2026-nanguan-1"            # unique per cycle
name = "南关区2026年度公益创投"
budget = "5000000.00"            # yuan, a string
opens = 2026-03-01
closes = 2026-12-31               # project dates must fall inside
submission_deadline = 2026-03-31  # proposals submitted after it are rejected (optional column submitted_on)

[rules]
min_request = "20000.00"
max_request = "200000.00"
max_proposals_per_org = 2         # submitted; more are all rejected for that org
max_funded_per_org = 1
min_org_age_days = 365            # registered at least this long before `opens`
max_admin_share = 0.10            # admin budget lines / requested
score_threshold = 70.0            # final score needed to be fundable
reviewers_per_proposal = 2
discrepancy_threshold = 15.0      # expert totals further apart than this need a third review

[rubric]                          # criterion = max points; must sum to 100
need = 20
design = 20
feasibility = 15
capacity = 15
budget = 15
impact = 15

[weights]                         # double evaluation; must sum to 1
expert = 0.7
community = 0.3

[allocation]
policy = "optimal"                # or "merit"
cover_every_street = true         # optimal policy only
require_approval = false          # true: publish only after `fund approve`
# mip_gap = 0.0                   # optional: relative optimality gap accepted (default 0)
# time_limit_s = 60               # optional: solver time limit

[priorities]                      # minimum budget share per group (optimal policy only)
elderly = 0.20
children = 0.20
disabled = 0.10
hardship = 0.10

[tranches]                        # shares of each award, must sum to 1
signing = 0.5
midterm = 0.3
final = 0.2
"""

BASE_SECTIONS: dict[str, dict] = {
    "cycle": {
        "id": "2026-test-1",
        "name": "测试区2026年度公益创投",
        "budget": "5000000.00",
        "opens": dt.date(2026, 3, 1),
        "closes": dt.date(2026, 12, 31),
        "submission_deadline": dt.date(2026, 3, 31),
    },
    "rules": {
        "min_request": "20000.00",
        "max_request": "200000.00",
        "max_proposals_per_org": 2,
        "max_funded_per_org": 1,
        "min_org_age_days": 365,
        "max_admin_share": Decimal("0.10"),
        "score_threshold": Decimal("70.0"),
        "reviewers_per_proposal": 2,
        "discrepancy_threshold": Decimal("15.0"),
    },
    "rubric": dict(RUBRIC),
    "weights": {"expert": Decimal("0.7"), "community": Decimal("0.3")},
}


# ---------------------------------------------------------------- credit codes


def credit_code(n: int, prefix: str = "5144") -> str:
    """The n-th valid unified social credit code (18 chars, correct GB 32100 check character)."""
    body = ""
    for _ in range(17 - len(prefix)):
        n, digit = divmod(n, len(CREDIT_CHARS))
        body = CREDIT_CHARS[digit] + body
    first17 = prefix + body
    return first17 + credit_check_char(first17)


def wrong_check(code: str) -> str:
    """The same code with a wrong (but well-formed) check character."""
    right = code[17]
    other = next(c for c in CREDIT_CHARS if c != right)
    return code[:17] + other


# ---------------------------------------------------------------- TOML / config


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal, float)):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def toml_text(sections: dict[str, dict]) -> str:
    out = []
    for name, values in sections.items():
        out.append(f"[{name}]")
        out += [f"{key} = {_toml_value(value)}" for key, value in values.items()]
        out.append("")
    return "\n".join(out)


def sections(**changes: dict) -> dict[str, dict]:
    """BASE_SECTIONS with some keys changed: sections(rules={"min_org_age_days": 0})."""
    result = {name: dict(values) for name, values in BASE_SECTIONS.items()}
    for name, values in changes.items():
        result.setdefault(name, {}).update(values)
    return result


def make_config(**changes: dict) -> CycleConfig:
    return parse_config(toml_text(sections(**changes)))


# ---------------------------------------------------------------- CSV files


def csv_text(header: list[str], rows: list) -> str:
    """Rows are lists (taken as they are) or dicts (keys outside `header` are appended as columns)."""
    header = list(header)
    for row in rows:
        if isinstance(row, dict):
            header += [k for k in row if k not in header]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header] if isinstance(row, dict) else row)
    return buffer.getvalue()


def write_csv(path: Path, header: list[str], rows: list, encoding: str = "utf-8") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_text(header, rows).encode(encoding))
    return path


def org(code: str, **fields) -> dict:
    row = {
        "credit_code": code,
        "name": f"机构{code[-4:]}",
        "org_type": "社会服务机构",
        "registered_on": "2020-01-01",
        "inspection": "合格",
        "contact": "张三",
        "phone": "0431-8888888",
    }
    row.update(fields)
    return row


def proposal(pid: str, code: str, **fields) -> dict:
    row = {
        "proposal_id": pid,
        "credit_code": code,
        "title": f"项目{pid}",
        "category": "为老",
        "street": "南关街道",
        "community": "永吉社区",
        "requested": "100000.00",
        "cofunding": "0",
        "beneficiaries": "120",
        "start_on": "2026-04-01",
        "end_on": "2026-11-30",
        "summary": "简介",
    }
    row.update(fields)
    return row


def budget(pid: str, amount: str = "100000.00", admin: str | None = None) -> list[dict]:
    """Budget lines for `pid`: one activity line of `amount`, plus one admin line if given."""
    rows = [{"proposal_id": pid, "item": "活动费", "kind": "活动", "amount": amount}]
    if admin is not None:
        rows.append({"proposal_id": pid, "item": "管理费", "kind": "管理", "amount": admin})
    return rows


def write_intake(folder: Path, orgs: list, proposals: list, lines: list, encoding: str = "utf-8") -> Path:
    folder = Path(folder)
    write_csv(folder / "organizations.csv", ORG_HEADER, orgs, encoding)
    write_csv(folder / "proposals.csv", PROPOSAL_HEADER, proposals, encoding)
    write_csv(folder / "budget_lines.csv", LINE_HEADER, lines, encoding)
    return folder


def score_row(pid: str, rid: str, scores: dict | None = None, conflict: str = "no", comment: str = "") -> dict:
    """A returned score-sheet row; `scores` maps criterion → cell text (missing criteria are blank)."""
    row = {"proposal_id": pid, "reviewer_id": rid}
    for criterion in RUBRIC:
        row[criterion] = (scores or {}).get(criterion, "")
    row.update(comment=comment, conflict=conflict)
    return row


def full_scores(total_points: int) -> dict:
    """Cell texts for the default rubric adding up to `total_points` (whole points)."""
    out, left = {}, total_points
    for criterion, maximum in RUBRIC.items():
        take = min(maximum, left)
        out[criterion] = str(take)
        left -= take
    assert left == 0
    return out


def write_scores(path: Path, rows: list[dict], encoding: str = "utf-8-sig") -> Path:
    return write_csv(path, ["proposal_id", "reviewer_id", *RUBRIC, "comment", "conflict"], rows, encoding)


# ---------------------------------------------------------------- a small complete cycle

SMALL_TOTALS = {"P1": 90, "P2": 85, "P3": 80, "P4": 60}  # expert totals: P4 stays under the threshold


def write_small_cycle(folder: Path, emails: dict[str, str] | None = None, sheets: bool = True, **toml_changes: dict) -> Path:
    """A complete little cycle (`fund run` takes it to the public notice): five organizations,
    P1–P3 fundable, P4 under the score threshold, P5 asking too much (ineligible); two
    reviewers who score everything (a comment, a half point); one community rating each.
    `emails` gives organizations an e-mail by proposal id; toml_changes go into cycle.toml."""
    folder = Path(folder)
    codes = {f"P{i}": credit_code(i, "5133") for i in range(1, 6)}
    orgs = [
        org(code, name=f"南关区第{i}社工服务中心", email=(emails or {}).get(pid, ""))
        for i, (pid, code) in enumerate(codes.items(), start=1)
    ]
    proposals = [
        proposal(
            pid,
            code,
            title=f"永吉社区{'助老助残助学帮困'[i % 4]}服务{pid}",
            requested="250000.00" if pid == "P5" else f"{60000 + 10000 * i}.00",
        )
        for i, (pid, code) in enumerate(codes.items(), start=1)
    ]
    lines = [line for p in proposals for line in budget(p["proposal_id"], p["requested"])]
    write_csv(folder / "organizations.csv", ORG_HEADER + ["email"], orgs)
    write_csv(folder / "proposals.csv", PROPOSAL_HEADER, proposals)
    write_csv(folder / "budget_lines.csv", LINE_HEADER, lines)
    write_csv(
        folder / "reviewers.csv",
        ["reviewer_id", "name", "email", "expertise", "affiliations", "max_load"],
        [["R1", "李评审", "r1@example.cn", "为老", "", 10], ["R2", "王评审", "r2@example.cn", "为小", "", 10]],
    )
    if sheets:
        for rid in ("R1", "R2"):
            rows = [
                score_row(pid, rid, full_scores(total), comment="需求明确" if pid == "P1" else "")
                for pid, total in SMALL_TOTALS.items()
            ]
            if rid == "R1":  # half points, the same total
                rows[1]["design"], rows[1]["impact"] = "17.5", "2.5"
            write_scores(folder / "scores" / f"{rid}.csv", rows)
    write_csv(
        folder / "community_ratings.csv",
        ["proposal_id", "rater_group", "raters", "rating"],
        [[pid, "居民议事会", 12, "85"] for pid in SMALL_TOTALS],
    )
    changes = {"rules": {"min_org_age_days": 0}, **toml_changes}
    (folder / "cycle.toml").write_text(toml_text(sections(**changes)), encoding="utf-8")
    return folder


def file_digests(folder: Path, skip: tuple[str, ...] = (), blank: tuple[tuple[re.Pattern, bytes], ...] = ()) -> dict[str, str]:
    """SHA-256 of every file under `folder` by its relative path ("allocation/publicity.html"),
    leaving out paths that start with one of `skip` and, before hashing, replacing what each
    pattern of `blank` matches by its stand-in."""
    digests = {}
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if name.startswith(skip):
            continue
        data = path.read_bytes()
        for pattern, stand_in in blank:
            data = pattern.sub(stand_in, data)
        digests[name] = hashlib.sha256(data).hexdigest()
    return digests


def due_tranches(amounts: dict[str, int], pid: str = "P1") -> dict[tuple[str, str], dict]:
    """One project's signed tranches, due on 2026-04-01, by (proposal, kind): amounts in fen by kind."""
    return {
        (pid, kind): {
            "proposal_id": pid,
            "kind": kind,
            "amount_fen": amount,
            "due_on": dt.date(2026, 4, 1),
            "closed_on": None,
            "closing": None,
            "status": TrancheStatus.DUE,
            "reason": "signed",
            "detail": {},
        }
        for kind, amount in amounts.items()
    }

"""Expert scoring and the double evaluation (双评).

Exact arithmetic throughout (`Fraction`); the final score is rounded half up to two
decimals once, at the end. A proposal that lacks a part waits; it is never scored 0.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from fund.schemas.cells import hundredths
from fund.schemas.codes import CRITERION_LABELS
from fund.schemas.config import CycleConfig
from fund.schemas.tables import CommunityRating, CsvColumn, Review, csv_columns
from fund.tasks.reading import CsvTable, Problem, listed, present, read_csv, read_xlsx

SCORES_DIR, RATINGS = "scores", "community_ratings.csv"
scores_json = json.JSONEncoder(sort_keys=True).encode  # one encoder for every review (json.dumps makes one per call)


def score_columns(rubric: dict[str, int]) -> list[CsvColumn]:
    base = {c.attr: c for c in csv_columns(Review)}
    criteria = [CsvColumn(name, name, CRITERION_LABELS.get(name, name), "score", False, None) for name in rubric]
    return [base["proposal_id"], base["reviewer_id"], *criteria, base["comment"], base["conflict"]]


def score_files(cycle_dir: Path) -> list[Path]:
    """Every returned sheet in scores/, whatever its format (`read_score_sheets` says which it reads)."""
    folder = Path(cycle_dir) / SCORES_DIR
    # a sub-folder is not a sheet, unless it has a sheet's name (then it stops the stage, named)
    return (
        sorted(p for p in folder.glob("*") if (not p.is_dir() or p.suffix.lower() in SHEET_READERS) and listed(p, SCORES_DIR))
        if folder.is_dir()
        else []
    )


SHEET_READERS = {".csv": read_csv, ".txt": read_csv, ".xlsx": read_xlsx}


def read_score_sheets(cycle_dir: Path, rubric: dict[str, int]) -> list[CsvTable]:
    """The returned sheets: CSV and Excel workbooks are read alike; a file in any other format
    (.xls, .ods, .docx, …) is a `file_format` problem naming it, never passed over silently."""
    columns = score_columns(rubric)
    tables = []
    for path in score_files(cycle_dir):
        source = f"{SCORES_DIR}/{path.name}"
        reader = SHEET_READERS.get(path.suffix.lower())
        if reader is None:
            problem = Problem(source, None, "", "", path.name, "file_format", {"ext": path.suffix.lower() or path.name})
            tables.append(CsvTable(source, [], [problem], 0, []))
        else:
            tables.append(reader(path, source, columns, ("proposal_id", "reviewer_id"), tuple(rubric)))
    return tables


def read_ratings(cycle_dir: Path) -> CsvTable | None:
    path = Path(cycle_dir) / RATINGS
    if not present(path, RATINGS):
        return None
    return read_csv(path, RATINGS, csv_columns(CommunityRating), ("proposal_id", "rater_group"))


def half_points(value: Decimal) -> int | None:
    doubled = value * 2
    return int(doubled) if doubled == doubled.to_integral_value() else None


@dataclass
class ReviewImport:
    reviews: list[dict]  # accepted score rows (conflict rows included)
    pending: set[tuple[str, str]]  # rows returned blank: (proposal, reviewer)
    problems: list[Problem]
    rows_in: int


@dataclass
class CheckedSheets:
    """Score sheets with each readable row checked on its own (score cells, ranges, half-point
    steps): the part of the import that does not depend on the assignments, done once
    however many assignment rounds follow. Per table: (row, review, cell problems), where
    review is None for a row returned blank."""

    tables: list[CsvTable]
    rows: list[list[tuple[dict, dict | None, list[tuple]]]]


def check_sheets(tables: list[CsvTable], rubric: dict[str, int]) -> CheckedSheets:
    checked = []
    for table in tables:
        rows = []
        for row in table.rows:
            if not row["_ok"]:
                continue
            conflict = bool(row.get("conflict"))
            if not conflict and all(row.get(c) is None for c in rubric):
                rows.append((row, None, []))
                continue
            scores: dict[str, int] = {}
            cell_problems: list[tuple] = []  # (field, value, rule, params)
            if not conflict:
                for criterion, maximum in rubric.items():
                    value = row.get(criterion)
                    if value is None:
                        cell_problems.append((criterion, "", "required", {}))
                    elif not 0 <= value <= maximum:
                        cell_problems.append((criterion, str(value), "score_out_of_range", {"max": maximum}))
                    elif (half := half_points(value)) is None:
                        cell_problems.append((criterion, str(value), "score_step", {}))
                    else:
                        scores[criterion] = half
            review = {
                "proposal_id": row["proposal_id"],
                "reviewer_id": row["reviewer_id"],
                "comment": row.get("comment"),
                "conflict": conflict,
                "scores_half": scores_json(scores),
                "total_half": sum(scores.values()),
                "source_file": table.source_file,
                "source_row": row["_line"],
            }
            rows.append((row, review, cell_problems))
        checked.append(rows)
    return CheckedSheets(tables, checked)


def import_reviews(sheets: CheckedSheets, accepted: set[str], assigned: set[tuple[str, str]]) -> ReviewImport:
    """The reviews of accepted proposals by their assigned reviewers, one per pair."""
    problems: list[Problem] = []
    candidates: dict[tuple[str, str], list[dict]] = defaultdict(list)
    pending: set[tuple[str, str]] = set()
    for table, rows in zip(sheets.tables, sheets.rows):
        problems.extend(table.problems)
        for row, review, cell_problems in rows:
            pid, rid, line = row["proposal_id"], row["reviewer_id"], row["_line"]
            if pid not in accepted:
                problems.append(Problem(table.source_file, line, f"{pid}/{rid}", "proposal_id", pid, "score_proposal_unknown"))
            elif (pid, rid) not in assigned:
                problems.append(Problem(table.source_file, line, f"{pid}/{rid}", "reviewer_id", rid, "not_assigned"))
            elif review is None:
                pending.add((pid, rid))
            elif cell_problems:
                problems += [
                    Problem(table.source_file, line, f"{pid}/{rid}", name, value, rule, params)
                    for name, value, rule, params in cell_problems
                ]
            else:
                candidates[(pid, rid)].append(review)
    reviews = []
    for key in sorted(candidates):
        copies = candidates[key]
        first = copies[0]
        same = all(
            (c["scores_half"], c["conflict"], c["comment"]) == (first["scores_half"], first["conflict"], first["comment"])
            for c in copies[1:]
        )
        if same:
            reviews.append(first)
            pending.discard(key)
        else:
            where = ", ".join(f"{c['source_file']}:{c['source_row']}" for c in copies)
            problems += [
                Problem(
                    c["source_file"],
                    c["source_row"],
                    f"{key[0]}/{key[1]}",
                    "reviewer_id",
                    key[1],
                    "duplicate_review",
                    {"lines": where},
                )
                for c in copies
            ]
    return ReviewImport(reviews, pending, problems, sum(table.rows_in for table in sheets.tables))


def validate_reviews(
    tables: list[CsvTable], rubric: dict[str, int], accepted: set[str], assigned: set[tuple[str, str]]
) -> ReviewImport:
    return import_reviews(check_sheets(tables, rubric), accepted, assigned)


def validate_ratings(table: CsvTable | None, accepted: set[str]) -> tuple[list[dict], list[Problem]]:
    if table is None:
        return [], []
    problems = list(table.problems)
    copies: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in table.rows:
        if row.get("proposal_id") and row.get("rater_group"):
            copies[(row["proposal_id"], row["rater_group"])].append(row)
    by_key: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for key, rows in copies.items():
        if len(rows) > 1:  # every copy, also one with a bad cell of its own
            lines = ", ".join(str(r["_line"]) for r in rows)
            problems += [
                Problem(RATINGS, r["_line"], f"{key[0]}/{key[1]}", "rater_group", key[1], "duplicate_rating", {"lines": lines})
                for r in rows
            ]
    for row in table.rows:
        if not row["_ok"]:
            continue
        ident = f"{row['proposal_id']}/{row['rater_group']}"
        rating: Decimal = row["rating_centi"]
        if row["proposal_id"] not in accepted:
            problems.append(Problem(RATINGS, row["_line"], ident, "proposal_id", row["proposal_id"], "rating_proposal_unknown"))
        elif not 0 <= rating <= 100:
            problems.append(Problem(RATINGS, row["_line"], ident, "rating", str(rating), "rating_out_of_range"))
        elif hundredths(rating) is None:
            problems.append(Problem(RATINGS, row["_line"], ident, "rating", str(rating), "rating_precision"))
        elif len(copies[(row["proposal_id"], row["rater_group"])]) == 1:
            by_key[(row["proposal_id"], row["rater_group"])].append(row)
    ratings = []
    for key in sorted(by_key):
        row = by_key[key][0]
        ratings.append(
            {
                "proposal_id": key[0],
                "rater_group": key[1],
                "raters": row["raters"],
                "rating_centi": hundredths(row["rating_centi"]),
                "source_row": row["_line"],
            }
        )
    return ratings, problems


def round_centi(value: Fraction) -> int:
    """Half up to two decimals, as integer hundredths: floor(value × 100 + 1/2), in integers."""
    value = Fraction(value)
    return (200 * value.numerator + value.denominator) // (2 * value.denominator)


def expert_score(totals_half: list[int] | list[Fraction]) -> Fraction:
    """Mean of review totals; with 3 or more, one highest and one lowest are dropped first."""
    totals = sorted(totals_half)
    if len(totals) >= 3:
        totals = totals[1:-1]
    return Fraction(sum(totals), 2 * len(totals))


def community_score(ratings: list[dict]) -> Fraction:
    raters = sum(r["raters"] for r in ratings)
    return Fraction(sum(r["rating_centi"] * r["raters"] for r in ratings), 100 * raters)


@dataclass
class Evaluation:
    rows: list[dict]  # one per accepted proposal (Evaluation table rows)
    requests: list[tuple[dict, str]]  # (proposal, cause) needing one more reviewer
    waiting: dict[str, dict]  # proposal id → what it waits for


def severities(reviews: list[dict]) -> dict[str, Fraction]:
    """A reviewer's severity: the mean, over their reviews, of their total minus the mean
    total of the co-reviewers of the same proposal (negative = stricter), in points."""
    by_proposal: dict[str, list[dict]] = defaultdict(list)
    for r in reviews:
        if not r["conflict"]:
            by_proposal[r["proposal_id"]].append(r)
    # every deviation is a whole multiple of 1/unit (unit = 2 × the lcm of the co-reviewer counts),
    # so they add up as integers
    unit = 2 * math.lcm(*{len(panel) - 1 for panel in by_proposal.values() if len(panel) > 1}, 1)
    deviation_units: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # reviewer → [sum, count]
    for panel in by_proposal.values():
        if len(panel) < 2:
            continue
        panel_sum = sum(r["total_half"] for r in panel)
        others = len(panel) - 1
        for r in panel:
            mean_others = (panel_sum - r["total_half"]) * (unit // (2 * others))
            entry = deviation_units[r["reviewer_id"]]
            entry[0] += r["total_half"] * (unit // 2) - mean_others
            entry[1] += 1
    return {rid: Fraction(total, unit * count) for rid, (total, count) in deviation_units.items()}


def panel_agreement(reviews: list[dict]) -> float | None:
    """ICC(1) of the review totals over proposals with two or more reviews (one-way random
    effects, unbalanced panels); None when there are too few panels to say."""
    panels: dict[str, list[float]] = defaultdict(list)
    for r in reviews:
        if not r["conflict"]:
            panels[r["proposal_id"]].append(r["total_half"] / 2)
    groups = [g for g in panels.values() if len(g) >= 2]
    k, n = len(groups), sum(len(g) for g in groups)
    if k < 2 or n - k < 1:
        return None
    grand = sum(sum(g) for g in groups) / n
    means = [sum(g) / len(g) for g in groups]
    msb = sum(len(g) * (m - grand) ** 2 for g, m in zip(groups, means)) / (k - 1)
    msw = sum((x - m) ** 2 for g, m in zip(groups, means) for x in g) / (n - k)
    n0 = (n - sum(len(g) ** 2 for g in groups) / n) / (k - 1)
    denominator = msb + (n0 - 1) * msw
    return (msb - msw) / denominator if denominator else None


def reviewer_statistics(reviews: list[dict]) -> list[dict]:
    """evaluation/reviewers.csv rows: reviews, conflicts, mean total, severity, panel agreement."""
    severity = severities(reviews)
    agreement = panel_agreement(reviews)
    per: dict[str, list[dict]] = defaultdict(list)
    for r in reviews:
        per[r["reviewer_id"]].append(r)
    rows = []
    for rid in sorted(per):
        scored = [r["total_half"] for r in per[rid] if not r["conflict"]]
        rows.append(
            {
                "reviewer_id": rid,
                "reviews": len(scored),
                "conflicts": len(per[rid]) - len(scored),
                "mean_total": round_centi(Fraction(sum(scored), 2 * len(scored))) if scored else None,
                "severity": severity.get(rid),
                "panel_icc": agreement,
            }
        )
    return rows


def evaluate(
    cfg: CycleConfig,
    proposals: list[dict],
    assignments: list[dict],
    reviews: list[dict],
    ratings: list[dict],
    pending: set[tuple[str, str]],
    calibrate: bool | None = None,
    bonus: dict[str, int] | None = None,
) -> Evaluation:
    """With calibration (`[scoring] calibrate`), each review total is first adjusted by its
    reviewer's severity; the discrepancy check always looks at the totals as given.
    `bonus` gives the previous cycle's incentive points (hundredths) per credit code; they
    are added to the final score, which stays at most 100."""
    bonus = bonus or {}
    calibrate = cfg.scoring.calibrate if calibrate is None else calibrate
    severity = severities(reviews) if calibrate else {}
    per_proposal = cfg.rules.reviewers_per_proposal
    threshold_half = int(cfg.rules.discrepancy_threshold * 2)
    w_expert = Fraction(cfg.weights["expert"])
    w_community = Fraction(cfg.weights["community"])
    reviews_of: dict[str, dict[str, dict]] = defaultdict(dict)  # proposal → reviewer → review
    for r in reviews:
        reviews_of[r["proposal_id"]][r["reviewer_id"]] = r
    assigned: dict[str, list[str]] = defaultdict(list)
    for a in assignments:
        assigned[a["proposal_id"]].append(a["reviewer_id"])
    rated: dict[str, list[dict]] = defaultdict(list)
    for r in ratings:
        rated[r["proposal_id"]].append(r)
    rows, requests, waiting = [], [], {}
    for proposal in sorted(proposals, key=lambda p: p["proposal_id"]):
        pid = proposal["proposal_id"]
        mine = reviews_of.get(pid, {})
        returned = [mine[rid] for rid in assigned[pid] if rid in mine]
        valid = [r for r in returned if not r["conflict"]]
        active = len(assigned[pid]) - (len(returned) - len(valid))
        totals = [r["total_half"] for r in valid]
        target = per_proposal
        disagreement = len(totals) == 2 and abs(totals[0] - totals[1]) > threshold_half
        if disagreement:
            target = max(target, 3)
        for _ in range(target - active):
            requests.append((proposal, "third_review" if disagreement and active >= per_proposal else "conflict_replacement"))
        adjusted = (
            [min(Fraction(200), max(Fraction(0), r["total_half"] - 2 * severity.get(r["reviewer_id"], 0))) for r in valid]
            if severity
            else totals
        )
        expert = expert_score(adjusted) if len(totals) >= target and totals else None
        community = community_score(rated[pid]) if rated.get(pid) else None
        status = "scored"
        need: dict = {}
        if expert is None:
            status = "waiting_third_review" if disagreement else "waiting_reviews"
            need["reviewers"] = sorted(rid for rid in assigned[pid] if rid not in mine)
            need["missing"] = max(target - active, 0)
            need["blank"] = sorted(rid for rid in assigned[pid] if (pid, rid) in pending)
        if community is None:
            need["community"] = True
            if expert is not None:
                status = "waiting_community"
        if need:
            waiting[pid] = need | {"status": status}
        points = bonus.get(proposal.get("credit_code"), 0)
        final = (
            min(expert * w_expert + community * w_community + Fraction(points, 100), Fraction(100))
            if expert is not None and community is not None
            else None
        )
        rows.append(
            {
                "proposal_id": pid,
                "n_reviews": len(totals),
                "bonus_centi": points,
                "expert_centi": round_centi(expert) if expert is not None else None,
                "community_centi": round_centi(community) if community is not None else None,
                "final_centi": round_centi(final) if final is not None else None,
                "status": status,
            }
        )
    return Evaluation(rows, requests, waiting)

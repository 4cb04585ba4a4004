"""fund.tasks.scoring: score-sheet import, expert/community/final scores, the double evaluation."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builders import RUBRIC, credit_code, full_scores, make_config, score_row, write_scores
from fund.tasks.reading import read_csv
from fund.tasks.scoring import (
    community_score,
    evaluate,
    expert_score,
    read_score_sheets,
    round_centi,
    score_columns,
    validate_reviews,
)

CFG = make_config()  # 2 reviewers, discrepancy 15 points, weights 0.7 / 0.3
CODE = credit_code(1)
PROPERTY = settings(max_examples=200, derandomize=True, deadline=None, database=None)


# ---------------------------------------------------------------- pure arithmetic


@pytest.mark.parametrize(
    "totals_half, expected",
    [
        ([160, 170], Fraction(165, 2)),  # 80 and 85 points → 82.5
        ([121, 120], Fraction(241, 4)),  # 60.5 and 60 → 60.25, exact
        ([100, 150, 190], Fraction(75)),  # drop 50 and 95 → 75
        ([100, 100, 190, 200], Fraction(145, 2)),  # drop one 50 and the 100 → (50 + 95) / 2
        ([120, 140, 140, 160, 200], Fraction(220, 3)),
    ],
)
def test_expert_score(totals_half, expected):
    assert expert_score(totals_half) == expected


@PROPERTY
@given(st.lists(st.integers(0, 200), min_size=3, max_size=8))
def test_expert_score_trimmed_mean_property(totals):
    trimmed = sorted(totals)[1:-1]
    assert expert_score(totals) == Fraction(sum(trimmed), 2 * len(trimmed))
    assert Fraction(min(totals), 2) <= expert_score(totals) <= Fraction(max(totals), 2)


def test_community_score_weighted_by_raters():
    ratings = [{"rating_centi": 8000, "raters": 10}, {"rating_centi": 9000, "raters": 30}]
    assert community_score(ratings) == Fraction(175, 2)  # 87.5, not the plain mean 85
    assert community_score([{"rating_centi": 7009, "raters": 1}, {"rating_centi": 8000, "raters": 2}]) == Fraction(23009, 300)


@pytest.mark.parametrize(
    "value, centi",
    [
        (Fraction(12345, 1000), 1235),  # 12.345 → 12.35 (half up)
        (Fraction(12344999, 1000000), 1234),
        (Fraction(125, 1000), 13),  # 0.125 → 0.13 (half up, not half even)
        (Fraction(2675, 1000), 268),  # 2.675: the float would be 2.67499…
        (Fraction(1, 3), 33),
        (Fraction(2, 3), 67),
        (Fraction(100), 10000),
        (Fraction(0), 0),
        (Fraction(1, 200), 1),  # 0.005 → 0.01
        (Fraction(1, 201), 0),
    ],
)
def test_round_centi_half_up(value, centi):
    assert round_centi(value) == centi


# ---------------------------------------------------------------- evaluate


def proposal(pid="P1"):
    return {"proposal_id": pid, "credit_code": CODE, "category": "elderly"}


def assigned(pid, *rids, round_=1):
    return [{"proposal_id": pid, "reviewer_id": rid, "round": round_, "cause": "initial"} for rid in rids]


def review(pid, rid, total_half, conflict=False):
    return {"proposal_id": pid, "reviewer_id": rid, "conflict": conflict, "total_half": 0 if conflict else total_half}


def rating(pid, centi, raters=1, group="居民议事会"):
    return {"proposal_id": pid, "rater_group": group, "raters": raters, "rating_centi": centi}


def one(result):
    (row,) = result.rows
    return row


def test_scored_final_is_rounded_once_at_the_end():
    # expert (60 + 60.5) / 2 = 60.25; community (70.09×1 + 80×2) / 3 = 76.69666…
    # exact: 0.7 × 60.25 + 0.3 × 76.69666… = 42.175 + 23.009 = 65.184 → 65.18
    # rounding the parts first (60.25, 76.70) would give 42.175 + 23.01 = 65.185 → 65.19
    result = evaluate(
        CFG,
        [proposal()],
        assigned("P1", "R1", "R2"),
        [review("P1", "R1", 120), review("P1", "R2", 121)],
        [rating("P1", 7009, 1, "居民"), rating("P1", 8000, 2, "受益人代表")],
        set(),
    )
    assert one(result) == {
        "proposal_id": "P1",
        "n_reviews": 2,
        "expert_centi": 6025,
        "community_centi": 7670,
        "final_centi": 6518,
        "status": "scored",
        "bonus_centi": 0,
    }
    assert round_centi(Fraction(6025, 100) * Fraction(7, 10) + Fraction(7670, 100) * Fraction(3, 10)) == 6519
    assert result.requests == [] and result.waiting == {}


@pytest.mark.parametrize(
    "bonus, final",
    [
        ({CODE: 200}, 6718),  # 65.184 + 2 → 67.18, the exact sum rounded once
        ({CODE: 1}, 6519),  # 65.184 + 0.01 = 65.194 → 65.19
        ({credit_code(9): 500}, 6518),  # another organization's bonus does nothing
        ({CODE: 2000}, 8518),
    ],
)
def test_previous_cycle_bonus_is_added_to_the_exact_final_score(bonus, final):
    result = evaluate(
        CFG,
        [proposal()],
        assigned("P1", "R1", "R2"),
        [review("P1", "R1", 120), review("P1", "R2", 121)],
        [rating("P1", 7009, 1, "居民"), rating("P1", 8000, 2, "受益人代表")],
        set(),
        bonus=bonus,
    )
    assert one(result)["final_centi"] == final and one(result)["expert_centi"] == 6025
    assert one(result)["bonus_centi"] == bonus.get(CODE, 0)


def test_final_score_with_bonus_stays_at_most_100():
    result = evaluate(
        CFG,
        [proposal()],
        assigned("P1", "R1", "R2"),
        [review("P1", "R1", 196), review("P1", "R2", 200)],
        [rating("P1", 9900)],
        set(),
        bonus={CODE: 500},
    )
    assert one(result)["final_centi"] == 10000


def test_final_uses_configured_weights():
    cfg = make_config(weights={"expert": 0.5, "community": 0.5})
    result = evaluate(
        cfg,
        [proposal()],
        assigned("P1", "R1", "R2"),
        [review("P1", "R1", 160), review("P1", "R2", 170)],
        [rating("P1", 9000)],
        set(),
    )
    assert one(result)["final_centi"] == 8625  # (82.5 + 90) / 2


def test_discrepancy_above_threshold_requests_third_review():
    proposals = [proposal()]
    result = evaluate(
        CFG,
        proposals,
        assigned("P1", "R1", "R2"),
        [review("P1", "R1", 160), review("P1", "R2", 129)],  # 80 vs 64.5: 15.5 apart
        [rating("P1", 8000)],
        set(),
    )
    assert result.requests == [(proposals[0], "third_review")]
    row = one(result)
    assert row["status"] == "waiting_third_review"
    assert row["expert_centi"] is None and row["final_centi"] is None and row["community_centi"] == 8000
    assert result.waiting["P1"]["status"] == "waiting_third_review"


def test_discrepancy_exactly_at_threshold_is_fine():
    result = evaluate(
        CFG,
        [proposal()],
        assigned("P1", "R1", "R2"),
        [review("P1", "R1", 160), review("P1", "R2", 130)],  # 80 vs 65: exactly 15
        [rating("P1", 8000)],
        set(),
    )
    assert result.requests == []
    assert one(result)["status"] == "scored" and one(result)["expert_centi"] == 7250


def test_third_reviewer_assigned_but_not_returned_waits_without_new_request():
    result = evaluate(
        CFG,
        [proposal()],
        assigned("P1", "R1", "R2") + assigned("P1", "R3", round_=2),
        [review("P1", "R1", 160), review("P1", "R2", 100)],
        [rating("P1", 8000)],
        {("P1", "R3")},
    )
    assert result.requests == []
    assert one(result)["status"] == "waiting_third_review"
    assert result.waiting["P1"]["reviewers"] == ["R3"] and result.waiting["P1"]["blank"] == ["R3"]


def test_third_review_returned_gives_trimmed_mean():
    result = evaluate(
        CFG,
        [proposal()],
        assigned("P1", "R1", "R2") + assigned("P1", "R3", round_=2),
        [review("P1", "R1", 160), review("P1", "R2", 100), review("P1", "R3", 150)],
        [rating("P1", 8000)],
        set(),
    )
    row = one(result)
    assert (row["n_reviews"], row["expert_centi"], row["status"]) == (3, 7500, "scored")
    assert row["final_centi"] == 7650  # 0.7 × 75 + 0.3 × 80


def test_no_community_rating_waits_and_is_never_zero():
    result = evaluate(
        CFG, [proposal()], assigned("P1", "R1", "R2"), [review("P1", "R1", 160), review("P1", "R2", 170)], [], set()
    )
    row = one(result)
    assert row["status"] == "waiting_community"
    assert row["expert_centi"] == 8250
    assert row["community_centi"] is None and row["final_centi"] is None
    assert result.waiting["P1"] == {"community": True, "status": "waiting_community"}


def test_no_reviews_waits_and_is_never_zero():
    result = evaluate(CFG, [proposal()], assigned("P1", "R1", "R2"), [], [], {("P1", "R2")})
    row = one(result)
    assert row == {
        "proposal_id": "P1",
        "n_reviews": 0,
        "expert_centi": None,
        "community_centi": None,
        "final_centi": None,
        "status": "waiting_reviews",
        "bonus_centi": 0,
    }
    assert result.requests == []
    assert result.waiting["P1"]["reviewers"] == ["R1", "R2"] and result.waiting["P1"]["blank"] == ["R2"]


def test_declared_conflict_requests_replacement():
    proposals = [proposal()]
    result = evaluate(
        CFG,
        proposals,
        assigned("P1", "R1", "R2"),
        [review("P1", "R1", 160), review("P1", "R2", 0, conflict=True)],
        [rating("P1", 8000)],
        set(),
    )
    assert result.requests == [(proposals[0], "conflict_replacement")]
    row = one(result)
    assert row["status"] == "waiting_reviews" and row["final_centi"] is None and row["n_reviews"] == 1


def test_replacement_reviewer_completes_the_panel():
    result = evaluate(
        CFG,
        [proposal()],
        assigned("P1", "R1", "R2") + assigned("P1", "R3", round_=2),
        [review("P1", "R1", 160), review("P1", "R2", 0, conflict=True), review("P1", "R3", 150)],
        [rating("P1", 8000)],
        set(),
    )
    assert result.requests == []
    row = one(result)
    assert (row["n_reviews"], row["expert_centi"], row["final_centi"], row["status"]) == (2, 7750, 7825, "scored")


def test_rows_are_per_proposal_in_id_order():
    result = evaluate(CFG, [proposal("P2"), proposal("P1")], [], [], [], set())
    assert [r["proposal_id"] for r in result.rows] == ["P1", "P2"]
    assert all(r["status"] == "waiting_reviews" and r["final_centi"] is None for r in result.rows)


# ---------------------------------------------------------------- validate_reviews on real sheets

ACCEPTED = {"P1", "P2"}
ASSIGNED = {("P1", "R1"), ("P1", "R2"), ("P2", "R1")}


def import_sheets(folder, sheets: dict[str, list[dict]]):
    for name, rows in sheets.items():
        write_scores(folder / "scores" / name, rows)
    return validate_reviews(read_score_sheets(folder, RUBRIC), RUBRIC, ACCEPTED, ASSIGNED)


def rejected(result):
    return sorted((p.source_file, p.source_row, p.record_id, p.field, p.rule) for p in result.problems)


def test_good_sheet_is_accepted(tmp_path):
    scores = {"need": "１８.５", "design": "18", "feasibility": "12", "capacity": "13", "budget": " 14 ", "impact": "15"}
    result = import_sheets(
        tmp_path, {"R1.csv": [score_row("P1", "R1", scores, comment="需求清楚"), score_row("P2", "R1", full_scores(70))]}
    )
    assert result.problems == [] and result.pending == set() and result.rows_in == 2
    first, second = result.reviews
    assert (first["proposal_id"], first["reviewer_id"], first["total_half"], first["conflict"]) == ("P1", "R1", 181, False)
    assert json.loads(first["scores_half"])["need"] == 37
    assert (first["source_file"], first["source_row"]) == ("scores/R1.csv", 2)
    assert second["total_half"] == 140


def test_not_assigned_reviewer_is_rejected(tmp_path):
    result = import_sheets(tmp_path, {"R2.csv": [score_row("P1", "R2", full_scores(80)), score_row("P2", "R2", full_scores(80))]})
    assert rejected(result) == [("scores/R2.csv", 3, "P2/R2", "reviewer_id", "not_assigned")]
    assert [(r["proposal_id"], r["reviewer_id"]) for r in result.reviews] == [("P1", "R2")]


def test_score_for_unknown_proposal_is_rejected(tmp_path):
    result = import_sheets(tmp_path, {"R1.csv": [score_row("P9", "R1", full_scores(80))]})
    assert rejected(result) == [("scores/R1.csv", 2, "P9/R1", "proposal_id", "score_proposal_unknown")]


def test_score_above_maximum_is_out_of_range(tmp_path):
    scores = full_scores(80) | {"need": "21"}
    result = import_sheets(tmp_path, {"R1.csv": [score_row("P1", "R1", scores), score_row("P2", "R1", full_scores(80))]})
    assert rejected(result) == [("scores/R1.csv", 2, "P1/R1", "need", "score_out_of_range")]
    assert result.problems[0].params == {"max": 20} and result.problems[0].value == "21"
    assert [r["proposal_id"] for r in result.reviews] == ["P2"]


def test_negative_score_is_out_of_range(tmp_path):
    result = import_sheets(tmp_path, {"R1.csv": [score_row("P1", "R1", full_scores(80) | {"impact": "-1"})]})
    assert rejected(result) == [("scores/R1.csv", 2, "P1/R1", "impact", "score_out_of_range")]


def test_quarter_point_is_a_score_step_error(tmp_path):
    result = import_sheets(
        tmp_path,
        {
            "R1.csv": [
                score_row("P1", "R1", full_scores(80) | {"design": "7.25"}),
                score_row("P2", "R1", full_scores(80) | {"design": "7.5"}),
            ]
        },
    )
    assert rejected(result) == [("scores/R1.csv", 2, "P1/R1", "design", "score_step")]
    assert [r["proposal_id"] for r in result.reviews] == ["P2"]


def test_maximum_and_zero_are_in_range(tmp_path):
    scores = {c: str(m) for c, m in RUBRIC.items()}
    result = import_sheets(tmp_path, {"R1.csv": [score_row("P1", "R1", scores), score_row("P2", "R1", {c: "0" for c in RUBRIC})]})
    assert result.problems == []
    assert [r["total_half"] for r in result.reviews] == [200, 0]


def test_identical_duplicate_across_files_is_accepted_once(tmp_path):
    row = score_row("P1", "R1", full_scores(75), comment="好")
    result = import_sheets(tmp_path, {"a.csv": [row], "b.csv": [row]})
    assert result.problems == []
    assert len(result.reviews) == 1 and result.reviews[0]["total_half"] == 150
    assert result.rows_in == 2


def test_differing_duplicate_rejects_both(tmp_path):
    result = import_sheets(
        tmp_path,
        {
            "a.csv": [score_row("P1", "R1", full_scores(75))],
            "b.csv": [score_row("P2", "R1", full_scores(60)), score_row("P1", "R1", full_scores(76))],
        },
    )
    assert rejected(result) == [
        ("scores/a.csv", 2, "P1/R1", "reviewer_id", "duplicate_review"),
        ("scores/b.csv", 3, "P1/R1", "reviewer_id", "duplicate_review"),
    ]
    assert [r["proposal_id"] for r in result.reviews] == ["P2"]
    assert result.problems[0].params == {"lines": "scores/a.csv:2, scores/b.csv:3"}


def test_blank_row_is_pending_not_rejected(tmp_path):
    result = import_sheets(tmp_path, {"R1.csv": [score_row("P1", "R1"), score_row("P2", "R1", full_scores(80))]})
    assert result.problems == []
    assert result.pending == {("P1", "R1")}
    assert [r["proposal_id"] for r in result.reviews] == ["P2"]


def test_blank_copy_does_not_hide_a_filled_copy(tmp_path):
    result = import_sheets(tmp_path, {"a.csv": [score_row("P1", "R1")], "b.csv": [score_row("P1", "R1", full_scores(80))]})
    assert result.problems == [] and result.pending == set()
    assert [r["total_half"] for r in result.reviews] == [160]


def test_partly_filled_row_names_the_blank_criterion(tmp_path):
    scores = full_scores(80)
    del scores["impact"]
    result = import_sheets(tmp_path, {"R1.csv": [score_row("P1", "R1", scores)]})
    assert rejected(result) == [("scores/R1.csv", 2, "P1/R1", "impact", "required")]
    assert result.pending == set() and result.reviews == []


@pytest.mark.parametrize("answer", ["yes", "是", "回避"])
def test_conflict_row_is_not_a_score(tmp_path, answer):
    result = import_sheets(tmp_path, {"R1.csv": [score_row("P1", "R1", conflict=answer)]})
    assert result.problems == [] and result.pending == set()
    (review_,) = result.reviews
    assert review_["conflict"] is True and review_["total_half"] == 0


def test_unreadable_score_cell_is_a_row_problem(tmp_path):
    result = import_sheets(
        tmp_path, {"R1.csv": [score_row("P1", "R1", full_scores(80) | {"need": "很好"}), score_row("P2", "R1", full_scores(80))]}
    )
    assert rejected(result) == [("scores/R1.csv", 2, "P1/R1", "need", "number_format")]
    assert [r["proposal_id"] for r in result.reviews] == ["P2"]


def test_score_sheet_with_chinese_headers_in_gbk(tmp_path):
    columns = score_columns(RUBRIC)
    header = [c.zh for c in columns]
    row = ["P1", "R1", *full_scores(80).values(), "不错", "否"]
    path = tmp_path / "scores" / "R1.csv"
    path.parent.mkdir()
    path.write_bytes((",".join(header) + "\r\n" + ",".join(row) + "\r\n").encode("gb18030"))
    table = read_csv(path, "scores/R1.csv", columns, ("proposal_id", "reviewer_id"))
    result = validate_reviews([table], RUBRIC, ACCEPTED, ASSIGNED)
    assert result.problems == []
    assert result.reviews[0]["total_half"] == 160 and result.reviews[0]["comment"] == "不错"


def test_severity_and_panel_agreement():
    from fractions import Fraction

    from fund.tasks.scoring import panel_agreement, severities

    def review(pid, rid, total):
        return {"proposal_id": pid, "reviewer_id": rid, "total_half": total * 2, "conflict": False}

    reviews = [
        review("P1", "A", 80),
        review("P1", "B", 70),
        review("P2", "A", 90),
        review("P2", "B", 80),
        review("P3", "A", 60),
        review("P3", "C", 60),
    ]
    severity = severities(reviews)
    assert severity == {"A": Fraction(20, 3), "B": Fraction(-10), "C": Fraction(0)}
    perfect = [review("P1", "A", 80), review("P1", "B", 80), review("P2", "A", 60), review("P2", "B", 60)]
    assert panel_agreement(perfect) == 1.0
    assert panel_agreement(perfect[:2]) is None


@PROPERTY
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 7), st.integers(0, 200), st.booleans()), max_size=60))
def test_severity_is_the_exact_mean_deviation_from_co_reviewers(cells):
    from fund.tasks.scoring import severities

    reviews = list(
        {
            (p, r): {"proposal_id": f"P{p}", "reviewer_id": f"R{r}", "total_half": t, "conflict": c} for p, r, t, c in cells
        }.values()
    )
    deviations: dict[str, list[Fraction]] = {}
    for r in reviews:
        others = [o["total_half"] for o in reviews if o["proposal_id"] == r["proposal_id"] and o is not r and not o["conflict"]]
        if others and not r["conflict"]:
            deviations.setdefault(r["reviewer_id"], []).append(
                Fraction(r["total_half"], 2) - Fraction(sum(others), 2 * len(others))
            )
    assert severities(reviews) == {rid: sum(d, Fraction(0)) / len(d) for rid, d in deviations.items()}

"""What the Great Expectations gates cost next to the work of their stage, in process.

    python benchmarks/gates.py [--size 180000] [--seed 2026]

For the intake stage (organizations + proposals + budget lines: about 5.7 rows per
proposal, so the default size gives about 1M rows) and the scoring stage (every review
row of every reviewer's sheet), times the stage's own work (reading the CSVs, the
business validation, the double evaluation) and its gates exactly as `fund run` calls
them (`tasks.quality.check_table` with a file context and Data Docs under a temporary
folder), without Prefect. The first gate of a process pays once for importing Great
Expectations and building its context; that one-time cost is shown apart. Writes
`results/gates.md`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from run import RESULTS, ensure_cycle  # noqa: E402

from fund.schemas.config import load_config  # noqa: E402
from fund.schemas.tables import BudgetLine, Evaluation, Organization, Proposal, Review  # noqa: E402
from fund.tasks.assignment import assign_initial, read_reviewers, validate_reviewers  # noqa: E402
from fund.tasks.intake import read_intake, validate_intake  # noqa: E402
from fund.tasks.quality import check_table  # noqa: E402
from fund.tasks.scoring import check_sheets, evaluate, import_reviews, read_ratings, read_score_sheets, validate_ratings  # noqa: E402


def timed(work):
    started = time.perf_counter()
    value = work()
    return value, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=180_000, help="proposals in the generated cycle")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    folder, _ = ensure_cycle(args.size, args.seed)
    cfg = load_config(folder)
    quality = Path(tempfile.mkdtemp(prefix="fund-gates-"))
    root = str(quality / "quality")

    _, setup = timed(
        lambda: check_table("warm-up", [{"proposal_id": "P1", "reviewer_id": "R1", "round": 1}], Review, project_root=root)
    )
    files, read_s = timed(lambda: read_intake(folder))
    result, validate_s = timed(lambda: validate_intake(cfg, *files))
    accepted = [p for p in result.proposals if p["eligible"]]
    intake_rows = len(result.organizations) + len(accepted) + len(result.budget_lines)
    intake_gates = 0.0
    for name, rows, table in (
        ("organizations", result.organizations, Organization),
        ("proposals", accepted, Proposal),
        ("budget_lines", result.budget_lines, BudgetLine),
    ):
        _, seconds = timed(lambda: check_table(name, rows, table, project_root=root))
        intake_gates += seconds

    reviewers, _ = validate_reviewers(read_reviewers(folder))
    assignments = assign_initial(accepted, reviewers, [], cfg.rules.reviewers_per_proposal)
    ids = {p["proposal_id"] for p in accepted}
    assigned = {(a["proposal_id"], a["reviewer_id"]) for a in assignments}

    def score():
        sheets = check_sheets(read_score_sheets(folder, cfg.rubric), cfg.rubric)
        ratings, _ = validate_ratings(read_ratings(folder), ids)
        imported = import_reviews(sheets, ids, assigned)
        return imported, evaluate(cfg, accepted, assignments, imported.reviews, ratings, imported.pending)

    (imported, evaluation), scoring_s = timed(score)
    scoring_gates = 0.0
    for name, rows, table in (("reviews", imported.reviews, Review), ("evaluations", evaluation.rows, Evaluation)):
        _, seconds = timed(lambda: check_table(name, rows, table, project_root=root))
        scoring_gates += seconds

    lines = [
        f"# Gate cost next to the stage's work, {args.size:,} proposals (seed {args.seed})",
        "",
        f"One-time Great Expectations import and context: {setup:.1f} s (paid by the first gate of a run).",
        "",
        "| stage | rows gated | stage work s | gates s | gates / work |",
        "|---|---|---|---|---|",
        f"| intake | {intake_rows:,} | {read_s + validate_s:.1f} (read {read_s:.1f}, validate {validate_s:.1f}) "
        f"| {intake_gates:.1f} | {intake_gates / (read_s + validate_s):.2f} |",
        f"| scoring | {len(imported.reviews) + len(evaluation.rows):,} | {scoring_s:.1f} | {scoring_gates:.1f} "
        f"| {scoring_gates / scoring_s:.2f} |",
        "",
        "Target (issue 5): gates at 1M rows cost at most 1.5× the stage's own work.",
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "gates.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    print(f"\nwritten: {RESULTS / 'gates.md'}")


if __name__ == "__main__":
    main()

"""What the administrator does next, in their terms, from where the run stopped."""
from __future__ import annotations

from pathlib import Path

from fund.tasks.messages import say


def next_steps(results: list[dict], cycle_dir: Path, out: Path, db_url: str | None, lang: str) -> list[str]:
    if not results:
        return []
    last = results[-1]
    stage, kind, waiting = last["stage"], last["outcome"], last.get("waiting_for") or {}
    again = say(lang, "然后再运行：fund run {c} --out {o}", "then run again: fund run {c} --out {o}", c=cycle_dir, o=out)
    if kind in ("stopped", "error"):
        if kind == "error":
            return [say(lang, "下一步：这是程序内部错误，详细信息已写入 {log}，请把它发给技术支持。", "Next: this is an internal "
                        "error; its details are in {log}: send it to technical support.", log=last.get("summary", {}).get("log", ""))]
        return [say(lang, "下一步：按上面的说明修正后重新运行（fund run {c} --out {o}）；已完成的阶段不会重做。",
                    "Next: fix what is described above and run again (fund run {c} --out {o}); finished stages are not redone.",
                    c=cycle_dir, o=out)]
    if stage == "intake" and kind == "waiting":
        return [say(lang, "下一步：把 {f} 放入 {c}，", "Next: put {f} in {c}, ", f="、".join(waiting.get("files", [])), c=cycle_dir)
                + again]
    if stage == "assignment" and kind == "waiting":
        return [say(lang, "下一步：把评审专家名单 reviewers.csv 放入 {c}，", "Next: put the reviewer list reviewers.csv in {c}, ",
                    c=cycle_dir) + again]
    if stage == "scoring" and kind == "waiting" and "proposals" in waiting:
        return scoring_steps(waiting["proposals"], cycle_dir, out, db_url, lang) + [again]
    if stage == "publication" and "approval" in waiting:
        return [say(lang, "下一步：审核 {o}/allocation/allocation.csv 与 comparison.csv，然后批准：fund approve {c} --out {o} --by 姓名"
                    "（或驳回：加 --reject 理由），再运行 fund run 发布公示。",
                    "Next: review {o}/allocation/allocation.csv and comparison.csv, then approve: fund approve {c} --out {o} "
                    "--by NAME (or reject: add --reject REASON), then fund run to publish the notice.", c=cycle_dir, o=out)]
    if stage == "publication" and "rejected" in waiting:
        return [say(lang, "下一步：调整 cycle.toml 中的规则或预算（可先用 fund whatif 试算），", "Next: change the rules or the budget "
                    "in cycle.toml (try them first with fund whatif), ") + again]
    if stage == "tracking" and kind == "waiting" and "publicity_until" in waiting:
        return [say(lang, "下一步：公示期至 {d}；期间的异议用 fund objection 登记。期满后运行 fund run 签订协议并开始拨付。",
                    "Next: the notice runs until {d}; record objections with fund objection. After it, fund run signs the "
                    "agreements and starts the payments.", d=waiting["publicity_until"])]
    report = Path(out) / "reports" / "index.html"
    if report.exists():
        return [say(lang, "下一步：领导报告 {r}；公示 {p}。新的进度报告、拨付记录或评估表放入 {c} 后再运行 fund run。",
                    "Next: the leadership report is {r}; the public notice {p}. Put new progress reports, payments or "
                    "evaluation sheets in {c} and run fund run again.", r=report, p=Path(out) / "allocation" / "publicity.html",
                    c=cycle_dir)]
    return []


def scoring_steps(waiting: dict[str, dict], cycle_dir: Path, out: Path, db_url: str | None, lang: str) -> list[str]:
    """Whom to send which sheet, and whose ratings are missing."""
    reviewers: dict[str, int] = {}
    ratings = 0
    for need in waiting.values():
        for rid in need.get("reviewers", []):
            reviewers[rid] = reviewers.get(rid, 0) + 1
        ratings += bool(need.get("community"))
    people = reviewer_contacts(db_url, cycle_dir) if reviewers else {}
    lines = []
    if reviewers:
        listed = "；".join(f"{rid}（{people[rid]}，{n} 项）" if people.get(rid) else f"{rid}（{n} 项）"
                          for rid, n in sorted(reviewers.items())[:15]) if lang != "en" else \
            "; ".join(f"{rid} ({people[rid]}, {n})" if people.get(rid) else f"{rid} ({n})" for rid, n in sorted(reviewers.items())[:15])
        more = " …" if len(reviewers) > 15 else ""
        lines.append(say(lang, "下一步：把 {o}/review/sheets/ 中的评分表发给这些专家并催收：{r}{m}；交回的表放入 {c}/scores/。",
                         "Next: send the sheets in {o}/review/sheets/ to these reviewers and collect them: {r}{m}; put the "
                         "returned sheets in {c}/scores/.", o=out, r=listed, m=more, c=cycle_dir))
    if ratings:
        lines.append(say(lang, "把 {n} 个项目的社区评议结果补入 {c}/community_ratings.csv。",
                         "Add the community ratings of {n} proposals to {c}/community_ratings.csv.", n=ratings, c=cycle_dir))
    return lines


def reviewer_contacts(db_url: str | None, cycle_dir: Path) -> dict[str, str]:
    from fund.schemas.config import load_config
    from fund.schemas.tables import Reviewer
    from fund.tasks.store import load_rows

    if db_url is None:
        return {}
    rows = load_rows(db_url, Reviewer, load_config(Path(cycle_dir)).cycle.id)
    return {r["reviewer_id"]: " ".join(x for x in (r["name"], r.get("email") or "") if x) for r in rows}

"""Every stored entity, defined once.

Each SQLModel table below is the single definition of its entity. Fields that come
from an input CSV carry their CSV description in `schema_extra`:

    csv   the English header (the contract's name)      zh     the Chinese header
    kind  how the cell is parsed (see schemas.cells)    vocab  closed vocabulary name
    required  an empty cell is an error

`tasks.reading` builds the CSV readers from this, and `tasks.quality` builds the
Great Expectations suites from the same fields (types, nullability, ranges, sets).
Money is integer fen (`*_fen`), never float.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import BigInteger, LargeBinary, Text
from sqlmodel import Field, SQLModel


def csv_field(
    header: str,
    zh: str,
    kind: str = "text",
    *,
    required: bool = True,
    vocab: str | None = None,
    primary_key: bool = False,
    ge: int | None = None,
    le: int | None = None,
    default=None,
    big: bool = False,
):
    """A column filled from an input CSV cell."""
    extra = {"csv": header, "zh": zh, "kind": kind, "required": required}
    if vocab:
        extra["vocab"] = vocab
    kwargs = {"schema_extra": {"json_schema_extra": extra}, "primary_key": primary_key}
    if ge is not None:
        kwargs["ge"] = ge
    if le is not None:
        kwargs["le"] = le
    if big:
        kwargs["sa_type"] = BigInteger
    if kind == "text" and not primary_key and header not in {"proposal_id", "reviewer_id", "credit_code"}:
        kwargs["sa_type"] = Text
    return Field(default=default, **kwargs)


def cycle_key():
    return Field(primary_key=True, max_length=64)


class Cycle(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    name: str
    budget_fen: int = Field(sa_type=BigInteger, ge=0)
    opens: dt.date
    closes: dt.date
    config_toml: str = Field(sa_type=Text)


class Organization(SQLModel, table=True):
    cycle_id: str = cycle_key()
    credit_code: str = csv_field("credit_code", "统一社会信用代码", "credit_code", primary_key=True)
    name: str = csv_field("name", "机构名称")
    org_type: str | None = csv_field("org_type", "机构类型", required=False)
    registered_on: dt.date = csv_field("registered_on", "登记日期", "date")
    inspection: str = csv_field("inspection", "年检结果", "vocab", vocab="inspection")
    contact: str | None = csv_field("contact", "联系人", required=False)
    phone: str | None = csv_field("phone", "联系电话", required=False)
    email: str | None = csv_field("email", "电子邮箱", required=False)  # where its result letter is e-mailed
    source_row: int = Field(ge=2)


class Proposal(SQLModel, table=True):
    """One row per distinct proposal id submitted; `eligible` says whether validation accepted it."""

    cycle_id: str = cycle_key()
    proposal_id: str = csv_field("proposal_id", "项目编号", "id", primary_key=True)
    credit_code: str | None = csv_field("credit_code", "统一社会信用代码", "credit_code")
    title: str | None = csv_field("title", "项目名称")
    category: str | None = csv_field("category", "服务类别", "vocab", vocab="category")
    street: str | None = csv_field("street", "街道")
    community: str | None = csv_field("community", "社区")
    requested_fen: int | None = csv_field("requested", "申请金额", "money", ge=0, big=True)
    cofunding_fen: int | None = csv_field("cofunding", "配套资金", "money", required=False, ge=0, big=True)
    beneficiaries: int | None = csv_field("beneficiaries", "计划受益人数", "int", ge=0)
    start_on: dt.date | None = csv_field("start_on", "开始日期", "date")
    end_on: dt.date | None = csv_field("end_on", "结束日期", "date")
    summary: str | None = csv_field("summary", "项目简介", required=False)
    submitted_on: dt.date | None = csv_field("submitted_on", "提交日期", "date", required=False)
    # the needs of needs.csv it answers, ids separated by ; or ； (stored sorted, separated by ;)
    need_ids: str | None = csv_field("need_ids", "对应需求", required=False)
    source_row: int = Field(ge=2)
    eligible: bool


class Need(SQLModel, table=True):
    """One need of the needs list (需求清单, collected by 三征): what residents of a street and
    community asked for; proposals name the needs they answer (`Proposal.need_ids`)."""

    cycle_id: str = cycle_key()
    need_id: str = csv_field("need_id", "需求编号", "id", primary_key=True)
    street: str = csv_field("street", "街道")
    community: str | None = csv_field("community", "社区", required=False)
    group: str = csv_field("group", "服务对象", "vocab", vocab="category")
    title: str = csv_field("title", "需求")
    description: str | None = csv_field("description", "需求描述", required=False)
    source: str | None = csv_field("source", "来源", required=False)
    people: int | None = csv_field("people", "涉及人数", "int", required=False, ge=0, le=100_000_000)
    urgency: str = csv_field("urgency", "紧急程度", "vocab", vocab="urgency")
    raised_on: dt.date | None = csv_field("raised_on", "提出日期", "date", required=False)
    source_row: int = Field(ge=2)


class Resource(SQLModel, table=True):
    """A resource a unit in the area pledges (驻区单位资源清单, 三筹): money in fen, or a quantity of a
    venue (times it can be used), volunteers (person-times) or goods (items)."""

    cycle_id: str = cycle_key()
    resource_id: str = csv_field("resource_id", "资源编号", "id", primary_key=True)
    unit: str = csv_field("unit", "提供单位")
    kind: str = csv_field("kind", "类型", "vocab", vocab="resource_kind")
    amount: str = csv_field("amount", "金额或数量")  # as written; read into amount_fen or quantity
    street: str = csv_field("street", "街道")
    community: str | None = csv_field("community", "社区", required=False)
    pledged_to: str | None = csv_field("pledged_to", "对接", "id", required=False)  # a need_id or a proposal_id
    amount_fen: int | None = Field(default=None, sa_type=BigInteger, ge=0)  # money
    quantity: int | None = Field(default=None, sa_type=BigInteger, ge=0)  # venue, volunteers, goods
    source_row: int = Field(ge=2)


class BudgetLine(SQLModel, table=True):
    cycle_id: str = cycle_key()
    line_id: int = Field(primary_key=True)
    proposal_id: str = csv_field("proposal_id", "项目编号", "id")
    item: str = csv_field("item", "支出项目")
    kind: str = csv_field("kind", "类别", "vocab", vocab="budget_kind")
    amount_fen: int = csv_field("amount", "金额", "money", ge=0, big=True)
    source_row: int = Field(ge=2)


class Reviewer(SQLModel, table=True):
    cycle_id: str = cycle_key()
    reviewer_id: str = csv_field("reviewer_id", "评审编号", "id", primary_key=True)
    name: str = csv_field("name", "姓名")
    email: str | None = csv_field("email", "邮箱", required=False)
    expertise: str | None = csv_field("expertise", "专长", "categories", required=False)
    affiliations: str | None = csv_field("affiliations", "关联机构", "credit_codes", required=False)
    max_load: int = csv_field("max_load", "最大评审数", "int", ge=1)
    source_row: int = Field(ge=2)


class Assignment(SQLModel, table=True):
    cycle_id: str = cycle_key()
    proposal_id: str = Field(primary_key=True)
    reviewer_id: str = Field(primary_key=True)
    round: int = Field(ge=1)
    cause: str  # initial / third_review / conflict_replacement


class Review(SQLModel, table=True):
    """One returned score-sheet row. Criterion columns come from the cycle's rubric."""

    cycle_id: str = cycle_key()
    proposal_id: str = csv_field("proposal_id", "项目编号", "id", primary_key=True)
    reviewer_id: str = csv_field("reviewer_id", "评审编号", "id", primary_key=True)
    comment: str | None = csv_field("comment", "评语", required=False)
    conflict: bool = csv_field("conflict", "回避", "yes_no", required=False, default=False)
    scores_half: str = Field(sa_type=Text)  # JSON {criterion: half points}
    total_half: int = Field(ge=0, le=200)
    source_file: str
    source_row: int = Field(ge=2)


class CommunityRating(SQLModel, table=True):
    cycle_id: str = cycle_key()
    proposal_id: str = csv_field("proposal_id", "项目编号", "id", primary_key=True)
    rater_group: str = csv_field("rater_group", "评议主体", primary_key=True)
    raters: int = csv_field("raters", "参评人数", "int", ge=1)
    rating_centi: int = csv_field("rating", "评分", "score", ge=0, le=10000)
    source_row: int = Field(ge=2)


class Evaluation(SQLModel, table=True):
    cycle_id: str = cycle_key()
    proposal_id: str = Field(primary_key=True)
    n_reviews: int = Field(ge=0)
    expert_centi: int | None = Field(default=None, ge=0, le=10000)
    community_centi: int | None = Field(default=None, ge=0, le=10000)
    final_centi: int | None = Field(default=None, ge=0, le=10000)
    status: str  # scored / waiting_reviews / waiting_third_review / waiting_community


class Award(SQLModel, table=True):
    cycle_id: str = cycle_key()
    proposal_id: str = Field(primary_key=True)
    policy: str
    status: str  # funded / not_funded / ineligible
    awarded_fen: int = Field(sa_type=BigInteger, ge=0)
    reason: str
    detail: str = Field(sa_type=Text)  # JSON parameters of the explanation


class Rejection(SQLModel, table=True):
    cycle_id: str = cycle_key()
    stage: str = Field(primary_key=True)
    id: int = Field(primary_key=True)
    source_file: str
    source_row: int | None
    record_id: str
    field: str
    value: str = Field(sa_type=Text)
    rule: str
    params: str = Field(sa_type=Text)  # JSON parameters of the message


class StageRun(SQLModel, table=True):
    cycle_id: str = cycle_key()
    stage: str = Field(primary_key=True)
    input_hash: str
    outcome: str  # done / waiting / stopped
    finished_at: str  # ISO 8601, UTC
    summary: str = Field(sa_type=Text)  # JSON


class StageStatus(SQLModel, table=True):
    """What the latest run said about each stage it reached: `fund status` reads it, and a
    stage still waiting on unchanged inputs is reported from it without being redone."""

    cycle_id: str = cycle_key()
    stage: str = Field(primary_key=True)
    outcome: str  # done / skipped / waiting / stopped / error
    message: str = Field(sa_type=Text)
    waiting_for: str = Field(sa_type=Text)  # JSON: what the stage waits for (files, sheets, ratings, approval)
    at: str  # ISO 8601, UTC


class OutputFile(SQLModel, table=True):
    """Every file a stage wrote, kept under seal: an output edited or deleted by hand is found
    by its hash and rewritten from these bytes."""

    cycle_id: str = cycle_key()
    path: str = Field(primary_key=True)  # relative to OUT_DIR, with /
    stage: str
    sha256: str
    size: int = Field(sa_type=BigInteger, ge=0)
    content: bytes = Field(sa_type=LargeBinary)  # zlib-compressed


class RecordDigest(SQLModel, table=True):
    """The digest of each stored record as the last audited change left it (audit verify
    names the record that changed since)."""

    cycle_id: str = cycle_key()
    table_name: str = Field(primary_key=True)
    record_key: str = Field(primary_key=True)
    digest: str


class Approval(SQLModel, table=True):
    cycle_id: str = cycle_key()
    id: int = Field(primary_key=True)
    allocation_hash: str
    decision: str  # approved / rejected; requested: a Prefect run waits for a decision (by: its name, reason: its id)
    by: str
    reason: str | None = None
    at: str  # ISO 8601, UTC


class AuditEvent(SQLModel, table=True):
    """Append-only; each event carries the hash of the previous one (tampering shows)."""

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: str = Field(index=True, max_length=64)
    at: str  # ISO 8601, UTC
    actor: str
    action: str
    subject: str = Field(sa_type=Text)
    detail: str = Field(sa_type=Text)
    prev_hash: str
    hash: str


def utc_now() -> str:
    """Instants are stored as ISO 8601 text in UTC (the same on SQLite and PostgreSQL)."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class CsvColumn:
    attr: str
    header: str
    zh: str
    kind: str
    required: bool
    vocab: str | None
    minimum: int | None = None  # bounds of whole-number cells, from the field's ge/le
    maximum: int | None = None


def csv_columns(table: type[SQLModel]) -> list[CsvColumn]:
    """The input columns of an entity, in declaration order, from its field definitions."""
    columns = []
    for attr, info in table.model_fields.items():
        extra = info.json_schema_extra or {}
        if "csv" in extra:
            bounds = {k: getattr(m, k) for m in info.metadata for k in ("ge", "le") if getattr(m, k, None) is not None}
            whole = extra["kind"] == "int"
            columns.append(
                CsvColumn(
                    attr,
                    extra["csv"],
                    extra["zh"],
                    extra["kind"],
                    extra["required"],
                    extra.get("vocab"),
                    bounds.get("ge") if whole else None,
                    bounds.get("le") if whole else None,
                )
            )
    return columns


# ---------------------------------------------------------------- after the award: tracking (跟踪) and reports

from fund.schemas.codes import PHASES, RESOLUTIONS, TRANCHE_KINDS  # noqa: E402,F401  (re-exported)


class Objection(SQLModel, table=True):
    """An objection raised during the public notice (公示异议): from objections.csv or `fund objection`."""

    cycle_id: str = cycle_key()
    objection_id: str = csv_field("objection_id", "异议编号", "id", primary_key=True)
    proposal_id: str = csv_field("proposal_id", "项目编号", "id")
    received_on: dt.date = csv_field("received_on", "收到日期", "date")
    objector: str | None = csv_field("objector", "异议人", required=False)
    content: str = csv_field("content", "异议内容")
    resolution: str = csv_field("resolution", "处理结果", "vocab", required=False, vocab="resolution", default="pending")
    resolved_on: dt.date | None = csv_field("resolved_on", "处理日期", "date", required=False)
    note: str | None = csv_field("note", "处理说明", required=False)
    source: str  # objections.csv / cli
    source_row: int | None = None


class Agreement(SQLModel, table=True):
    """The project agreement (协议) of a funded proposal, once its public notice has ended."""

    cycle_id: str = cycle_key()
    proposal_id: str = Field(primary_key=True)
    amount_fen: int = Field(sa_type=BigInteger, ge=0)
    signed_on: dt.date | None = None
    status: str  # codes.AgreementStatus: signed / on_hold / cancelled / suspended
    ended_on: dt.date | None = None  # the day it was suspended
    returned_fen: int = Field(default=0, sa_type=BigInteger, ge=0)  # cancelled or suspended: what goes back to the fund
    reason: str = ""  # why it stands as it does beyond its status (rectifying, rectification_failed, …)
    detail: str = Field(default="{}", sa_type=Text)  # JSON parameters of the reason


class Tranche(SQLModel, table=True):
    """One instalment of an award (拨付批次); its status is derived from conditions and the ledger."""

    cycle_id: str = cycle_key()
    proposal_id: str = Field(primary_key=True)
    kind: str = Field(primary_key=True)  # signing / midterm / final
    seq: int = Field(ge=1)
    amount_fen: int = Field(sa_type=BigInteger, ge=0)
    status: str  # codes.TrancheStatus: planned / due / partly_paid / paid / withheld / cancelled / returned
    due_on: dt.date | None = None  # the day its condition came to hold
    closed_on: dt.date | None = None  # the agreement was suspended: nothing is payable from this day
    paid_fen: int = Field(default=0, sa_type=BigInteger, ge=0)  # what its ledger entries add up to
    reason: str
    detail: str = Field(sa_type=Text)  # JSON parameters of the reason, and the condition it stands on


class Payment(SQLModel, table=True):
    """An entry of the disbursement ledger (拨付台账): a payment against one tranche, or a reversal
    (冲正) of an earlier entry, named by its reference, for the opposite amount. Entries are never
    changed or removed; a correction is a new entry."""

    cycle_id: str = cycle_key()
    entry: int = Field(primary_key=True, ge=1)  # 1, 2, … in the order the ledger recorded them
    proposal_id: str = csv_field("proposal_id", "项目编号", "id")
    kind: str = csv_field("tranche", "拨付批次", "vocab", vocab="tranche")
    amount_fen: int = csv_field("amount", "金额", "money", big=True)  # stored signed: a reversal is negative
    paid_on: dt.date = csv_field("paid_on", "拨付日期", "date")
    paid_by: str = csv_field("by", "经办人")
    reference: str | None = csv_field("reference", "凭证号", required=False)  # the voucher or bank reference
    reverses: str | None = csv_field("reverses", "冲正凭证号", required=False)  # the reference of the entry reversed
    source: str  # payments.csv / cli
    recorded_at: str  # ISO 8601, UTC


class Progress(SQLModel, table=True):
    """One accepted progress report (进度报告): the figures of one period of one project."""

    cycle_id: str = cycle_key()
    proposal_id: str = csv_field("proposal_id", "项目编号", "id", primary_key=True)
    period_end: dt.date = csv_field("period_end", "截止日期", "date", primary_key=True)
    services: int = csv_field("services", "服务人次", "int", ge=0, le=100_000_000)
    activities: int = csv_field("activities", "活动场次", "int", ge=0, le=100_000_000)
    beneficiaries: int = csv_field("beneficiaries", "受益人数", "int", ge=0, le=100_000_000)
    spent_fen: int = csv_field("spent", "已支出", "money", ge=0, big=True)
    satisfaction_centi: int | None = csv_field("satisfaction", "满意度", "score", required=False, ge=0, le=10000)
    note: str | None = csv_field("note", "备注", required=False)
    submitted_on: dt.date | None = csv_field("submitted_on", "提交日期", "date", required=False)
    source_file: str
    source_row: int = Field(ge=2)


class ProjectEvaluation(SQLModel, table=True):
    """Mid-term or final evaluation (中期/结项评估), double again: third-party score + beneficiary satisfaction."""

    cycle_id: str = cycle_key()
    proposal_id: str = csv_field("proposal_id", "项目编号", "id", primary_key=True)
    phase: str = csv_field("phase", "评估阶段", "vocab", vocab="phase", primary_key=True)
    evaluator: str | None = csv_field("evaluator", "评估机构", required=False)
    expert_centi: int = csv_field("score", "评分", "score", required=False, ge=0, le=10000)
    evaluated_on: dt.date = csv_field("evaluated_on", "评估日期", "date", required=False)
    comment: str | None = csv_field("comment", "评语", required=False)
    satisfaction_centi: int | None = Field(default=None, ge=0, le=10000)
    combined_centi: int | None = Field(default=None, ge=0, le=10000)
    status: str  # passed / failed / waiting_satisfaction
    source_file: str
    source_row: int = Field(ge=2)


class Reconciliation(SQLModel, table=True):
    """One line of the latest reconciliation (对账) of the ledger with the finance office's
    statement (`fund reconcile`): a ledger entry and the statement row it matched, or one of
    them alone."""

    cycle_id: str = cycle_key()
    line: int = Field(primary_key=True, ge=1)
    outcome: str  # codes.ReconciliationOutcome
    reference: str | None = Field(default=None, sa_type=Text)
    proposal_id: str | None = None
    kind: str | None = None
    entry: int | None = None  # the ledger entry
    ledger_on: dt.date | None = None
    ledger_fen: int | None = Field(default=None, sa_type=BigInteger)
    ledger_payee: str | None = Field(default=None, sa_type=Text)  # the organization the project belongs to
    statement_on: dt.date | None = None
    statement_fen: int | None = Field(default=None, sa_type=BigInteger)
    statement_payee: str | None = Field(default=None, sa_type=Text)
    statement_row: int | None = None


class PriorIncentive(SQLModel, table=True):
    """An incentive of the previous cycle read by this one: that cycle's reports/incentives.csv
    copied into this cycle's folder as previous_incentives.csv. Its organization gets the
    bonus points on this cycle's final scores, or is barred from applying."""

    cycle_id: str = cycle_key()
    proposal_id: str = csv_field("proposal_id", "项目编号", "id", primary_key=True)
    credit_code: str = csv_field("credit_code", "统一社会信用代码", "credit_code")
    bonus_centi: int = csv_field("next_cycle_bonus", "下一周期加分", "score", required=False, default=0, ge=0, le=2000)
    barred: bool = csv_field("barred_next_cycle", "下一周期不得申报", "yes_no", required=False, default=False)
    source_row: int = Field(ge=2)


class Incentive(SQLModel, table=True):
    """The four incentives (四激励) from the final evaluation, for the next cycle to read."""

    cycle_id: str = cycle_key()
    proposal_id: str = Field(primary_key=True)
    credit_code: str
    band: str  # excellent / good / pass / fail
    combined_centi: int = Field(ge=0, le=10000)
    measures: str  # ;-separated: commendation, next_cycle_bonus, warning, withhold, barred
    bonus_centi: int = Field(ge=0, le=10000)
    barred: bool


class ReportSnapshot(SQLModel, table=True):
    """The headline numbers of each leadership report, so the next one can say what changed."""

    cycle_id: str = cycle_key()
    id: int = Field(primary_key=True)
    at: str  # ISO 8601, UTC
    as_of: dt.date
    input_hash: str
    headline: str = Field(sa_type=Text)  # JSON
    delivery: str  # emailed / not_sent / failed

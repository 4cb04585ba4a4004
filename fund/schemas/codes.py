"""Closed vocabularies of the domain, with the Chinese words the input files may use, and the
states the product derives (tranches, agreements) as named enumerations."""

from enum import StrEnum
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the fund's dates and times are Beijing time

CATEGORIES = {"elderly": "为老", "children": "为小", "disabled": "为残", "hardship": "为困", "other": "其他"}
PRIORITY_GROUPS = ("elderly", "children", "disabled", "hardship")
BUDGET_KINDS = {"personnel": "人员", "activity": "活动", "materials": "物资", "admin": "管理", "other": "其他"}
INSPECTION = {"passed": "合格", "basic": "基本合格", "failed": "不合格"}
TRANCHE_KINDS = {"signing": "签约", "midterm": "中期", "final": "结项"}  # in payment order
PHASES = {"midterm": "中期", "rectification": "整改复评", "final": "结项"}  # evaluations, in order
RESOLUTIONS = {"pending": "待处理", "upheld": "成立", "dismissed": "不成立"}
URGENCY = {"high": "高", "medium": "中", "low": "低"}  # a need's urgency (紧急程度)
RESOURCE_KINDS = {"money": "资金", "venue": "场地", "volunteers": "志愿者", "goods": "物资"}  # what a unit pledges


class TrancheStatus(StrEnum):
    """Where a tranche (拨付批次) stands, derived from its condition and the ledger."""

    PLANNED = "planned"  # its condition has not held yet
    DUE = "due"  # its condition holds and nothing is paid
    PARTLY_PAID = "partly_paid"  # its condition holds and its entries add up to less than its amount
    PAID = "paid"  # the ledger's entries add up to its amount, to the fen
    WITHHELD = "withheld"  # its evaluation failed (a failed mid-term: until the project rectifies)
    CANCELLED = "cancelled"  # an objection to the notice was upheld
    RETURNED = "returned"  # the agreement was suspended: what was not paid goes back to the fund


class AgreementStatus(StrEnum):
    """The project agreement (协议) of a funded proposal, after the public notice."""

    SIGNED = "signed"
    ON_HOLD = "on_hold"  # an objection is pending, or it is signed later than the as-of date
    CANCELLED = "cancelled"  # an objection was upheld
    SUSPENDED = "suspended"  # rectification failed or its deadline passed: nothing more is paid


class AuditAction(StrEnum):
    """What an event of the audit trail (`tasks.audit`) records. The stage protocol adds its own,
    named after the stage: `stage:<name>` (a stage stored its rows), `sealed:<name>` (its outputs)."""

    PAYMENT = "payment"  # a ledger entry: money paid on a tranche
    REVERSAL = "reversal"  # a ledger entry undoing an earlier one
    OBJECTION = "objection"  # an objection to the notice, recorded by command
    OBJECTION_UPHELD = "objection_upheld"  # ... found justified on review
    OBJECTION_DISMISSED = "objection_dismissed"  # ... found groundless on review
    ALLOCATION_APPROVED = "allocation_approved"  # an administrator's decision on the allocation
    ALLOCATION_REJECTED = "allocation_rejected"
    ALLOCATION_APPROVAL_REQUESTED = "allocation_approval_requested"  # a deployment run suspended for the decision
    REVIEW_CHANGED = "review_changed"  # a reviewer's returned sheet changed a stored review
    LETTER_EMAILED = "letter_emailed"  # a decision letter went out by email
    WARNING = "warning"  # a formal warning after a failed evaluation
    AGREEMENT_SUSPENDED = "agreement_suspended"  # rectification failed or its deadline passed
    OUTPUTS_RESTORED = "outputs_restored"  # output files edited or deleted by hand, rewritten


class ReconciliationOutcome(StrEnum):
    """How one ledger entry or statement row came out of reconciliation (对账), discrepancies first."""

    AMOUNT_MISMATCH = "amount_mismatch"
    PAYEE_MISMATCH = "payee_mismatch"
    ONLY_IN_LEDGER = "only_in_ledger"
    ONLY_IN_STATEMENT = "only_in_statement"
    MATCHED = "matched"


YES_NO = {"yes": ("yes", "y", "true", "1", "是", "回避"), "no": ("no", "n", "false", "0", "否", "")}

# criterion labels for reviewer sheets and reports; unknown criteria show their key
CRITERION_LABELS = {
    "need": "需求契合",
    "design": "项目设计",
    "feasibility": "可行性",
    "capacity": "机构能力",
    "budget": "预算合理",
    "impact": "预期成效",
}


def vocabulary_lookup(vocabulary: dict[str, str]) -> dict[str, str]:
    """Map every accepted spelling (English key, case-insensitive, or Chinese word) to the key."""
    lookup = {key.lower(): key for key in vocabulary}
    lookup.update({zh: key for key, zh in vocabulary.items()})
    return lookup


# every closed vocabulary by the name the schema fields use (`vocab=`): readers, quality
# suites and messages all take them from here
VOCABULARIES = {
    "category": CATEGORIES,
    "budget_kind": BUDGET_KINDS,
    "inspection": INSPECTION,
    "tranche": TRANCHE_KINDS,
    "phase": PHASES,
    "resolution": RESOLUTIONS,
    "urgency": URGENCY,
    "resource_kind": RESOURCE_KINDS,
}


class Outcome(StrEnum):
    """How a stage ended (and the run's own checks around the stages)."""

    DONE = "done"
    SKIPPED = "skipped"  # its inputs are unchanged: the last results stand
    WAITING = "waiting"  # for a file or a decision
    STOPPED = "stopped"  # on bad input or a rule: the message says what to change
    ERROR = "error"  # an internal error
    RESTORED = "restored"  # outputs: edited files put back from their seals
    CHANGED = "changed"  # outputs: edited files found (fund status)

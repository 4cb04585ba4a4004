"""After the award (拨付与跟踪): agreements, tranches, the disbursement ledger, rectification,
progress reports, mid-term and final evaluation (双评 again) and the four incentives (四激励).

Everything here is a plain function of the read files, the stored ledger and the config,
*as of* one date (`resolve_as_of`), so a run is reproducible and a demonstration can stand
on any day of the project period. One idea per module:

- `dates`: the as-of date and the public notice's period;
- `files`: the stage's input files; `rows`: what the rules share about rows and verdicts;
- `objections`: objections to the notice and the agreements;
- `tranches`: the split of an award, each tranche's condition and its state;
- `ledger`: the ledger's entries (payments, partial payments, reversals) and their rules;
- `rectification`: after a failed mid-term: the deadline, the re-evaluation, suspension;
- `progress`: progress reports and spending against disbursement;
- `evaluations`: mid-term and final evaluation; `incentives`: the four incentives;
- `track`: the whole state as of a date; `texts`: what people read; `outputs`: the files;
- `services`: what the commands (`fund pay`, `fund objection`) do, by the same rules.

This module is the package's public face: what the stage flow, the commands, the report,
reconciliation and the tests use.
"""

from fund.tasks.tracking.dates import SHANGHAI, TrackingConfigError, publicity_window, resolve_as_of
from fund.tasks.tracking.files import TrackingFiles, read_tracking, tracking_inputs
from fund.tasks.tracking.incentives import incentive_band, incentives_for
from fund.tasks.tracking.ledger import EntryRequest, Ledger, check_entry, reference_key
from fund.tasks.tracking.outputs import INCENTIVES_HEADER, write_tracking_files
from fund.tasks.tracking.progress import expected_periods, period_checks
from fund.tasks.tracking.rows import Verdict
from fund.tasks.tracking.services import record_entry, record_objection, resolve_objection
from fund.tasks.tracking.texts import reason_text
from fund.tasks.tracking.track import TrackResult, track
from fund.tasks.tracking.tranches import KIND_ORDER, split_amount, tranche_shares

__all__ = [
    "INCENTIVES_HEADER",
    "KIND_ORDER",
    "SHANGHAI",
    "EntryRequest",
    "Ledger",
    "TrackResult",
    "TrackingConfigError",
    "TrackingFiles",
    "Verdict",
    "check_entry",
    "expected_periods",
    "incentive_band",
    "incentives_for",
    "period_checks",
    "publicity_window",
    "read_tracking",
    "reason_text",
    "record_entry",
    "record_objection",
    "reference_key",
    "resolve_as_of",
    "resolve_objection",
    "split_amount",
    "track",
    "tracking_inputs",
    "tranche_shares",
    "write_tracking_files",
]

"""fund.schemas.config: cycle.toml parsing; every error names its key."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from builders import CONTRACT_TOML, sections, toml_text
from fund.schemas.config import ConfigError, apply_overrides, load_config, parse_config


def key_of(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    return info.value.key


def key_for(**changes) -> str:
    return key_of(toml_text(sections(**changes)))


def test_contract_example_parses_exactly():
    cfg = parse_config(CONTRACT_TOML)
    assert cfg.cycle.id == "2026-nanguan-1"
    assert cfg.cycle.name == "南关区2026年度公益创投"
    assert cfg.budget_fen == 500_000_000 and type(cfg.budget_fen) is int
    assert (cfg.cycle.opens, cfg.cycle.closes, cfg.cycle.submission_deadline) == (
        dt.date(2026, 3, 1),
        dt.date(2026, 12, 31),
        dt.date(2026, 3, 31),
    )
    r = cfg.rules
    assert (r.min_request, r.max_request) == (Decimal("20000.00"), Decimal("200000.00"))
    assert (r.max_proposals_per_org, r.max_funded_per_org, r.min_org_age_days) == (2, 1, 365)
    assert r.max_admin_share == Decimal("0.10") and r.score_threshold == Decimal("70")
    assert r.reviewers_per_proposal == 2 and r.discrepancy_threshold == Decimal("15")
    assert cfg.rubric == {"need": 20, "design": 20, "feasibility": 15, "capacity": 15, "budget": 15, "impact": 15}
    assert cfg.weights == {"expert": Decimal("0.7"), "community": Decimal("0.3")}
    assert all(isinstance(v, Decimal) for v in cfg.weights.values())  # exact, not float
    assert cfg.allocation.policy == "optimal" and cfg.allocation.cover_every_street
    assert cfg.allocation.require_approval is False and cfg.allocation.mip_gap == 0
    assert cfg.priorities == {
        "elderly": Decimal("0.2"),
        "children": Decimal("0.2"),
        "disabled": Decimal("0.1"),
        "hardship": Decimal("0.1"),
    }
    assert cfg.tranches == {"signing": Decimal("0.5"), "midterm": Decimal("0.3"), "final": Decimal("0.2")}


def test_minimal_config_uses_defaults():
    cfg = parse_config('[cycle]\nid = "c1"\nname = "n"\nopens = 2026-03-01\ncloses = 2026-12-31\n')
    assert cfg.budget_fen == 500_000_000
    assert cfg.cycle.submission_deadline is None
    assert cfg.rules.reviewers_per_proposal == 2
    assert sum(cfg.rubric.values()) == 100
    assert cfg.weights == {"expert": Decimal("0.7"), "community": Decimal("0.3")}


def test_rubric_not_summing_to_100_names_rubric():
    with pytest.raises(ConfigError) as info:
        parse_config(toml_text(sections(rubric={"need": 25})))
    assert info.value.key == "rubric"
    assert "105" in info.value.problem


def test_weights_not_summing_to_1_names_weights():
    assert key_for(weights={"expert": Decimal("0.6")}) == "weights"


def test_weights_summing_exactly_in_decimal_is_fine():
    """0.1 + 0.2 is not 0.3 in floats; cycle.toml floats are read as Decimal."""
    cfg = parse_config(
        toml_text(
            sections(
                weights={"expert": Decimal("0.7")},
                tranches={"signing": Decimal("0.1"), "midterm": Decimal("0.2"), "final": Decimal("0.7")},
            )
        )
    )
    assert sum(cfg.tranches.values()) == 1


def test_weights_need_exactly_expert_and_community():
    assert key_for(weights={"jury": Decimal("0")}) == "weights"


@pytest.mark.parametrize(
    "changes, key",
    [
        ({"cycle": {"colour": "red"}}, "cycle.colour"),
        ({"rules": {"max_fee": 1}}, "rules.max_fee"),
        ({"allocation": {"polcy": "merit"}}, "allocation.polcy"),
        ({"surprise": {"a": 1}}, "surprise"),
    ],
)
def test_unknown_key_is_named(changes, key):
    with pytest.raises(ConfigError) as info:
        parse_config(toml_text(sections(**changes)))
    assert info.value.key == key
    assert "unknown key" in info.value.problem


@pytest.mark.parametrize("budget", ["五百万", "12.345", "-1", "NaN", "Infinity", "", "5000000.00元"])
def test_bad_budget_names_cycle_budget(budget):
    assert key_for(cycle={"budget": budget}) == "cycle.budget"


@pytest.mark.parametrize(
    "budget, fen", [("5000000.00", 500_000_000), ("5,000,000.00", 500_000_000), ("1234.5", 123_450), (3000000, 300_000_000)]
)
def test_good_budgets(budget, fen):
    assert parse_config(toml_text(sections(cycle={"budget": budget}))).budget_fen == fen


@pytest.mark.parametrize(
    "changes, key",
    [
        ({"rules": {"min_request": "1.001"}}, "rules.min_request"),
        ({"rules": {"min_request": "300000.00"}}, "rules"),
        ({"rules": {"max_admin_share": Decimal("1.5")}}, "rules.max_admin_share"),
        ({"rules": {"reviewers_per_proposal": 0}}, "rules.reviewers_per_proposal"),
        ({"rules": {"max_proposals_per_org": "two"}}, "rules.max_proposals_per_org"),
        ({"cycle": {"closes": dt.date(2026, 1, 1)}}, "cycle"),
        ({"cycle": {"id": "has space"}}, "cycle.id"),
        ({"rubric": {"need": Decimal("20.5")}}, "rubric.need"),
        ({"rubric": {"need": 0, "design": 40}}, "rubric.need"),
        ({"rubric": {"proposal_id": 0}}, "rubric.proposal_id"),
        ({"weights": {"expert": Decimal("1.3"), "community": Decimal("-0.3")}}, "weights.expert"),
        ({"allocation": {"policy": "random"}}, "allocation.policy"),
        ({"priorities": {"youth": Decimal("0.1")}}, "priorities.youth"),
        ({"priorities": {"elderly": Decimal("0.6"), "children": Decimal("0.6")}}, "priorities"),
        ({"tranches": {"signing": Decimal("0.5"), "midterm": Decimal("0.3"), "final": Decimal("0.3")}}, "tranches"),
    ],
)
def test_other_bad_values_name_their_key(changes, key):
    assert key_for(**changes) == key


def test_missing_required_key_is_named():
    assert key_of('[cycle]\nid = "x"\nname = "n"\nopens = 2026-01-01\n') == "cycle.closes"
    assert key_of('[rules]\nmin_request = "1.00"\n') == "cycle"


def test_invalid_toml_names_the_file():
    with pytest.raises(ConfigError) as info:
        parse_config("[cycle\nid = 1")
    assert info.value.key == "cycle.toml"


def test_load_config_reads_utf8_with_bom(tmp_path):
    (tmp_path / "cycle.toml").write_bytes(CONTRACT_TOML.encode("utf-8-sig"))
    assert load_config(tmp_path).cycle.name == "南关区2026年度公益创投"


def test_load_config_missing_or_not_utf8(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert info.value.key == "cycle.toml"
    (tmp_path / "cycle.toml").write_bytes(CONTRACT_TOML.encode("gb18030"))
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert info.value.key == "cycle.toml"


def test_apply_overrides_changes_a_copy():
    cfg = parse_config(CONTRACT_TOML)
    new = apply_overrides(cfg, {"cycle.budget": "3000000.00", "rules.score_threshold": "75"})
    assert new.budget_fen == 300_000_000 and new.rules.score_threshold == 75
    assert cfg.budget_fen == 500_000_000 and cfg.rules.score_threshold == 70
    with pytest.raises(ConfigError) as info:
        apply_overrides(cfg, {"rules.nonsense": 1})
    assert info.value.key == "rules.nonsense"


# ---------------------------------------------------------------- every number bounded

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from fund.schemas.config import MAX_AMOUNT_YUAN  # noqa: E402

NUMERIC_KEYS = [
    ("cycle", "budget"),
    ("cycle", "publicity_days"),
    ("rules", "min_request"),
    ("rules", "max_request"),
    ("rules", "max_proposals_per_org"),
    ("rules", "max_funded_per_org"),
    ("rules", "min_org_age_days"),
    ("rules", "max_admin_share"),
    ("rules", "score_threshold"),
    ("rules", "reviewers_per_proposal"),
    ("rules", "discrepancy_threshold"),
    ("rubric", "need"),
    ("weights", "expert"),
    ("priorities", "elderly"),
    ("tranches", "signing"),
    ("allocation", "mip_gap"),
    ("allocation", "time_limit_s"),
    ("allocation", "approval_reminder_hours"),
    ("tracking", "pass_mark"),
    ("tracking", "report_period_days"),
    ("tracking", "report_grace_days"),
    ("tracking", "behind_plan"),
    ("tracking", "rectification_days"),
    ("incentives", "excellent_bonus"),
]
TOML_NUMBERS = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(str),
    st.sampled_from(["nan", "inf", "-inf", "+inf", "true", "false", "1e30", "-0.0", "1e-30", "0.5", "20.0", "100.01"]),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(lambda d: f"{d:f}" if "." in f"{d:f}" else f"{d:f}.0"),
    st.text(alphabet="0123456789.,e+- 元", max_size=20).map(lambda t: '"' + t + '"'),
)


@pytest.mark.parametrize("section, key", NUMERIC_KEYS)
@settings(max_examples=60, derandomize=True, deadline=None, database=None)
@given(literal=TOML_NUMBERS)
def test_any_value_of_a_numeric_key_is_valid_or_names_that_key(section, key, literal):
    text = toml_text(sections())
    text = (
        text.replace(f"[{section}]\n", f"[{section}]\n{key} = {literal}\n", 1)
        if f"[{section}]" in text
        else text + f"\n[{section}]\n{key} = {literal}\n"
    )
    lines, seen = [], set()
    current = None
    for line in text.split("\n"):  # the first `key =` of the section wins: drop the builder's own line
        if line.startswith("["):
            current = line
        name = (current, line.split("=")[0].strip()) if "=" in line else None
        if name and name in seen:
            continue
        if name:
            seen.add(name)
        lines.append(line)
    try:
        cfg = parse_config("\n".join(lines))
    except ConfigError as exc:
        assert exc.key in {f"{section}.{key}", section, "rules", "cycle.toml"}, (literal, exc)
        return
    assert 0 <= cfg.budget_fen <= MAX_AMOUNT_YUAN * 100
    assert 0 < cfg.rules.reviewers_per_proposal <= 10 and cfg.rules.min_org_age_days <= 36500


@pytest.mark.parametrize(
    "changes, key",
    [
        ({"cycle": {"budget": "1e30"}}, "cycle.budget"),
        ({"cycle": {"budget": 9223372036854775807}}, "cycle.budget"),
        ({"cycle": {"budget": "1,000,000,000,000.01"}}, "cycle.budget"),
        ({"cycle": {"budget": "5.000.000,00"}}, "cycle.budget"),
        ({"cycle": {"budget": "5000000,00"}}, "cycle.budget"),
        ({"rules": {"min_org_age_days": 9223372036854775807}}, "rules.min_org_age_days"),
        ({"rules": {"min_org_age_days": Decimal("365.0")}}, "rules.min_org_age_days"),
        ({"rules": {"max_funded_per_org": True}}, "rules.max_funded_per_org"),
        ({"rules": {"max_proposals_per_org": -1}}, "rules.max_proposals_per_org"),
        ({"rubric": {"need": 9223372036854775807}}, "rubric.need"),
        ({"allocation": {"time_limit_s": Decimal("1e30")}}, "allocation.time_limit_s"),
        ({"cycle": {"id": "x" * 65}}, "cycle.id"),
    ],
)
def test_out_of_range_values_name_their_key(changes, key):
    assert key_for(**changes) == key


def test_the_largest_budget_is_exact_in_fen():
    cfg = parse_config(toml_text(sections(cycle={"budget": "1,000,000,000,000.00"})))
    assert cfg.budget_fen == 10**14 and cfg.budget_fen < 2**53


def test_a_folder_named_cycle_toml_names_it(tmp_path):
    (tmp_path / "cycle.toml").mkdir()
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert info.value.key == "cycle.toml" and "folder" in info.value.problem

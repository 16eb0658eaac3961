"""Segment rules against hand-built accounts: every whitelisted field, AND/OR nesting, and refusals."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.services import account_refresh_financials
from events.models import AccountDailyUser
from health.models import AccountHealth
from segments.rules import describe_rules, validate_rules
from segments.selectors import rules_accounts
from tests.factories import AccountFactory, ContractFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def ids(rules):
    return set(rules_accounts(rules).values_list("id", flat=True))


def cond(field, operator, value=None):
    return {"field": field, "operator": operator, "value": value}


def group(op, *conditions):
    return {"op": op, "conditions": list(conditions)}


def health(account, score, band):
    return AccountHealth.objects.create(account=account, score=score, band=band, computed_at=timezone.now())


@pytest.fixture
def book():
    """Four accounts that differ on every field the rules read."""
    team_a, team_b = TeamFactory(name="A"), TeamFactory(name="B")
    jane, joe = UserFactory(team=team_a), UserFactory(team=team_b)
    today = timezone.localdate()
    acme = AccountFactory(
        name="Acme",
        tier="enterprise",
        industry="Fintech",
        region="EMEA",
        owner=jane,
        lifecycle_stage="adoption",
        custom_fields={"plan": "Pro", "csm_notes": "Big logo"},
    )
    beta = AccountFactory(
        name="Beta",
        tier="smb",
        industry="Retail",
        region="NA",
        owner=joe,
        lifecycle_stage="renewal",
        custom_fields={"plan": "Starter"},
    )
    gamma = AccountFactory(
        name="Gamma", tier="mid_market", industry="fintech", region="", owner=None, lifecycle_stage="onboarding"
    )
    delta = AccountFactory(
        name="Delta", tier="enterprise", industry="Health", region="EMEA", owner=joe, lifecycle_stage="growth"
    )
    # ARR and renewals: Acme 120k renewing in 30 days, Beta 12k in 200 days, Delta 60k in 90 days, Gamma none.
    ContractFactory(account=acme, recurring_amount=Decimal("120000"), end_date=today + dt.timedelta(days=30), seats=10)
    ContractFactory(account=beta, recurring_amount=Decimal("12000"), end_date=today + dt.timedelta(days=200), seats=4)
    ContractFactory(account=delta, recurring_amount=Decimal("60000"), end_date=today + dt.timedelta(days=90), seats=0)
    account_refresh_financials()
    health(acme, 35.0, "red")
    health(beta, 55.0, "yellow")
    health(delta, 80.0, "green")
    # Utilization: Acme 3 distinct users in 30 days / 10 seats = 30%; Beta 4/4 = 100%; Delta has no seats.
    for day, user in [(0, "u1"), (1, "u1"), (5, "u2"), (29, "u3"), (30, "u4")]:
        AccountDailyUser.objects.create(account=acme, day=today - dt.timedelta(days=day), user_key=user, events=1)
    for user in ["a", "b", "c", "d"]:
        AccountDailyUser.objects.create(account=beta, day=today, user_key=user, events=1)
    return {"acme": acme, "beta": beta, "gamma": gamma, "delta": delta, "jane": jane, "joe": joe,
            "team_a": team_a, "team_b": team_b}  # fmt: skip


def names(book, *keys):
    return {book[k].id for k in keys}


def test_choice_text_and_ref_fields(book):
    assert ids(group("and", cond("tier", "eq", "enterprise"))) == names(book, "acme", "delta")
    assert ids(group("and", cond("tier", "in", ["smb", "mid_market"]))) == names(book, "beta", "gamma")
    assert ids(group("and", cond("tier", "not_in", ["smb", "mid_market"]))) == names(book, "acme", "delta")
    assert ids(group("and", cond("industry", "eq", "FINTECH"))) == names(book, "acme", "gamma")  # case-insensitive
    assert ids(group("and", cond("industry", "contains", "tail"))) == names(book, "beta")
    assert ids(group("and", cond("region", "is_empty"))) == names(book, "gamma")
    assert ids(group("and", cond("region", "in", ["emea", "na"]))) == names(book, "acme", "beta", "delta")
    assert ids(group("and", cond("lifecycle_stage", "neq", "renewal"))) == names(book, "acme", "gamma", "delta")
    assert ids(group("and", cond("owner", "eq", book["joe"].id))) == names(book, "beta", "delta")
    assert ids(group("and", cond("owner", "neq", book["joe"].id))) == names(book, "acme", "gamma")  # unowned too
    assert ids(group("and", cond("owner", "is_empty"))) == names(book, "gamma")
    assert ids(group("and", cond("team", "eq", book["team_a"].id))) == names(book, "acme")


def test_numbers_ranges_and_computed_values(book):
    assert ids(group("and", cond("arr", "gte", 60000))) == names(book, "acme", "delta")
    assert ids(group("and", cond("arr", "between", [12000, 60000]))) == names(book, "beta", "delta")
    assert ids(group("and", cond("health_band", "eq", "red"))) == names(book, "acme")
    assert ids(group("and", cond("health_score", "lt", 55))) == names(book, "acme")
    assert ids(group("and", cond("health_score", "lte", 55))) == names(book, "acme", "beta")
    assert ids(group("and", cond("health_score", "is_empty"))) == names(book, "gamma")
    # Days to renewal: boundaries are inclusive for lte / between.
    assert ids(group("and", cond("days_to_renewal", "lte", 30))) == names(book, "acme")
    assert ids(group("and", cond("days_to_renewal", "lt", 30))) == set()
    assert ids(group("and", cond("days_to_renewal", "between", [30, 90]))) == names(book, "acme", "delta")
    assert ids(group("and", cond("days_to_renewal", "is_empty"))) == names(book, "gamma")
    # Utilization: Acme 30% (u4 is 30 days ago, outside the window), Beta 100%, Delta no seats (never matches).
    assert ids(group("and", cond("license_utilization", "lt", 50))) == names(book, "acme")
    assert ids(group("and", cond("license_utilization", "lte", 30))) == names(book, "acme")
    assert ids(group("and", cond("license_utilization", "lt", 30))) == set()
    assert ids(group("and", cond("license_utilization", "gte", 100))) == names(book, "beta")


def test_custom_fields(book):
    assert ids(group("and", cond("custom_fields__plan", "eq", "pro"))) == names(book, "acme")
    assert ids(group("and", cond("custom_fields__csm_notes", "contains", "logo"))) == names(book, "acme")
    assert ids(group("and", cond("custom_fields__plan", "is_set"))) == names(book, "acme", "beta")
    assert ids(group("and", cond("custom_fields__plan", "is_empty"))) == names(book, "gamma", "delta")


def test_and_or_nesting(book):
    # Enterprise AND (red OR renewing within 100 days AND owned by Joe) → Acme (red), Delta (Joe, 90 days).
    rules = group(
        "and",
        cond("tier", "eq", "enterprise"),
        group("or", cond("health_band", "eq", "red"),
              group("and", cond("days_to_renewal", "lte", 100), cond("owner", "eq", book["joe"].id))),
    )  # fmt: skip
    assert ids(rules) == names(book, "acme", "delta")
    # (SMB OR fintech) AND NOT onboarding → Acme (fintech), Beta (SMB); Gamma is onboarding.
    rules = group(
        "and",
        group("or", cond("tier", "eq", "smb"), cond("industry", "eq", "fintech")),
        cond("lifecycle_stage", "neq", "onboarding"),
    )
    assert ids(rules) == names(book, "acme", "beta")
    assert ids(group("and")) == names(book, "acme", "beta", "gamma", "delta")  # no condition: everyone


def test_compiles_to_one_query(book, django_assert_num_queries):
    rules = group("or", cond("license_utilization", "lt", 50), cond("health_band", "eq", "green"),
                  cond("days_to_renewal", "lte", 30), cond("team", "eq", book["team_b"].id))  # fmt: skip
    with django_assert_num_queries(1):
        assert len(list(rules_accounts(rules))) == 3


@pytest.mark.parametrize(
    ("rules", "named"),
    [
        (group("and", cond("owner__password", "eq", "x")), "owner__password"),
        (group("and", cond("nps_category", "eq", "detractor")), "nps_category"),
        (group("and", cond("tier", "gt", "smb")), "operator 'gt'"),
        (group("and", cond("tier", "eq", "platinum")), "platinum"),
        (group("and", cond("arr", "gte", "lots")), "not a number"),
        (group("and", cond("arr", "between", [5, 1])), "arr between"),
        (group("and", cond("custom_fields__a__b", "eq", "x")), "custom_fields__a__b"),
        (group("xor", cond("tier", "eq", "smb")), "xor"),
        (group("and", group("or")), "at least one condition"),
        (group("and", group("and", group("and", group("and", group("and", cond("tier", "eq", "smb")))))), "levels"),
        ("not a tree", "must be a group"),
    ],
)
def test_outside_the_whitelist_is_refused(rules, named):
    with pytest.raises(ValidationError) as exc:
        validate_rules(rules)
    assert any(named in m for m in exc.value.message_dict["rules"])


def test_validation_normalises_values():
    cleaned = validate_rules(group("and", cond("arr", "gte", "1000"), cond("owner", "in", ["3", 4])))
    assert cleaned["conditions"][0]["value"] == 1000.0
    assert cleaned["conditions"][1]["value"] == [3, 4]
    assert "ARR at least 1000.0" in describe_rules(cleaned)

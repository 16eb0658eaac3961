"""Account services: derived ARR and renewal, contract expiry, primary contacts, hierarchy rules."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from accounts import services
from accounts.models import Account, Contact, ContractStatus, Tier
from tests.factories import AccountFactory, ContactFactory, ContractFactory, UserFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 6, 1)


def _contract(account, **kw):
    data = {
        "start_date": TODAY - dt.timedelta(days=30),
        "end_date": TODAY + dt.timedelta(days=335),
        "recurring_amount": Decimal("1000"),
        "billing_period": "month",
        "status": ContractStatus.ACTIVE,
    }
    data.update(kw)
    return services.contract_create(account=account, data=data)


def test_arr_is_twelve_times_mrr_and_excludes_one_time_fees():
    account = AccountFactory()
    contract = _contract(account, recurring_amount=Decimal("1000"), one_time_fees=Decimal("5000"))
    assert contract.arr == Decimal("12000")
    assert contract.mrr == Decimal("1000.00")
    account.refresh_from_db()
    assert account.arr == Decimal("12000")


def test_account_arr_sums_active_contracts_only():
    account = AccountFactory()
    _contract(account, recurring_amount=Decimal("1000"))  # 12,000 a year
    _contract(account, recurring_amount=Decimal("24000"), billing_period="year")
    _contract(account, recurring_amount=Decimal("99999"), billing_period="year", status=ContractStatus.CANCELLED)
    account.refresh_from_db()
    assert account.arr == Decimal("36000")


def test_next_renewal_is_earliest_future_end_of_active_contracts():
    account = AccountFactory()
    today = dt.date.today()
    _contract(account, start_date=today - dt.timedelta(days=10), end_date=today + dt.timedelta(days=90))
    _contract(account, start_date=today - dt.timedelta(days=10), end_date=today + dt.timedelta(days=30))
    _contract(
        account,
        start_date=today - dt.timedelta(days=10),
        end_date=today + dt.timedelta(days=5),
        status=ContractStatus.DRAFT,
    )
    account.refresh_from_db()
    assert account.next_renewal_date == today + dt.timedelta(days=30)


def test_contract_update_and_delete_refresh_the_account():
    account = AccountFactory()
    contract = _contract(account, recurring_amount=Decimal("100"))
    services.contract_update(contract=contract, data={"recurring_amount": Decimal("200")})
    account.refresh_from_db()
    assert account.arr == Decimal("2400")
    services.contract_delete(contract=contract)
    account.refresh_from_db()
    assert account.arr == Decimal("0")
    assert account.next_renewal_date is None


def test_contract_ending_before_it_starts_is_refused_and_nothing_stored():
    account = AccountFactory()
    with pytest.raises(ValidationError) as exc:
        _contract(account, start_date=TODAY, end_date=TODAY - dt.timedelta(days=1))
    assert "end_date" in exc.value.message_dict
    assert account.contracts.count() == 0


def test_contracts_expire_moves_ended_contracts_and_refreshes_arr():
    account = AccountFactory()
    today = dt.date.today()
    old = ContractFactory(
        account=account, start_date=today - dt.timedelta(days=400), end_date=today - dt.timedelta(days=1)
    )
    current = ContractFactory(account=account, recurring_amount=Decimal("5000"), arr=Decimal("5000"))
    services.account_refresh_financials(account_ids=[account.id])
    account.refresh_from_db()
    # ARR is the revenue in force today (accounts.selectors.contract_in_force_q): the contract that ended
    # yesterday no longer counts even before the nightly job marks it expired.
    assert account.arr == Decimal("5000")

    assert services.contracts_expire(today=today) == 1
    old.refresh_from_db()
    current.refresh_from_db()
    account.refresh_from_db()
    assert old.status == ContractStatus.EXPIRED
    assert current.status == ContractStatus.ACTIVE
    assert account.arr == Decimal("5000")
    assert services.contracts_expire(today=today) == 0  # idempotent


def test_refresh_financials_is_one_query_for_any_number_of_accounts(django_assert_num_queries):
    accounts = AccountFactory.create_batch(5)
    for account in accounts:
        ContractFactory(account=account)
    Account.objects.update(arr=0, next_renewal_date=None)
    # One UPDATE ... SET arr = (subquery), next_renewal_date = (subquery) (PostgreSQL: of the accounts that change).
    with django_assert_num_queries(1):
        assert services.account_refresh_financials(account_ids=[a.id for a in accounts]) == 5


def test_refresh_financials_writes_only_accounts_whose_figures_change():
    """PostgreSQL rewrites a row (into every index of the account table) only when ARR or the next renewal
    changes; the figures are the same either way."""
    accounts = AccountFactory.create_batch(3)
    for account in accounts:
        ContractFactory(account=account)
    ids = [a.id for a in accounts]
    services.account_refresh_financials(account_ids=ids)
    before = list(Account.objects.filter(pk__in=ids).order_by("id").values_list("arr", "next_renewal_date"))
    Account.objects.filter(pk=accounts[0].pk).update(arr=0)
    written = services.account_refresh_financials(account_ids=ids)
    assert written == (1 if connection.vendor == "postgresql" else 3)
    assert list(Account.objects.filter(pk__in=ids).order_by("id").values_list("arr", "next_renewal_date")) == before


def test_a_new_primary_contact_takes_the_flag():
    account = AccountFactory()
    first = services.contact_create(account=account, data={"name": "A", "email": "a@x.example", "is_primary": True})
    second = services.contact_create(account=account, data={"name": "B", "email": "b@x.example", "is_primary": True})
    first.refresh_from_db()
    assert not first.is_primary and second.is_primary
    services.contact_update(contact=first, data={"is_primary": True})
    second.refresh_from_db()
    assert not second.is_primary


def test_duplicate_contact_email_on_one_account_is_refused():
    contact = ContactFactory()
    with pytest.raises(ValidationError) as exc:
        services.contact_create(account=contact.account, data={"name": "Twin", "email": contact.email})
    assert "__all__" in exc.value.message_dict or "email" in exc.value.message_dict
    assert Contact.objects.count() == 1


def test_account_cannot_become_its_own_ancestor():
    parent = AccountFactory()
    child = AccountFactory(parent=parent)
    with pytest.raises(ValidationError) as exc:
        services.account_update(account=parent, data={"parent": child})
    assert "parent" in exc.value.message_dict
    parent.refresh_from_db()
    assert parent.parent_id is None


def test_account_create_validates_choices_and_blank_external_id():
    owner = UserFactory()
    a = services.account_create(data={"name": "One", "external_id": "", "owner": owner, "tier": Tier.ENTERPRISE})
    b = services.account_create(data={"name": "Two", "external_id": ""})
    assert a.external_id is None and b.external_id is None  # blank ids don't collide
    with pytest.raises(ValidationError) as exc:
        services.account_create(data={"name": "Bad", "tier": "galactic"})
    assert "tier" in exc.value.message_dict
    with pytest.raises(TypeError):
        services.account_create(data={"name": "X", "arr": 5})  # derived fields are not writable


def test_reassign_moves_only_changed_accounts():
    owner = UserFactory()
    accounts = AccountFactory.create_batch(3)
    accounts[0].owner = owner
    accounts[0].save()
    assert services.account_reassign(account_ids=[a.id for a in accounts], owner=owner) == 2
    assert Account.objects.filter(owner=owner).count() == 3


def test_edits_tell_health_and_triggers_after_commit(django_capture_on_commit_callbacks):
    from accounts.signals import account_changed

    received = []

    def listener(sender, account_ids, **kwargs):
        received.append(account_ids)

    account_changed.connect(listener)
    try:
        account = AccountFactory()
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.account_update(account=account, data={"tier": Tier.ENTERPRISE})
            contract = _contract(account)
            services.contract_delete(contract=contract)
        assert received == []  # nothing before commit
        for callback in callbacks:
            callback()
        assert received == [[account.id]] * 3
    finally:
        account_changed.disconnect(listener)


def test_an_edit_recomputes_health(django_capture_on_commit_callbacks):
    from health.models import AccountHealth

    account = AccountFactory()
    with django_capture_on_commit_callbacks(execute=True):
        _contract(account)
    assert AccountHealth.objects.filter(account=account).exists()


def test_refresh_financials_of_many_accounts_at_once():
    """More than 100 ids go to PostgreSQL as one array (an import refreshes 2,000 accounts per chunk); the
    result is the same as for a few, and accounts not named are left alone."""
    contracts = ContractFactory.create_batch(120)
    untouched = ContractFactory()
    Account.objects.update(arr=0)
    assert services.account_refresh_financials(account_ids={c.account_id for c in contracts}) == 120
    assert set(Account.objects.exclude(pk=untouched.account_id).values_list("arr", flat=True)) == {Decimal("12000")}
    assert Account.objects.get(pk=untouched.account_id).arr == 0

"""Demo revenue history: three years of contracts behind the demo accounts, so every revenue figure and dashboard
is alive on ``make run`` - renewals with price changes (expansion, contraction), mid-term upgrades and downgrades,
new logos every month, churn with dated cancellations and churn dates, and a few reactivations.

Built directly (bulk, not through the services, which would refresh figures and enqueue a ledger refresh per
contract); the derived figures are refreshed once at the end: ``account_refresh_financials`` and
``metrics.ledger.ledger_refresh``. Idempotent: it does nothing when the history is already there.
"""

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import (
    Account,
    BillingPeriod,
    Contract,
    ContractStatus,
    EngagementModel,
    LifecycleStage,
    Tier,
)
from accounts.services import account_refresh_financials
from csp.models import Role, User
from demo.accounts import ARR_RANGE, INDUSTRIES, REGIONS, TEAM_FOR_TIER
from metrics.ledger import ledger_refresh
from metrics.models import AcquisitionCost

DAY = dt.timedelta(days=1)
HISTORY_MONTHS = 36
CHURNED_LOGOS = 48
CHURN_REASONS = ["Budget cuts", "Moved to a competitor", "Acquired", "Low adoption", "Project ended"]
FORMER = ["Apex", "Borealis", "Cinder", "Dynamo", "Echo", "Fjord", "Granite", "Helix", "Ion", "Juniper", "Kestrel",
          "Lumen", "Mosaic", "Nimbus", "Onyx", "Pylon"]  # fmt: skip
FORMER_SUFFIX = ["Analytics", "Works", "Group", "Digital", "Partners", "Foods"]


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


def _arr(amount: Decimal, period: str) -> Decimal:
    return amount * 12 if period == BillingPeriod.MONTH else amount


def _contract(account: Account, ext: str, start: dt.date, end: dt.date, amount: Decimal, period: str, **kw) -> Contract:
    amount = amount.quantize(Decimal("1"))
    status = kw.pop("status", ContractStatus.EXPIRED if end < timezone.localdate() else ContractStatus.ACTIVE)
    return Contract.objects.create(
        account=account, name=kw.pop("name", f"{account.name} subscription"), external_id=ext, start_date=start,
        end_date=end, recurring_amount=amount, billing_period=period, arr=_arr(amount, period), status=status, **kw,
    )  # fmt: skip


def _term(account, ext, start, end, amount, period, previous, rng, today) -> Contract:
    """One past term, with a mid-term upgrade or downgrade one time in five (a dated amendment)."""
    if rng.random() < 0.2 and (end - start).days > 120:
        effective = start + dt.timedelta(days=rng.randint(45, (end - start).days - 30))
        before = amount * Decimal(rng.choice(["0.8", "0.85", "1.15"]))
        first = _contract(
            account, f"{ext}a", start, end, before, period, previous=previous, cancelled_on=effective,
            status=ContractStatus.CANCELLED,
        )  # fmt: skip
        return _contract(
            account, f"{ext}b", effective, end, amount, period, previous=first, name=f"{account.name} (amended)"
        )
    return _contract(account, ext, start, end, amount, period, previous=previous)


def _history(account: Account, current: Contract, rng: random.Random, today: dt.date) -> int:
    """Terms before the current contract, oldest first, each renewed into the next at a changed price."""
    floor = add_months(today.replace(day=1), -HISTORY_MONTHS)
    back = rng.choices([0, 1, 2, 3], weights=[20, 35, 30, 15])[0]
    if current.start_date > today:
        back = max(back, 1)  # a renewal signed ahead: the term before it is the one in force today
    starts = []
    start = current.start_date
    for _ in range(back):
        start = add_months(start, -12)
        if start < floor:
            break
        starts.append(start)
    period, amount, previous, created = current.billing_period, current.recurring_amount, None, 0
    prices = []
    for _ in starts:  # price of each earlier term, from the current one backwards
        amount = amount / Decimal(rng.choice(["1.0", "1.0", "1.0", "1.1", "1.2", "1.3", "0.9", "0.8"]))
        prices.append(amount)
    for index, (start, price) in enumerate(reversed(list(zip(starts, prices, strict=True)))):
        end = (starts[::-1][index + 1] if index + 1 < len(starts) else current.start_date) - DAY
        previous = _term(account, f"{account.external_id}-H{index}", start, end, price, period, previous, rng, today)
        created += 1
    if previous is not None:
        Contract.objects.filter(pk=current.pk).update(previous=previous)
    # One account in eight changed its current contract mid-term in the last months (upgrade or downgrade).
    if rng.random() < 0.125 and current.start_date < today - dt.timedelta(days=60):
        earliest = max(current.start_date + dt.timedelta(days=30), today - dt.timedelta(days=150))
        effective = earliest + dt.timedelta(days=rng.randint(0, max(0, (today - earliest).days - 1)))
        factor = Decimal(rng.choice(["1.2", "1.25", "1.5", "0.85"]))
        Contract.objects.filter(pk=current.pk).update(cancelled_on=effective, status=ContractStatus.CANCELLED)
        _contract(
            account, f"{account.external_id}-C1b", effective, current.end_date, current.recurring_amount * factor,
            period, previous=current, name=f"{account.name} ({'upgrade' if factor > 1 else 'downgrade'})",
            seats=current.seats, status=ContractStatus.ACTIVE,
        )  # fmt: skip
        created += 1
    return created


def _former_customers(rng: random.Random, today: dt.date, owners: dict[str, list[User]]) -> int:
    """Logos that churned over the last three years (dated), a few of which came back (reactivation)."""
    created = 0
    for n in range(CHURNED_LOGOS):
        tier = rng.choice([Tier.SMB, Tier.SMB, Tier.MID_MARKET, Tier.MID_MARKET, Tier.ENTERPRISE])
        name = f"{rng.choice(FORMER)} {rng.choice(FORMER_SUFFIX)} {n + 1}"
        account = Account.objects.create(
            name=name, domain=name.lower().replace(" ", "") + ".example", external_id=f"DEMO-X{n:03d}", tier=tier,
            industry=rng.choice(INDUSTRIES), region=rng.choice(REGIONS), owner=rng.choice(owners[TEAM_FOR_TIER[tier]]),
            engagement_model=EngagementModel.LOW_TOUCH, lifecycle_stage=LifecycleStage.CHURNED,
        )  # fmt: skip
        period = BillingPeriod.MONTH if tier == Tier.SMB else BillingPeriod.YEAR
        arr = Decimal(rng.randrange(*ARR_RANGE[tier], 500))
        amount = arr / 12 if period == BillingPeriod.MONTH else arr
        start = add_months(today.replace(day=1), -rng.randint(14, HISTORY_MONTHS))
        terms = rng.choice([1, 1, 2])
        previous = None
        for t in range(terms):
            end = add_months(start, 12) - DAY
            previous = _term(account, f"DEMO-X{n:03d}-H{t}", start, end, amount, period, previous, rng, today)
            amount = amount * Decimal(rng.choice(["1.0", "1.1", "0.9"]))
            start = end + DAY
        churned_on = previous.end_date + DAY
        if churned_on > today:  # still running: cancel it early, from a past date (a dated termination)
            churned_on = today - dt.timedelta(days=rng.randint(5, 200))
            churned_on = max(churned_on, previous.start_date + DAY)
            Contract.objects.filter(pk=previous.pk).update(cancelled_on=churned_on, status=ContractStatus.CANCELLED)
        account.churned_on, account.churn_reason = churned_on, rng.choice(CHURN_REASONS)
        if n % 8 == 0 and churned_on < today - dt.timedelta(days=120):  # came back a few months later
            back = churned_on + dt.timedelta(days=rng.randint(60, 110))
            _contract(
                account, f"DEMO-X{n:03d}-R", back, add_months(back, 12) - DAY, amount, period, previous=previous,
                name=f"{name} (returned)", status=ContractStatus.ACTIVE,
            )  # fmt: skip
            account.lifecycle_stage, account.churned_on, account.churn_reason = LifecycleStage.ONBOARDING, None, ""
        account.save(update_fields=["churned_on", "churn_reason", "lifecycle_stage"])
        created += 1
    return created


@transaction.atomic
def revenue_demo_seed(*, seed: int = 11) -> dict[str, int]:
    """Add the revenue history (idempotent) and refresh ARR and the ledger once."""
    if Contract.objects.filter(external_id__startswith="DEMO-", external_id__contains="-H").exists():
        return {"contracts": 0, "former_customers": 0}
    rng = random.Random(seed)
    today = timezone.localdate()
    owners: dict[str, list[User]] = {}
    for user in User.objects.filter(role=Role.CSM, team__isnull=False).select_related("team").order_by("email"):
        owners.setdefault(user.team.name, []).append(user)
    Contract.objects.filter(external_id__startswith="DEMO-", external_id__endswith="-C0").delete()
    created = 0
    currents = Contract.objects.filter(external_id__startswith="DEMO-", external_id__endswith="-C1")
    for current in currents.select_related("account").order_by("external_id"):
        created += _history(current.account, current, rng, today)
    former = _former_customers(rng, today, owners) if all(owners.get(t) for t in TEAM_FOR_TIER.values()) else 0
    # Sales & marketing expense for CAC, one entry per past month.
    month = add_months(today.replace(day=1), -HISTORY_MONTHS)
    while month <= today:
        AcquisitionCost.objects.get_or_create(
            month=month, defaults={"sales_marketing_expense": Decimal(rng.randrange(60_000, 140_000, 1000))}
        )
        month = add_months(month, 1)
    account_refresh_financials()
    ledger_refresh()
    return {"contracts": created, "former_customers": former}

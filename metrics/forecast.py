"""The renewal forecast: contracts ending per quarter, the ARR up for renewal, a forecast weighting each by the
historical renewal rate of its account's health band (``metrics.backtest``, computed from history, not guessed),
the ARR at risk, and the CSM's own call.

A contract is *up for renewal* in the quarter of its end date when it counts toward MRR and has not been cancelled
or amended before it ends. Its expected ARR is the open renewal's (``accounts.Renewal.expected_arr``) or the
contract's ARR. Weighted: signed renewals count in full, churned ones zero, open ones x their band's rate.
At risk: open renewals on red accounts or called at risk / will churn.
"""

import datetime as dt
from decimal import Decimal

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.models import Account, Contract
from accounts.renewal_models import ForecastCall, RenewalStage
from accounts.selectors import contract_counts_q
from health.models import Band
from metrics.backtest import renewal_rates_by_band
from metrics.scope import add_months, quarter_label, quarter_start

CENT = Decimal("0.01")
RISK_CALLS = (ForecastCall.AT_RISK, ForecastCall.WILL_CHURN)


def upcoming_contracts(*, accounts: QuerySet[Account], start: dt.date, end: dt.date) -> QuerySet[Contract]:
    """Contracts up for renewal between two days, with account, owner, health and renewal joined (one query)."""
    return (
        Contract.objects.filter(contract_counts_q(), end_date__gte=start, end_date__lte=end, arr__gt=0)
        .filter(Q(cancelled_on__isnull=True) | Q(cancelled_on__gt=F("end_date")))
        .filter(account_id__in=accounts.order_by().values("id"))
        .select_related("account", "account__owner", "account__health", "renewal", "renewal__forecast_call_by")
        .order_by("end_date", "account__name", "id")
    )


def _health_band(account: Account) -> str:
    health = getattr(account, "health", None)
    return health.band if health is not None else ""


def forecast_row(contract: Contract, rates: dict[str, float | None]) -> dict:
    """One contract's line: expected ARR, band, stage, call and its weighted value."""
    renewal = getattr(contract, "renewal", None)
    account = contract.account
    band = _health_band(account)
    expected = renewal.expected_arr if renewal is not None else contract.arr
    stage = renewal.stage if renewal is not None else ""
    call = renewal.forecast_call if renewal is not None else ""
    rate = rates.get(band) if band in rates and rates.get(band) is not None else rates.get("")
    if stage == RenewalStage.SIGNED:
        weighted = expected
    elif stage == RenewalStage.CHURNED:
        weighted = Decimal("0")
    elif rate is None:
        weighted = None
    else:
        weighted = (expected * Decimal(str(rate))).quantize(CENT)
    open_ = stage not in (RenewalStage.SIGNED, RenewalStage.CHURNED)
    at_risk = open_ and (band == Band.RED or call in RISK_CALLS)
    return {
        "contract": contract,
        "account": account,
        "renewal": renewal,
        "quarter": quarter_label(contract.end_date),
        "arr": contract.arr,
        "expected_arr": expected,
        "band": band,
        "rate": rate,
        "weighted": weighted,
        "stage": stage,
        "call": call,
        "at_risk": at_risk,
    }


def renewal_forecast(*, accounts: QuerySet[Account], today: dt.date | None = None, quarters: int = 4) -> dict:
    """Quarters from this one on: contracts ending, ARR up for renewal, weighted forecast, at-risk ARR, the CSMs'
    calls; and every contract's line. Queries: the renewal events of the rates (2) and the contracts (1)."""
    today = today or timezone.localdate()
    first = quarter_start(today)
    last = add_months(first, 3 * quarters) - dt.timedelta(days=1)
    rates = renewal_rates_by_band(today=today)
    rows = [forecast_row(c, rates) for c in upcoming_contracts(accounts=accounts, start=first, end=last)]
    summary = []
    for i in range(quarters):
        label = quarter_label(add_months(first, 3 * i))
        in_q = [r for r in rows if r["quarter"] == label]
        weighted = [r["weighted"] for r in in_q]
        summary.append(
            {
                "quarter": label,
                "contracts": len(in_q),
                "arr": sum((r["arr"] for r in in_q), Decimal("0")),
                "expected_arr": sum((r["expected_arr"] for r in in_q), Decimal("0")),
                "weighted": None if any(w is None for w in weighted) else sum(weighted, Decimal("0")),
                "at_risk_arr": sum((r["expected_arr"] for r in in_q if r["at_risk"]), Decimal("0")),
                "commit_arr": sum((r["expected_arr"] for r in in_q if r["call"] == ForecastCall.COMMIT), Decimal("0")),
                "signed": sum(1 for r in in_q if r["stage"] == RenewalStage.SIGNED),
                "churned": sum(1 for r in in_q if r["stage"] == RenewalStage.CHURNED),
            }
        )
    return {"quarters": summary, "rows": rows, "rates": rates, "start": first, "end": last}

"""Demo renewals and expansion opportunities, and the health history behind past renewals, so the renewals board,
the forecast and the health backtest are alive on ``make run``.

- Renewals open through the real service (``renewals_open_due``); some move on, get a CSM call (recorded with its
  history through ``renewal_set_call``) and a risk reason.
- CSMs' expansion opportunities through ``expansion_create``.
- Past renewal events (``metrics.backtest.renewal_events``) without a health score 90 days before get one
  ``history`` snapshot there: the demo has no product usage from years ago to score, so these scores are drawn,
  churned accounts scoring lower on average and only some measures carrying signal - which is exactly what the
  backtest is meant to reveal. Idempotent: events that have a score are left alone.
"""

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts import renewals
from accounts.renewal_models import ExpansionOpportunity, ExpansionStage, ForecastCall, Renewal, RenewalStage
from health.models import HealthSnapshot, Scorecard, SnapshotSource
from metrics.backtest import LEAD_DAYS, renewal_events

RISK_REASONS = ["Champion left", "Budget review", "Low adoption of the new module", "Evaluating a competitor"]
EXPANSIONS = ["Extra seats for the support team", "Analytics add-on", "Second business unit", "Premium support",
              "API access tier", "Sandbox environment"]  # fmt: skip
# Measures whose drawn points follow the outcome (signal) and the others (noise), for the backtest to tell apart.
SIGNAL_MEASURES = {"active_users_30d", "key_feature_adoption", "days_since_last_activity", "csm_sentiment"}


def _band(score: float, card: Scorecard | None) -> str:
    yellow, green = (card.yellow_from, card.green_from) if card else (40, 70)
    return "green" if score >= green else "yellow" if score >= yellow else "red"


def _history_snapshots(rng: random.Random, today: dt.date) -> int:
    card = Scorecard.objects.filter(is_default=True).prefetch_related("measures").first()
    keys = [m.key for m in card.measures.all()] if card else sorted(SIGNAL_MEASURES)
    rows = []
    for event in renewal_events(today=today):
        if event.score is not None:
            continue
        mean = 42 if event.churned else 72
        score = max(0.0, min(100.0, rng.gauss(mean, 16)))
        breakdown = {}
        for key in keys:
            points = rng.gauss(mean, 18) if key in SIGNAL_MEASURES else rng.gauss(60, 20)
            points = round(max(0.0, min(100.0, points)), 1)
            breakdown[key] = {"value": points, "points": points, "weight": 1, "contribution": points, "missing": False}
        as_of = event.last_day - dt.timedelta(days=LEAD_DAYS + 10)
        rows.append(
            HealthSnapshot(
                account_id=event.account_id,
                scorecard=card,
                as_of=as_of,
                computed_at=timezone.make_aware(dt.datetime.combine(as_of, dt.time(2, 15))),
                score=round(score, 1),
                band=_band(score, card),
                breakdown=breakdown,
                source=SnapshotSource.HISTORY,
            )
        )
    HealthSnapshot.objects.bulk_create(rows, batch_size=500)
    return len(rows)


@transaction.atomic
def renewals_demo_seed(*, seed: int = 7) -> dict[str, int]:
    """Open the due renewals, move some along with calls, log expansion opportunities, and give past renewals
    their health 90 days before. Safe to run again."""
    rng = random.Random(seed)
    today = timezone.localdate()
    opened = renewals.renewals_open_due(today=today)
    if opened:
        for renewal in Renewal.objects.filter(stage=RenewalStage.NOT_STARTED).select_related("owner", "account"):
            user = renewal.owner
            if user is None:
                continue
            roll = rng.random()
            if roll < 0.35:
                renewals.renewal_set_stage(renewal=renewal, stage=RenewalStage.IN_PROGRESS, user=user)
            elif roll < 0.5:
                renewals.renewal_set_stage(renewal=renewal, stage=RenewalStage.VERBAL_YES, user=user)
            call = rng.random()
            if call < 0.45:
                renewals.renewal_set_call(renewal=renewal, call=ForecastCall.COMMIT, user=user)
            elif call < 0.65:
                renewals.renewal_set_call(
                    renewal=renewal, call=ForecastCall.AT_RISK, user=user, risk_reason=rng.choice(RISK_REASONS)
                )
            elif call < 0.72:
                renewals.renewal_set_call(
                    renewal=renewal, call=ForecastCall.WILL_CHURN, user=user, risk_reason=rng.choice(RISK_REASONS)
                )
    expansions = 0
    if not ExpansionOpportunity.objects.exists():
        for renewal in Renewal.objects.select_related("account", "owner").order_by("id")[:40]:
            if renewal.owner is None or rng.random() > 0.5:
                continue
            renewals.expansion_create(
                account=renewal.account,
                data={
                    "title": rng.choice(EXPANSIONS),
                    "amount_arr": Decimal(rng.randrange(2_000, 40_000, 500)),
                    "stage": rng.choice(ExpansionStage.values[:4]),
                    "expected_close": today + dt.timedelta(days=rng.randrange(10, 150)),
                },
                user=renewal.owner,
            )
            expansions += 1
    snapshots = _history_snapshots(rng, today)
    return {"renewals": opened, "expansions": expansions, "snapshots": snapshots}

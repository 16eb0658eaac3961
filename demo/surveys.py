"""Demo surveys: a quarterly NPS, a support CSAT and an onboarding CES with a year of answers from the demo
accounts' contacts, so the results pages, the segment field, the health measures and the CSM home slot show
something on ``make run``. Deterministic and idempotent; history is written in bulk (thousands of rows), with
the same fields the services set (band, NPS category, VADER sentiment, timeline line)."""

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from accounts.models import Contact, ContactRole
from surveys.models import Band, Response, SendStatus, Survey, SurveyBatch, SurveySend, nps_category, score_band
from timeline.models import EntryKind, TimelineEntry
from timeline.sentiment import sentiment_suggest

COMMENTS = {
    Band.HIGH: [
        "The dashboards save our team hours every week.",
        "Great support team, always quick to help.",
        "Love the reporting and the integrations.",
        "Easy to use and the onboarding was excellent.",
        "",
    ],
    Band.MID: [
        "Good product but the reporting could be faster.",
        "Does the job. Pricing is a bit high.",
        "Onboarding took longer than expected.",
        "",
    ],
    Band.LOW: [
        "Support response time is too slow.",
        "Reporting is slow and exports keep failing.",
        "Too expensive for what we use, pricing is hard to justify.",
        "The outage last month hurt us badly, support response time was poor.",
        "Missing integrations we were promised.",
    ],
}
SURVEYS = [
    ("Quarterly NPS", "nps", "relationship", "quarterly", [ContactRole.DECISION_MAKER, ContactRole.CHAMPION]),
    ("Support CSAT", "csat", "transactional", "", []),
    ("Onboarding effort (CES)", "ces", "transactional", "", [ContactRole.CHAMPION, ContactRole.END_USER]),
]


def _score(rng: random.Random, kind: str, mood: float) -> int:
    """A score leaning with the account's mood (0 unhappy .. 1 happy)."""
    low, high = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}[kind]
    value = low + (high - low) * min(1.0, max(0.0, rng.gauss(mood, 0.22)))
    return round(value)


@transaction.atomic
def surveys_demo_seed(*, seed: int = 7) -> int:
    """Create the demo surveys with their history; returns the number of answers (0 when already seeded)."""
    if Survey.objects.filter(name="Quarterly NPS").exists():
        return 0
    contacts = list(Contact.objects.filter(account__external_id__startswith="DEMO-").exclude(email="").order_by("id"))
    if not contacts:
        return 0
    rng = random.Random(seed)
    now = timezone.now()
    moods: dict[int, float] = {}
    answers = 0
    for name, kind, mode, schedule, roles in SURVEYS:
        survey = Survey.objects.create(
            name=name,
            kind=kind,
            mode=mode,
            schedule=schedule,
            contact_roles=roles,
            next_run_on=timezone.localdate() + dt.timedelta(days=30) if schedule else None,
            followup_low="We are sorry. What should we fix first?",
            followup_high="Thank you! What do you value most?",
        )
        asked = [c for c in contacts if not roles or c.role in roles]
        rounds = 4 if kind == "nps" else 2
        for r in range(rounds):
            sent_at = now - dt.timedelta(days=365 - r * 90 if kind == "nps" else 200 - r * 100)
            batch = SurveyBatch.objects.create(survey=survey, source="schedule" if schedule else "trigger")
            sample = [c for c in asked if rng.random() < (0.9 if kind == "nps" else 0.35)]
            sends = SurveySend.objects.bulk_create(
                [
                    SurveySend(
                        survey=survey,
                        batch=batch,
                        account_id=c.account_id,
                        contact=c,
                        email=c.email.lower(),
                        status=SendStatus.SENT,
                        attempts=1,
                        sent_at=sent_at,
                    )
                    for c in sample
                ],
                batch_size=1000,
            )
            SurveyBatch.objects.filter(pk=batch.pk).update(
                total=len(sends), sent=len(sends), status="done", started_at=sent_at, finished_at=sent_at
            )
            SurveySend.objects.filter(batch=batch).update(created_at=sent_at)
            rows = []
            for send in sends:
                if rng.random() > 0.45:
                    continue  # no answer
                mood = moods.setdefault(send.account_id, rng.choice([0.25, 0.6, 0.75, 0.85, 0.9]))
                score = _score(rng, kind, mood + 0.05 * r)
                band = score_band(kind, score)
                comment = rng.choice(COMMENTS[band])
                sentiment, compound = sentiment_suggest(comment)
                at = sent_at + dt.timedelta(hours=rng.randint(1, 120))
                rows.append(
                    Response(
                        send=send,
                        survey=survey,
                        account_id=send.account_id,
                        contact_id=send.contact_id,
                        kind=kind,
                        score=score,
                        band=band,
                        nps_category=nps_category(score) if kind == "nps" else "",
                        comment=comment,
                        sentiment=sentiment,
                        sentiment_score=compound,
                        completed=True,
                        answered_at=min(at, now),
                        notified_at=min(at, now),
                        notified_band=band,
                    )
                )
            Response.objects.bulk_create(rows, batch_size=1000)
            names = dict(Contact.objects.filter(id__in=[x.contact_id for x in rows]).values_list("id", "name"))
            TimelineEntry.objects.bulk_create(
                [
                    TimelineEntry(
                        account_id=x.account_id,
                        kind=EntryKind.SURVEY,
                        title=f"{kind.upper()} {x.score} ({x.nps_category or x.band}) from {names[x.contact_id]}",
                        body=x.comment,
                        occurred_at=x.answered_at,
                        source_type="survey_response",
                        source_id=str(x.pk),
                        data={
                            "survey_id": survey.pk,
                            "contact_id": x.contact_id,
                            "kind": kind,
                            "score": x.score,
                            "category": x.nps_category,
                            "sentiment": x.sentiment,
                        },
                    )
                    for x in rows
                ],
                batch_size=1000,
            )
            answers += len(rows)
    return answers


def surveys_demo_trigger() -> None:
    """The closed loop of the demo: an NPS detractor answer opens a risk CTA "Detractor follow-up"."""
    from triggers.models import Trigger

    Trigger.objects.get_or_create(
        name="NPS detractor → follow-up",
        defaults={
            "is_active": True,
            "condition_type": "survey_answer",
            "params": {"kind": "nps", "score_min": 0, "score_max": 6},
            "open_cta": True,
            "cta_type": "risk",
            "cta_priority": "high",
            "cta_title": "Detractor follow-up",
            "cta_due_in_days": 3,
            "description": "Call back every NPS detractor within three days.",
        },
    )

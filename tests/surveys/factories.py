"""Factories and helpers for survey tests."""

import factory
from django.utils import timezone

from surveys.models import SendStatus, Survey, SurveySend
from surveys.services import response_record
from tests.factories import ContactFactory


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey

    name = factory.Sequence(lambda n: f"Survey {n}")
    kind = "nps"
    mode = "relationship"
    schedule = "quarterly"


class SendFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveySend

    survey = factory.SubFactory(SurveyFactory)
    contact = factory.SubFactory(ContactFactory)
    account = factory.LazyAttribute(lambda o: o.contact.account)
    email = factory.LazyAttribute(lambda o: o.contact.email.lower())
    status = SendStatus.SENT
    sent_at = factory.LazyFunction(timezone.now)


def answer(score, *, survey=None, comment=None, account=None, **kw):
    """A sent mail and its answer, through the real service."""
    extra = {"survey": survey} if survey else {}
    if account is not None:
        extra["contact"] = ContactFactory(account=account)
    send = SendFactory(**extra)
    return response_record(send=send, score=score, comment=comment, **kw)

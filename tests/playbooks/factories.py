"""Factories of the playbooks app's tests."""

import datetime as dt

import factory
from django.utils import timezone

from playbooks.models import CTA, CTAComment, CTAReason, CTATask, Playbook, PlaybookTask
from tests.factories import AccountFactory


class CTAReasonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CTAReason

    name = factory.Sequence(lambda n: f"Reason {n}")


class PlaybookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Playbook

    name = factory.Sequence(lambda n: f"Playbook {n}")
    cta_type = "risk"


class PlaybookTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlaybookTask

    playbook = factory.SubFactory(PlaybookFactory)
    position = factory.Sequence(lambda n: n)
    title = factory.Sequence(lambda n: f"Step {n}")
    task_type = "call"
    due_in_days = 3


class CTAFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CTA

    account = factory.SubFactory(AccountFactory)
    cta_type = "risk"
    priority = "medium"
    title = factory.Sequence(lambda n: f"CTA {n}")
    due_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=3))
    owner = factory.LazyAttribute(lambda o: o.account.owner)


class CTATaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CTATask

    cta = factory.SubFactory(CTAFactory)
    title = factory.Sequence(lambda n: f"Task {n}")
    due_date = factory.LazyAttribute(lambda o: o.cta.due_date)
    assignee = factory.LazyAttribute(lambda o: o.cta.owner)


class CTACommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CTAComment

    cta = factory.SubFactory(CTAFactory)
    author = factory.LazyAttribute(lambda o: o.cta.owner)
    body = "Called them."

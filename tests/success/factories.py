import datetime as dt

import factory

from success.models import Milestone, Objective, PlanTask, PlanTemplate, SuccessPlan
from tests.factories import AccountFactory


class PlanTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanTemplate

    name = factory.Sequence(lambda n: f"Template {n}")
    items = factory.LazyFunction(
        lambda: {
            "objectives": [{"title": "Cut ticket backlog", "success_criteria": "Backlog < 50", "target_days": 90}],
            "milestones": [
                {"kind": "kickoff", "name": "Kickoff", "due_days": 7},
                {"kind": "go_live", "name": "Go-live", "due_days": 45},
                {"kind": "first_value", "name": "First value", "due_days": 75},
            ],
            "tasks": [{"title": "Send welcome pack", "due_days": 2}],
        }
    )


class SuccessPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SuccessPlan

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Plan {n}")
    start_date = factory.LazyFunction(dt.date.today)


class ObjectiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Objective

    plan = factory.SubFactory(SuccessPlanFactory)
    title = factory.Sequence(lambda n: f"Objective {n}")


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    plan = factory.SubFactory(SuccessPlanFactory)
    name = factory.Sequence(lambda n: f"Milestone {n}")


class PlanTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanTask

    plan = factory.SubFactory(SuccessPlanFactory)
    title = factory.Sequence(lambda n: f"Task {n}")

"""The demo surveys: idempotent, with answers of every kind, detractors for the demo CSM and live results."""

import pytest

from csp.models import User
from demo.accounts import demo_seed
from demo.surveys import surveys_demo_seed, surveys_demo_trigger
from surveys.models import Response, Survey
from surveys.selectors import ResultFilter, nps, recent_detractors, survey_results
from triggers.models import Trigger

pytestmark = pytest.mark.django_db


def test_demo_surveys_have_answers_and_results():
    demo_seed()
    answers = surveys_demo_seed()
    assert answers > 100
    assert surveys_demo_seed() == 0
    surveys_demo_trigger()
    surveys_demo_trigger()
    assert Trigger.objects.filter(condition_type="survey_answer", is_active=True).count() == 1
    assert set(Response.objects.values_list("kind", flat=True).distinct()) == {"nps", "csat", "ces"}
    survey = Survey.objects.get(name="Quarterly NPS")
    admin = User.objects.get(email="admin@demo.csp")
    results = survey_results(user=admin, survey=survey, flt=ResultFilter())
    assert results["score"] == nps(Response.objects.filter(survey=survey))
    assert len(results["trend"]) >= 3 and results["themes"] and results["response_rate"]
    assert Response.objects.filter(kind="nps", nps_category="detractor").exists()
    assert isinstance(recent_detractors(user=admin, days=400), list)

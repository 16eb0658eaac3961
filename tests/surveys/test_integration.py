"""Surveys feeding the rest of the product: triggers (detractor → risk CTA; "send survey" action), health
measures, the segment rule field, the timeline, the CSM home slot."""

import datetime as dt

import pytest
from django.core import mail
from django.template.loader import render_to_string
from django.utils import timezone

from health.measures import MEASURES, run_sources
from playbooks.models import CTA
from segments.selectors import rules_accounts
from surveys.models import Response, SurveySend
from surveys.selectors import recent_detractors
from surveys.tokens import token_for
from tests.factories import AccountFactory, ContactFactory
from tests.surveys.factories import SendFactory, SurveyFactory, answer
from triggers.models import Trigger

pytestmark = pytest.mark.django_db


def _detractor_trigger(**kw):
    return Trigger.objects.create(
        name="Detractors", is_active=True, condition_type="survey_answer",
        params={"kind": "nps", "score_min": 0, "score_max": 6}, open_cta=True, cta_type="risk",
        cta_priority="high", cta_title="Detractor follow-up", **kw,
    )  # fmt: skip


def test_a_detractor_answer_opens_a_risk_cta_with_the_comment(client, django_capture_on_commit_callbacks):
    _detractor_trigger()
    send = SendFactory(survey=SurveyFactory(kind="nps"))
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(f"/s/{token_for(send.token_id)}/", {"score": "2", "comment": "Support never answers"})
    assert page.status_code == 302
    cta = CTA.objects.get(account=send.account)
    assert cta.title == "Detractor follow-up" and cta.cta_type == "risk"
    assert "Support never answers" in cta.description and "NPS answer 2" in cta.description
    assert Response.objects.get().notified_band == "low"


def test_a_promoter_answer_opens_nothing(django_capture_on_commit_callbacks):
    _detractor_trigger()
    with django_capture_on_commit_callbacks(execute=True):
        answer(10, survey=SurveyFactory(kind="nps"), comment="great", complete=True)
    assert not CTA.objects.exists()


def test_the_send_survey_action_mails_the_account_contacts(settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from triggers.services import trigger_run

    survey = SurveyFactory(kind="csat", mode="transactional", schedule="")
    account = AccountFactory(lifecycle_stage="onboarding")
    ContactFactory(account=account)
    trigger = Trigger.objects.create(
        name="Onboarded → CSAT", is_active=True, condition_type="lifecycle_entered", params={"stage": "adoption"},
        open_cta=False, send_survey=survey,
    )  # fmt: skip
    account.lifecycle_stage = "adoption"
    account.save()
    with django_capture_on_commit_callbacks(execute=True):
        trigger_run(trigger_id=trigger.pk)
    assert SurveySend.objects.get().account == account
    assert len(mail.outbox) == 1


def test_health_measures_read_the_latest_nps_trend_and_response_rate():
    account = AccountFactory()
    survey = SurveyFactory(kind="nps")
    old = answer(3, survey=survey, account=account)
    Response.objects.filter(pk=old.pk).update(answered_at=timezone.now() - dt.timedelta(days=200))
    answer(9, survey=survey, account=account)
    SendFactory(survey=survey, contact=ContactFactory(account=account))  # sent, unanswered
    rows = run_sources(["surveys"], [account.pk], timezone.localdate())
    r = {"surveys": rows["surveys"].get(account.pk), "as_of": timezone.localdate()}
    assert MEASURES["latest_nps"].value(r) == 9.0
    assert MEASURES["nps_trend"].value(r) == 200.0  # +100 now vs -100 before
    assert MEASURES["survey_response_rate"].value(r) == pytest.approx(66.7)
    assert MEASURES["latest_nps"].group == "surveys"
    empty = {"surveys": None, "as_of": timezone.localdate()}
    assert MEASURES["latest_nps"].value(empty) is None


def test_health_recompute_scores_an_account_from_its_latest_nps():
    from health.models import AccountHealth, Measure, Scorecard
    from health.services import health_recompute

    Scorecard.objects.all().delete()
    card = Scorecard.objects.create(name="Voice", is_default=True, yellow_from=40, green_from=70)
    Measure.objects.create(scorecard=card, key="latest_nps", group="surveys", breakpoints=[[0, 0], [10, 100]])
    account = AccountFactory()
    answer(2, survey=SurveyFactory(kind="nps"), account=account)
    health_recompute()
    health = AccountHealth.objects.get(account=account)
    assert health.score == 20 and health.band == "red"


def test_segment_rule_last_nps_category():
    promoter, detractor, silent = AccountFactory(), AccountFactory(), AccountFactory()
    survey = SurveyFactory(kind="nps")
    first = answer(10, survey=survey, account=detractor)
    Response.objects.filter(pk=first.pk).update(answered_at=timezone.now() - dt.timedelta(days=30))
    answer(1, survey=survey, account=detractor)  # the latest counts
    answer(9, survey=survey, account=promoter)
    rule = {"op": "and", "conditions": [{"field": "last_nps_category", "operator": "eq", "value": "detractor"}]}
    assert list(rules_accounts(rule)) == [detractor]
    none = {"op": "and", "conditions": [{"field": "last_nps_category", "operator": "is_empty"}]}
    assert silent in list(rules_accounts(none)) and promoter not in list(rules_accounts(none))


def test_recent_detractors_for_the_csm_home(csm, other_csm, django_assert_num_queries):
    mine, theirs = AccountFactory(owner=csm), AccountFactory(owner=other_csm)
    survey = SurveyFactory(kind="nps")
    answer(4, survey=survey, account=mine, comment="Slow <b>exports</b>")
    answer(10, survey=survey, account=mine)
    answer(0, survey=survey, account=theirs)
    old = answer(1, survey=survey, account=mine)
    Response.objects.filter(pk=old.pk).update(answered_at=timezone.now() - dt.timedelta(days=40))
    with django_assert_num_queries(1):  # answers joined with account, contact, survey
        found = recent_detractors(user=csm, days=30)
    assert [r.score for r in found] == [4]
    html = render_to_string("surveys/_recent_detractors.html", {"detractors": found})
    assert "Slow &lt;b&gt;exports&lt;/b&gt;" in html and mine.name in html

"""My day: who lands on it, what it lists for a CSM and a manager's team, the htmx task actions, query counts."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.services import account_refresh_financials
from health.models import AccountHealth, HealthSnapshot
from playbooks.models import CTAStatus
from success.models import PlanStatus, PlanTask, SuccessPlan
from tests.factories import AccountFactory, ContractFactory, UserFactory
from tests.playbooks.factories import CTAFactory, CTATaskFactory

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


def _snapshot(account, *, days_ago: int, band: str, score: float):
    HealthSnapshot.objects.create(
        account=account, computed_at=timezone.now() - dt.timedelta(days=days_ago),
        as_of=today() - dt.timedelta(days=days_ago), score=score, band=band, breakdown={},
    )  # fmt: skip


def _book(owner, name: str):
    """One account of ``owner`` with one of everything My day lists."""
    account = AccountFactory(owner=owner, name=name)
    # Renewal in 30 days.
    ContractFactory(account=account, start_date=today() - dt.timedelta(days=335), end_date=today() + dt.timedelta(30))
    account_refresh_financials(account_ids=[account.pk])
    # An overdue CTA with an open task, a closed CTA (never listed), a plan task due tomorrow.
    cta = CTAFactory(account=account, title=f"{name} risk", due_date=today() - dt.timedelta(days=2))
    CTATaskFactory(cta=cta, title=f"{name} call champion", due_date=today())
    CTAFactory(account=account, title=f"{name} closed", status=CTAStatus.CLOSED, outcome="success")
    plan = SuccessPlan.objects.create(account=account, name=f"{name} plan", start_date=today(), owner=owner)
    PlanTask.objects.create(plan=plan, title=f"{name} send deck", owner=owner, due_date=today() + dt.timedelta(1))
    # Green a week ago, red now.
    _snapshot(account, days_ago=9, band="green", score=80)
    _snapshot(account, days_ago=1, band="red", score=30)
    AccountHealth.objects.create(
        account=account, score=30, band="red", previous_score=80, previous_band="green", trend="down",
        computed_at=timezone.now(), changed_at=timezone.now() - dt.timedelta(days=1),
    )  # fmt: skip
    # Never touched: going dark.
    return account


@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_admins_and_viewers_land_on_the_book(client_as, role):
    response = client_as(role).get(reverse("home"))
    assert response.status_code == 302
    assert response.url == reverse("accounts:list")


def test_csm_day_lists_own_items_only(client_as, csm, other_csm):
    _book(csm, "Mine")
    _book(other_csm, "Theirs")
    response = client_as("csm").get(reverse("home"))
    assert response.status_code == 200
    body = response.content.decode()
    for text in ["Mine risk", "Mine call champion", "Mine send deck", "Mine plan"]:
        assert text in body
    assert "Theirs" not in body
    assert "Mine closed" not in body
    ctx = response.context
    assert ctx["ctas"]["total"] == 1 and ctx["ctas"]["overdue"] == 1
    assert [a.name for a in ctx["renewals"]] == ["Mine"]
    assert [(h.band_before, h.band) for h in ctx["health_changes"]] == [("green", "red")]
    assert [a.name for a in ctx["going_dark"]] == ["Mine"]
    # Each line one click from acting: the CTA, the task's done button, the account.
    cta = ctx["ctas"]["rows"][0]
    assert reverse("playbooks:cta_detail", args=[cta.pk]) in body
    assert reverse("home_cta_task_done", args=[ctx["tasks"][0].task.pk]) in body
    assert reverse("accounts:detail", args=[cta.account_id]) in body


def test_items_outside_the_windows_are_not_listed(client_as, csm):
    account = AccountFactory(owner=csm, name="Quiet")
    ContractFactory(account=account, start_date=today() - dt.timedelta(200), end_date=today() + dt.timedelta(200))
    account_refresh_financials(account_ids=[account.pk])
    CTAFactory(account=account, title="Far away", due_date=today() + dt.timedelta(days=30))
    _snapshot(account, days_ago=20, band="green", score=80)
    AccountHealth.objects.create(
        account=account, score=82, band="green", computed_at=timezone.now(), changed_at=timezone.now()
    )
    account.last_touchpoint_at = timezone.now()
    account.save()
    ctx = client_as("csm").get(reverse("home")).context
    assert ctx["ctas"]["total"] == 0 and ctx["renewals"] == [] and ctx["health_changes"] == []
    assert ctx["going_dark"] == []


def test_manager_sees_team_and_filters_by_csm(client_as, manager, csm, other_csm, team):
    second = UserFactory(team=team, full_name="Second CSM")
    _book(csm, "First")
    _book(second, "Second")
    _book(other_csm, "Outsider")
    client = client_as("manager")
    ctx = client.get(reverse("home")).context
    assert {c.title for c in ctx["ctas"]["rows"]} == {"First risk", "Second risk"}
    assert {u.pk for u in ctx["scope"].team} == {manager.pk, csm.pk, second.pk}
    one = client.get(reverse("home"), {"csm": second.pk}, HTTP_HX_REQUEST="true")
    assert one.templates[0].name == "home/_day_body.html"
    assert [c.title for c in one.context["ctas"]["rows"]] == ["Second risk"]
    # Someone outside the team cannot be picked: the whole team is shown instead.
    outsider = client.get(reverse("home"), {"csm": other_csm.pk}).context
    assert {c.title for c in outsider["ctas"]["rows"]} == {"First risk", "Second risk"}


def test_day_runs_a_fixed_number_of_queries(client_as, csm, django_assert_num_queries):
    client = client_as("csm")
    _book(csm, "A")
    client.get(reverse("home"))  # warm the session and content types
    # session, user, CTA counts, CTAs, CTA tasks, plan tasks, renewals, health changes, going dark,
    # my book (ARR and movements, health mix: metrics.selectors.book_summary), recent detractors (surveys)
    with django_assert_num_queries(12):
        client.get(reverse("home"))
    for i in range(4):
        _book(csm, f"More {i}")
    with django_assert_num_queries(12):
        response = client.get(reverse("home"))
    assert response.context["ctas"]["total"] == 5


def test_manager_day_query_count(client_as, csm, django_assert_num_queries):
    _book(csm, "A")
    client = client_as("manager")
    client.get(reverse("home"))
    # session, user, team members, then the seven lists, my book and detractors as for a CSM
    with django_assert_num_queries(13):
        client.get(reverse("home"))


def test_tick_cta_task_with_htmx_and_undo(client_as, csm):
    _book(csm, "Mine")
    client = client_as("csm")
    task = client.get(reverse("home")).context["tasks"][0].task
    url = reverse("home_cta_task_done", args=[task.pk])
    response = client.post(url, {"done": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'data-testid="task-undo"' in response.content.decode()
    task.refresh_from_db()
    assert task.completed_at is not None and task.completed_by == csm
    client.post(url, {"done": "0"}, HTTP_HX_REQUEST="true")
    task.refresh_from_db()
    assert task.completed_at is None


def test_tick_plan_task(client_as, csm):
    _book(csm, "Mine")
    client = client_as("csm")
    task = PlanTask.objects.get(title="Mine send deck")
    response = client.post(reverse("home_plan_task_done", args=[task.pk]), {"done": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    task.refresh_from_db()
    assert task.done and task.completed_at is not None
    # Without htmx the browser goes back to My day.
    response = client.post(reverse("home_plan_task_done", args=[task.pk]), {"done": "0"})
    assert response.status_code == 302 and response.url == reverse("home")


def test_wrong_role_or_stranger_cannot_tick(client_as, csm, other_csm, users):
    _book(other_csm, "Theirs")
    cta_task = CTATaskFactory._meta.model.objects.get(title="Theirs call champion")
    plan_task = PlanTask.objects.get(title="Theirs send deck")
    for role in ["csm", "viewer"]:
        client = client_as(role)
        assert client.post(reverse("home_cta_task_done", args=[cta_task.pk]), {"done": "1"}).status_code == 403
        assert client.post(reverse("home_plan_task_done", args=[plan_task.pk]), {"done": "1"}).status_code == 403
    assert client_as("csm").get(reverse("home_cta_task_done", args=[cta_task.pk])).status_code == 405
    cta_task.refresh_from_db()
    assert cta_task.completed_at is None


def test_archived_plan_tasks_are_not_listed(client_as, csm):
    _book(csm, "Mine")
    SuccessPlan.objects.update(status=PlanStatus.ARCHIVED)
    ctx = client_as("csm").get(reverse("home")).context
    assert [line.kind for line in ctx["tasks"]] == ["cta"]

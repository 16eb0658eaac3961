"""Cockpit, CTA card actions (htmx and plain), the account CTAs tab and the admin's playbook and reason pages:
role refusals, form errors, and fixed query counts."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from playbooks.models import CTA, CTAReason, Playbook
from tests.playbooks.factories import (
    CTACommentFactory,
    CTAFactory,
    CTAReasonFactory,
    CTATaskFactory,
    PlaybookFactory,
    PlaybookTaskFactory,
)

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_anonymous_goes_to_login():
    from django.test import Client

    response = Client().get(reverse("playbooks:cockpit"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_cockpit_groups_and_filters(client_as, csm, own_account):
    today = timezone.localdate()
    for days, title, kind in ((-2, "Late one", "risk"), (0, "Today one", "renewal"), (60, "Far one", "risk")):
        CTAFactory(account=own_account, due_date=today + dt.timedelta(days=days), title=title, cta_type=kind)
    CTAFactory(account=own_account, title="Sleeping", status="snoozed", snoozed_until=today + dt.timedelta(days=1))
    CTAFactory(account=own_account, title="Done one", status="closed", outcome="success")
    client = client_as("csm")
    body = client.get(reverse("playbooks:cockpit")).content.decode()
    assert body.index("Late one") < body.index("Today one") < body.index("Far one")
    assert "Sleeping" not in body and "Done one" not in body
    assert 'data-testid="group-count-overdue">1<' in body
    filtered = client.get(reverse("playbooks:cockpit"), {"cta_type": "risk"}, **HTMX)
    assert "Today one" not in filtered.content.decode() and "Late one" in filtered.content.decode()
    assert "<html" not in filtered.content.decode()  # the htmx partial only
    by_account = client.get(reverse("playbooks:cockpit"), {"account": "nothing-like-it"}).content.decode()
    assert "Late one" not in by_account
    asleep = client.get(reverse("playbooks:cockpit"), {"show": "snoozed"}).content.decode()
    assert "Sleeping" in asleep and "Late one" not in asleep


def test_manager_sees_team_and_overdue_counts(client_as, own_cta, foreign_cta):
    CTAFactory(account=own_cta.account, due_date=timezone.localdate() - dt.timedelta(days=3), title="Late")
    body = client_as("manager").get(reverse("playbooks:cockpit")).content.decode()
    assert "Own CTA" in body and "Foreign CTA" not in body
    assert 'data-testid="team-counts"' in body and 'data-testid="team-overdue">1<' in body


def test_viewer_reads_but_sees_no_actions(client_as, own_cta):
    body = client_as("viewer").get(reverse("playbooks:cockpit"), {"scope": "all"}).content.decode()
    assert "Own CTA" in body and "close-cta" not in body and "disabled" in body


@pytest.mark.parametrize("role", ["viewer", "csm"])
def test_refused_roles_cannot_act(client_as, other_csm, own_cta, foreign_cta, role):
    cta = own_cta if role == "viewer" else foreign_cta
    client = client_as(role)
    task = cta.tasks.get()
    for name, data in (
        ("cta_close", {"outcome": "success"}), ("cta_snooze", {"until": "2099-01-01"}),
        ("cta_reassign", {"owner": other_csm.pk}), ("cta_comment", {"body": "hi"}), ("cta_wake", {}),
    ):  # fmt: skip
        assert client.post(reverse(f"playbooks:{name}", args=[cta.pk]), data).status_code == 403, name
    assert client.post(reverse("playbooks:cta_task_toggle", args=[cta.pk, task.pk]), {"done": "1"}).status_code == 403
    assert client.get(reverse("playbooks:cta_edit", args=[cta.pk])).status_code == 403
    cta.refresh_from_db()
    assert cta.status == "open" and not cta.comments.exists()


def test_close_needs_outcome_htmx_shows_error_in_card(client_as, own_cta):
    client = client_as("csm")
    url = reverse("playbooks:cta_close", args=[own_cta.pk])
    response = client.post(url, {"outcome": ""}, **HTMX)
    assert response.status_code == 200 and "Pick an outcome" in response.content.decode()
    plain = client.post(url, {"outcome": "bogus"})
    assert plain.status_code == 400 and 'data-testid="cta-errors"' in plain.content.decode()
    own_cta.refresh_from_db()
    assert own_cta.status == "open"
    done = client.post(url, {"outcome": "no_action_needed", "note": "Fine after all"}, **HTMX)
    assert done.status_code == 200 and "Closed: No action needed" in done.content.decode()


def test_card_actions_htmx(client_as, own_cta, other_csm, csm):
    client = client_as("csm")
    task = own_cta.tasks.get()
    tick = client.post(reverse("playbooks:cta_task_toggle", args=[own_cta.pk, task.pk]), {"done": "1"}, **HTMX)
    assert tick.status_code == 200 and 'data-testid="task-done"' in tick.content.decode()
    task.refresh_from_db()
    assert task.completed_by == csm
    comment = client.post(reverse("playbooks:cta_comment", args=[own_cta.pk]), {"body": "Left a voicemail"}, **HTMX)
    assert "Left a voicemail" in comment.content.decode()
    empty = client.post(reverse("playbooks:cta_comment", args=[own_cta.pk]), {"body": ""}, **HTMX)
    assert "Write something first" in empty.content.decode()
    past = client.post(reverse("playbooks:cta_snooze", args=[own_cta.pk]), {"until": "2000-01-01"}, **HTMX)
    assert "after today" in past.content.decode()
    until = timezone.localdate() + dt.timedelta(days=4)
    snooze = client.post(reverse("playbooks:cta_snooze", args=[own_cta.pk]), {"until": until.isoformat()}, **HTMX)
    assert 'data-testid="cta-snoozed"' in snooze.content.decode()
    moved = client.post(reverse("playbooks:cta_reassign", args=[own_cta.pk]), {"owner": other_csm.pk})
    assert moved.status_code == 302
    own_cta.refresh_from_db()
    assert own_cta.owner == other_csm and own_cta.status == "snoozed"


def test_assignee_ticks_a_task_on_a_cta_they_cannot_act_on(client_as, csm, foreign_cta):
    task = CTATaskFactory(cta=foreign_cta, assignee=csm)
    response = client_as("csm").post(
        reverse("playbooks:cta_task_toggle", args=[foreign_cta.pk, task.pk]), {"done": "1"}
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.completed_at is not None


def test_cta_edit_form_error(client_as, own_cta):
    response = client_as("csm").post(reverse("playbooks:cta_edit", args=[own_cta.pk]), {"title": ""})
    assert response.status_code == 200 and response.context["form"].errors["title"]


def test_account_tab_opens_a_cta_with_playbook(client_as, own_account, csm):
    playbook = PlaybookFactory()
    PlaybookTaskFactory(playbook=playbook, due_in_days=2)
    reason = CTAReasonFactory()
    client = client_as("csm")
    url = reverse("playbooks:account_ctas", args=[own_account.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'data-testid="open-cta-form"' in page.content.decode()
    assert 'data-testid="tab-ctas"' in page.content.decode()
    data = {"cta_type": "risk", "priority": "high", "reason": reason.pk, "title": "Usage fell", "playbook": playbook.pk}
    assert client.post(url, data).status_code == 302
    cta = CTA.objects.get(title="Usage fell")
    assert (cta.owner, cta.reason, cta.created_by, cta.tasks.count()) == (csm, reason, csm, 1)


def test_account_tab_form_errors(client_as, own_account):
    response = client_as("csm").post(
        reverse("playbooks:account_ctas", args=[own_account.pk]), {"cta_type": "weird", "priority": "high"}
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) >= {"cta_type", "title"}
    assert not CTA.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "csm"])
def test_account_tab_refuses_opening(client_as, foreign_account, own_account, role):
    account = own_account if role == "viewer" else foreign_account
    client = client_as(role)
    url = reverse("playbooks:account_ctas", args=[account.pk])
    assert 'data-testid="open-cta-form"' not in client.get(url).content.decode()
    response = client.post(url, {"cta_type": "risk", "priority": "low", "title": "x"})
    assert response.status_code == 403 and not CTA.objects.exists()


@pytest.mark.parametrize("role", ["manager", "csm", "viewer"])
def test_admin_pages_refuse_other_roles(client_as, role):
    client = client_as(role)
    for name in ("playbook_list", "playbook_create", "reason_list", "reason_create"):
        assert client.get(reverse(f"playbooks:{name}")).status_code == 403, name
    assert client.post(reverse("playbooks:reason_create"), {"name": "x"}).status_code == 403
    assert not CTAReason.objects.exists()


def _formset(rows, initial=0):
    data = {"tasks-TOTAL_FORMS": str(len(rows)), "tasks-INITIAL_FORMS": str(initial), "tasks-MIN_NUM_FORMS": "0",
            "tasks-MAX_NUM_FORMS": "1000"}  # fmt: skip
    for i, row in enumerate(rows):
        data.update({f"tasks-{i}-{k}": v for k, v in row.items()})
    return data


def test_admin_creates_and_edits_a_playbook(client_as):
    client = client_as("admin")
    rows = [
        {"title": "Second", "task_type": "email", "due_in_days": "5", "assignee_role": "owner_manager", "ORDER": "2"},
        {"title": "First", "task_type": "call", "due_in_days": "1", "assignee_role": "account_team:ae", "ORDER": "1"},
        {"title": "", "task_type": "todo", "due_in_days": "0", "assignee_role": "account_owner", "ORDER": ""},
    ]
    response = client.post(reverse("playbooks:playbook_create"), {"name": "Rescue", "cta_type": "risk",
                           "is_active": "on", **_formset(rows)})  # fmt: skip
    assert response.status_code == 302, response.context and response.context["formset"].errors
    playbook = Playbook.objects.get(name="Rescue")
    assert list(playbook.tasks.values_list("title", "position", "assignee_role")) == [
        ("First", 0, "account_team:ae"),
        ("Second", 1, "owner_manager"),
    ]
    edit = client.get(reverse("playbooks:playbook_edit", args=[playbook.pk]))
    assert edit.status_code == 200 and "Second" in edit.content.decode()


def test_playbook_form_errors(client_as):
    rows = [{"title": "X", "task_type": "call", "due_in_days": "-1", "assignee_role": "ceo", "ORDER": ""}]
    response = client_as("admin").post(reverse("playbooks:playbook_create"), {"name": "", **_formset(rows)})
    assert response.status_code == 400
    assert "name" in response.context["form"].errors
    assert set(response.context["formset"].forms[0].errors) == {"due_in_days", "assignee_role"}
    assert not Playbook.objects.exists()


def test_admin_reason_crud(client_as):
    client = client_as("admin")
    assert client.post(reverse("playbooks:reason_create"), {"name": "Usage drop", "cta_type": "risk",
                       "is_active": "on"}).status_code == 302  # fmt: skip
    duplicate = client.post(reverse("playbooks:reason_create"), {"name": "Usage drop"})
    assert duplicate.status_code == 400 and "name" in duplicate.context["form"].errors
    reason = CTAReason.objects.get()
    assert client.post(reverse("playbooks:reason_delete", args=[reason.pk])).status_code == 302
    assert not CTAReason.objects.exists()


# --- fixed query counts ------------------------------------------------------------------------------------


def _ctas(account, rows, **extra):
    today = timezone.localdate()
    for i in range(rows):
        cta = CTAFactory(account=account, due_date=today + dt.timedelta(days=(i % 12) - 3), reason=CTAReasonFactory(),
                         **extra)  # fmt: skip
        CTATaskFactory.create_batch(2, cta=cta)
        CTACommentFactory(cta=cta)


@pytest.mark.parametrize("rows", [1, 20])
def test_cockpit_query_count_csm(client_as, django_assert_num_queries, own_account, foreign_account, csm, rows):
    _ctas(own_account, rows)
    _ctas(foreign_account, rows, owner=csm)  # csm owns these CTAs but not their account
    for cta in CTAFactory.create_batch(rows, account=foreign_account):  # csm only holds a task here
        CTATaskFactory(cta=cta, assignee=csm)
    client = client_as("csm")
    # session, user, group-count aggregate, the page's CTA ids, those CTAs as card rows (account, owner and
    # their team, reason, closer joined), tasks (assignee, completed_by joined), comments (author joined), the
    # csm's account-team memberships (who may act), the assignable owners for the reassign picker
    with django_assert_num_queries(9):
        assert client.get(reverse("playbooks:cockpit")).status_code == 200


@pytest.mark.parametrize("rows", [1, 20])
def test_cockpit_query_count_manager(client_as, django_assert_num_queries, own_account, rows):
    _ctas(own_account, rows)
    client = client_as("manager")
    # session, user, the manager's team ids (read once: the team scope's owner list, who may act, the per-CSM
    # counts), per-owner team counts (their sums are the group counts of this unfiltered team view), those
    # owners' names, the page's CTA ids, those CTAs as card rows, tasks, comments, assignable owners
    with django_assert_num_queries(10):
        assert client.get(reverse("playbooks:cockpit")).status_code == 200
    # filtered, the groups are counted apart: one more aggregate
    with django_assert_num_queries(11):
        assert client.get(reverse("playbooks:cockpit"), {"priority": "medium"}).status_code == 200


@pytest.mark.parametrize("rows", [1, 20])
def test_account_tab_query_count(client_as, django_assert_num_queries, own_account, rows):
    _ctas(own_account, rows)
    _ctas(own_account, rows, status="closed", outcome="success", closed_at=timezone.now())
    client = client_as("csm")
    # session, user, account 360 header (account + contacts, contracts, children, team members), CTAs, tasks,
    # comments, the csm's account-team memberships (who may act), the open form's reasons, owners and playbooks
    with django_assert_num_queries(14):
        assert client.get(reverse("playbooks:account_ctas", args=[own_account.pk])).status_code == 200


@pytest.mark.parametrize("rows", [1, 20])
def test_admin_lists_query_count(client_as, django_assert_num_queries, rows):
    for _ in range(rows):
        PlaybookTaskFactory.create_batch(2, playbook=PlaybookFactory())
        CTAReasonFactory()
    client = client_as("admin")
    # session, user, playbooks (with their CTA count), their steps
    with django_assert_num_queries(4):
        assert client.get(reverse("playbooks:playbook_list")).status_code == 200
    # session, user, reasons with their CTA count
    with django_assert_num_queries(3):
        assert client.get(reverse("playbooks:reason_list")).status_code == 200


def test_cta_detail_page(client_as, own_cta):
    response = client_as("viewer").get(reverse("playbooks:cta_detail", args=[own_cta.pk]))
    assert response.status_code == 200 and "Own CTA" in response.content.decode()
    assert client_as("viewer").get(reverse("playbooks:cta_detail", args=[999999])).status_code == 404

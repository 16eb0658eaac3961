"""The CTA card as ``playbooks.cards`` builds it from ``selectors.card_rows``: what it prints (labels, dates,
names, escaping, states), who may tick and act, and that the team scope read as an owner-id list finds the
same CTAs as the subquery."""

import datetime as dt

import pytest
from django import forms
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils import timezone

from csp.roles import managed_user_ids
from playbooks import policies, selectors
from playbooks.cards import CardBuilder, form_errors
from tests.factories import UserFactory
from tests.playbooks.factories import CTACommentFactory, CTAFactory, CTAReasonFactory, CTATaskFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def _card(user, cta):
    rows = selectors.card_rows([cta.pk])
    builder = CardBuilder(user=user, today=timezone.localdate(), can_act=policies.cta_action_map_rows(user, rows))
    return builder.card(rows[0])


def test_card_prints_what_the_cta_holds(client_as, csm, own_account):
    today = timezone.localdate()
    cta = CTAFactory(
        account=own_account, title="Renew <soon>", priority="urgent", cta_type="opportunity", source="trigger",
        reason=CTAReasonFactory(name="Usage & drop"), description="Line one\n<b>two</b>",
        due_date=today - dt.timedelta(days=2), status="snoozed", snoozed_until=today,
    )  # fmt: skip
    done = CTATaskFactory(cta=cta, title="Call", task_type="call", completed_at=timezone.now(), completed_by=csm)
    CTATaskFactory(cta=cta, title="Mail", task_type="email", assignee=None, due_date=today - dt.timedelta(days=1),
                   guidance="Say <hi>\nthen bye")  # fmt: skip
    CTACommentFactory(cta=cta, author=None, body="No <author>")
    body = client_as("csm").get(reverse("playbooks:cockpit")).content.decode()
    assert '<span class="badge text-bg-danger" title="Priority">Urgent</span>' in body
    assert "Opportunity (expansion)" in body and "Renew &lt;soon&gt;" in body and "Usage &amp; drop" in body
    assert "bi-lightning-charge" in body and "Line one<br>&lt;b&gt;two&lt;/b&gt;" in body
    assert f"Snoozed until {date_filter(today, 'D j M Y')} (back)" in body and "wake now" in body
    assert 'class="card mb-2 shadow-sm border-danger"' in body
    assert f'<i class="bi bi-calendar-event"></i> {date_filter(cta.due_date, "D j M Y")}' in body
    assert f'id="cta-task-{done.pk}"' in body and 'class="bi bi-telephone" title="Call"' in body
    done_at = date_filter(timezone.localtime(done.completed_at), "j M H:i")
    assert f"· done {done_at} by {csm.full_name or csm.email}</span>" in body
    assert "· unassigned · due" in body and '<span class="badge text-bg-danger">overdue</span>' in body
    assert "Say &lt;hi&gt;<br>then bye" in body
    assert "<strong>?</strong>" in body and "No &lt;author&gt;" in body
    assert f'hx-post="/ctas/{cta.pk}/close/"' in body and 'name="next" value="/ctas/"' in body


def test_closed_card_on_the_cta_page(client_as, csm, own_account):
    cta = CTAFactory(account=own_account, status="closed", outcome="lost", outcome_note="Gone <away>",
                     closed_at=timezone.now(), closed_by=csm)  # fmt: skip
    CTATaskFactory(cta=cta)
    body = client_as("csm").get(reverse("playbooks:cta_detail", args=[cta.pk])).content.decode()
    assert '<span class="badge text-bg-danger">Closed: Lost</span>' in body
    assert f"by {csm.full_name or csm.email} — Gone &lt;away&gt;" in body
    assert "close-cta" not in body and " disabled>" in body  # no actions, tasks locked
    assert "border-secondary opacity-75" in body


def test_task_rights_in_the_card(csm, other_csm, foreign_cta, viewer):
    mine = CTATaskFactory(cta=foreign_cta, assignee=csm)
    card = _card(csm, foreign_cta)
    assert not card["can_act"] and not card["actions"]
    enabled = {t["id"]: t["enabled"] for t in card["tasks"]}
    assert enabled[str(mine.pk)] and list(enabled.values()).count(True) == 1
    assert all(t["enabled"] for t in _card(other_csm, foreign_cta)["tasks"])  # the owner ticks all
    assert not any(t["enabled"] for t in _card(viewer, foreign_cta)["tasks"])


def test_card_rows_keep_the_order_and_action_map_rows_agree(users, manager, csm, own_cta, foreign_cta):
    rows = selectors.card_rows([foreign_cta.pk, own_cta.pk, 999999])
    assert [r["id"] for r in rows] == [foreign_cta.pk, own_cta.pk]
    assert [t["title"] for t in rows[1]["tasks"]] == ["Call champion"]
    ctas = list(selectors.cta_list().filter(pk__in=[own_cta.pk, foreign_cta.pk]))
    for user in [*users.values(), UserFactory(role="csm")]:
        assert policies.cta_action_map_rows(user, rows) == policies.cta_action_map(user, ctas), user.email
    assert policies.cta_action_map_rows(manager, rows, managed=managed_user_ids(manager)) == {
        own_cta.pk: True,
        foreign_cta.pk: False,
    }


def test_team_scope_as_an_id_list_matches_the_subquery(manager, csm, own_cta, foreign_cta):
    today = timezone.localdate()
    CTAFactory(account=own_cta.account, owner=manager, title="Manager's own", due_date=today - dt.timedelta(days=1))
    CTAFactory(account=own_cta.account, owner=None, title="Nobody's")
    CTAFactory(account=own_cta.account, status="snoozed", snoozed_until=today + dt.timedelta(days=1))
    CTAFactory(account=own_cta.account, status="snoozed", snoozed_until=today, due_date=today)
    by_subquery = selectors.cockpit_queryset(user=manager, scope="team", today=today)
    by_list = selectors.cockpit_queryset(user=manager, scope="team", today=today, team_ids=managed_user_ids(manager))
    assert list(by_list) == list(by_subquery) and len(by_list) == 3
    assert selectors.group_counts(by_list, today) == selectors.group_counts(by_subquery, today)
    ids = managed_user_ids(manager)
    team = selectors.team_counts(user=manager, today=today, team_ids=ids)
    assert team == selectors.team_counts(user=manager, today=today)
    assert selectors.team_group_counts(team) == selectors.group_counts(by_subquery, today)


def test_htmx_card_answer_shows_form_errors_escaped(client_as, own_cta):
    response = client_as("csm").post(reverse("playbooks:cta_close", args=[own_cta.pk]), {"note": "x"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and 'data-testid="cta-errors"' in body
    assert "\n      Pick an outcome to close the CTA. \n    </div>" in body
    form = forms.Form(data={})
    form.is_valid()
    form.add_error(None, ["<b>one</b>", "two"])
    assert form_errors(form, None) == "&lt;b&gt;one&lt;/b&gt; two "

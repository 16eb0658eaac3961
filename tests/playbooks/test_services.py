"""Playbook application (due dates, assignees), the CTA lifecycle, the trigger-facing selectors, the cockpit's
groups and the who-may-act policy."""

import datetime as dt

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils import timezone

from csp.models import Role
from playbooks import policies, selectors, services
from playbooks.models import CTA, CTAStatus
from tests.factories import AccountFactory, TeamFactory, UserFactory
from tests.playbooks.factories import CTAFactory, CTATaskFactory, PlaybookFactory, PlaybookTaskFactory

pytestmark = pytest.mark.django_db


def _playbook(*steps):
    playbook = PlaybookFactory()
    for i, (days, role) in enumerate(steps):
        PlaybookTaskFactory(playbook=playbook, position=i, title=f"Step {i}", due_in_days=days, assignee_role=role)
    return playbook


# --- playbooks: dates and assignees ------------------------------------------------------------------------


def test_playbook_tasks_get_real_dates_and_role_assignees(csm, manager):
    ae, implementer = UserFactory(), UserFactory()
    account = AccountFactory(owner=csm)
    account.team_members.create(user=ae, role="ae")
    account.team_members.create(user=implementer, role="implementation")
    playbook = _playbook((0, "account_owner"), (3, "account_team:ae"), (10, "owner_manager"),
                         (5, "account_team:implementation"))  # fmt: skip
    cta = services.cta_open(account=account, cta_type="risk", priority="high", title="Save it", playbook=playbook)
    opened = timezone.localdate(cta.opened_at)
    tasks = list(cta.tasks.order_by("position"))
    assert [t.due_date for t in tasks] == [opened + dt.timedelta(days=d) for d in (0, 3, 10, 5)]
    assert [t.assignee for t in tasks] == [csm, ae, manager, implementer]
    assert [t.title for t in tasks] == ["Step 0", "Step 1", "Step 2", "Step 3"]
    assert cta.playbook == playbook
    # With no due date given, the CTA is due with the playbook's last step.
    assert cta.due_date == opened + dt.timedelta(days=10)


def test_missing_team_role_and_missing_manager_fall_back_to_the_owner():
    owner = UserFactory(team=None)
    account = AccountFactory(owner=owner)
    playbook = _playbook((1, "account_team:se"), (2, "owner_manager"))
    cta = services.cta_open(account=account, cta_type="renewal", priority="low", title="Renew", playbook=playbook)
    assert [t.assignee for t in cta.tasks.order_by("position")] == [owner, owner]


def test_team_without_a_manager_falls_back_to_the_owner():
    owner = UserFactory(team=TeamFactory(manager=None))
    cta = services.cta_open(
        account=AccountFactory(owner=owner), cta_type="risk", priority="low", title="x",
        playbook=_playbook((0, "owner_manager")),
    )  # fmt: skip
    assert cta.tasks.get().assignee == owner


def test_tasks_follow_the_account_owner_even_when_the_cta_goes_to_someone_else(csm, other_csm):
    cta = services.cta_open(
        account=AccountFactory(owner=csm), cta_type="risk", priority="low", title="x", owner=other_csm,
        playbook=_playbook((0, "account_owner")),
    )  # fmt: skip
    assert cta.owner == other_csm
    assert cta.tasks.get().assignee == csm


def test_unowned_account_steps_go_to_the_cta_owner(csm, manager):
    cta = services.cta_open(
        account=AccountFactory(owner=None), cta_type="risk", priority="low", title="x", owner=csm,
        playbook=_playbook((0, "account_owner"), (0, "owner_manager")),
    )  # fmt: skip
    assert [t.assignee for t in cta.tasks.order_by("position")] == [csm, manager]


def test_playbook_save_replaces_steps_and_names_bad_fields():
    playbook = services.playbook_save(
        data={"name": "P"}, tasks=[{"title": "A", "due_in_days": 2}, {"title": "B", "assignee_role": "owner_manager"}]
    )
    assert list(playbook.tasks.values_list("title", "position")) == [("A", 0), ("B", 1)]
    services.playbook_save(playbook=playbook, data={}, tasks=[{"title": "C"}])
    assert list(playbook.tasks.values_list("title", flat=True)) == ["C"]
    with pytest.raises(ValidationError) as exc:
        services.playbook_save(playbook=playbook, data={}, tasks=[{"title": "D", "assignee_role": "ceo"}])
    assert "tasks[0].assignee_role" in exc.value.message_dict
    assert list(playbook.tasks.values_list("title", flat=True)) == ["C"]


# --- CTA lifecycle -----------------------------------------------------------------------------------------


def test_open_defaults_owner_and_due_date_and_records_timeline(csm):
    account = AccountFactory(owner=csm)
    cta = services.cta_open(account=account, cta_type="activity", priority="medium", title="QBR")
    assert cta.owner == csm
    assert cta.status == CTAStatus.OPEN and cta.source == "manual" and cta.source_key == ""
    assert cta.due_date == timezone.localdate() + dt.timedelta(days=services.DEFAULT_DUE_DAYS)
    if apps.is_installed("timeline"):
        from timeline.models import TimelineEntry

        assert TimelineEntry.objects.filter(account=account, kind="cta_opened").count() == 1


def test_open_many_matches_open_in_a_fixed_number_of_queries(csm, manager, django_assert_num_queries):
    team = TeamFactory(manager=manager)
    csm.team = team
    csm.save()
    playbook = _playbook((2, "account_owner"), (5, "owner_manager"))
    accounts = [AccountFactory(owner=csm) for _ in range(4)] + [AccountFactory(owner=None)]
    openings = [services.CTAOpening(account=a, title=f"Save {a.name}") for a in accounts]
    # playbook steps; SAVEPOINT/RELEASE (atomic); CTAs (one insert); accounts with owner, team, manager; their team
    # members; tasks (one insert); timeline lines (one insert): the same for 5 accounts as for 500.
    with django_assert_num_queries(8):
        ctas = services.cta_open_many(
            openings=openings, cta_type="risk", priority="high", playbook=playbook, source="trigger",
            source_key="trigger:9",
        )  # fmt: skip
    assert [c.account_id for c in ctas] == [a.id for a in accounts]
    one = services.cta_open(account=AccountFactory(owner=csm), cta_type="risk", priority="high", title="x",
                            playbook=playbook)  # fmt: skip
    first = CTA.objects.get(pk=ctas[0].pk)
    assert (first.owner, first.due_date, first.playbook, first.source_key) == (csm, one.due_date, playbook, "trigger:9")
    assert [(t.title, t.assignee, t.due_date) for t in first.tasks.order_by("position")] == [
        (t.title, t.assignee, t.due_date) for t in one.tasks.order_by("position")
    ]
    assert CTA.objects.get(pk=ctas[4].pk).owner is None
    if apps.is_installed("timeline"):
        from timeline.models import TimelineEntry

        assert TimelineEntry.objects.filter(kind="cta_opened", account__in=accounts).count() == 5


def test_open_many_refuses_an_inactive_playbook(csm):
    playbook = PlaybookFactory(is_active=False)
    with pytest.raises(ValidationError):
        services.cta_open_many(
            openings=[services.CTAOpening(account=AccountFactory(owner=csm), title="x")], cta_type="risk",
            priority="high", playbook=playbook,
        )  # fmt: skip
    assert not CTA.objects.exists()


def test_open_refuses_bad_input(csm, viewer):
    account = AccountFactory(owner=csm)
    with pytest.raises(ValidationError) as exc:
        services.cta_open(account=account, cta_type="nope", priority="medium", title="x")
    assert "cta_type" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.cta_open(account=account, cta_type="risk", priority="medium", title="x", owner=viewer)
    assert "owner" in exc.value.message_dict
    assert not CTA.objects.exists()


def test_snooze_hides_until_the_date_then_it_returns(own_cta, csm):
    today = timezone.localdate()
    services.cta_snooze(cta=own_cta, until=today + dt.timedelta(days=3), today=today)
    visible = lambda day: selectors.cockpit_queryset(user=csm, scope="mine", today=day).filter(pk=own_cta.pk).exists()  # noqa: E731
    assert not visible(today)
    assert not visible(today + dt.timedelta(days=2))
    assert visible(today + dt.timedelta(days=3))  # back on the day, no job needed
    assert visible(today + dt.timedelta(days=4))


def test_snooze_needs_a_future_date_and_can_be_undone(own_cta):
    today = timezone.localdate()
    with pytest.raises(ValidationError) as exc:
        services.cta_snooze(cta=own_cta, until=today, today=today)
    assert "until" in exc.value.message_dict
    services.cta_snooze(cta=own_cta, until=today + dt.timedelta(days=1))
    services.cta_snooze(cta=own_cta, until=None)
    own_cta.refresh_from_db()
    assert own_cta.status == CTAStatus.OPEN and own_cta.snoozed_until is None


def test_reassign_moves_the_owners_open_tasks(own_cta, csm, other_csm):
    done = CTATaskFactory(cta=own_cta, assignee=csm, completed_at=timezone.now())
    someone = UserFactory()
    theirs = CTATaskFactory(cta=own_cta, assignee=someone)
    services.cta_reassign(cta=own_cta, owner=other_csm, by=csm)
    own_cta.refresh_from_db()
    assert own_cta.owner == other_csm
    assert own_cta.tasks.get(title="Call champion").assignee == other_csm
    done.refresh_from_db()
    theirs.refresh_from_db()
    assert done.assignee == csm and theirs.assignee == someone


def test_reassign_notifies_the_new_owner(own_cta, csm, other_csm, django_capture_on_commit_callbacks, mailoutbox):
    from notifications.models import Notification

    with django_capture_on_commit_callbacks(execute=True):
        services.cta_reassign(cta=own_cta, owner=other_csm, by=csm)
    note = Notification.objects.get(user=other_csm)
    assert own_cta.title in note.title and note.url == f"/ctas/{own_cta.pk}/"
    assert [m.to for m in mailoutbox] == [[other_csm.email]]
    services.cta_reassign(cta=own_cta, owner=csm, by=csm)  # taking it yourself notifies nobody
    assert not Notification.objects.filter(user=csm).exists()


def test_reassign_refuses_a_viewer(own_cta, viewer):
    with pytest.raises(ValidationError) as exc:
        services.cta_reassign(cta=own_cta, owner=viewer)
    assert "owner" in exc.value.message_dict


def test_close_requires_an_outcome(own_cta, csm):
    for outcome in ("", "maybe"):
        with pytest.raises(ValidationError) as exc:
            services.cta_close(cta=own_cta, outcome=outcome, by=csm)
        assert "outcome" in exc.value.message_dict
    own_cta.refresh_from_db()
    assert own_cta.status == CTAStatus.OPEN
    services.cta_close(cta=own_cta, outcome="success", note="Back to green", by=csm)
    own_cta.refresh_from_db()
    assert (own_cta.status, own_cta.outcome, own_cta.closed_by) == ("closed", "success", csm)
    assert own_cta.closed_at is not None
    with pytest.raises(ValidationError):
        services.cta_close(cta=own_cta, outcome="lost", by=csm)


def test_closed_outcome_is_enforced_by_the_database(own_cta):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        CTA.objects.filter(pk=own_cta.pk).update(status="closed")


def test_tick_records_who_and_when_and_untick_clears(own_cta, csm):
    task = own_cta.tasks.get()
    services.cta_task_set_done(task=task, done=True, by=csm)
    task.refresh_from_db()
    assert task.completed_by == csm and task.completed_at is not None
    services.cta_task_set_done(task=task, done=False, by=csm)
    task.refresh_from_db()
    assert task.completed_at is None and task.completed_by is None


def test_comment_needs_a_body(own_cta, csm):
    with pytest.raises(ValidationError) as exc:
        services.cta_comment_add(cta=own_cta, author=csm, body="   ")
    assert "body" in exc.value.message_dict
    assert services.cta_comment_add(cta=own_cta, author=csm, body="Left a voicemail").body == "Left a voicemail"


def test_reason_in_use_cannot_be_deleted(own_cta):
    reason = services.reason_save(data={"name": "Usage drop", "cta_type": "risk"})
    CTA.objects.filter(pk=own_cta.pk).update(reason=reason)
    with pytest.raises(ValidationError):
        services.reason_delete(reason=reason)
    services.reason_delete(reason=services.reason_save(data={"name": "Unused"}))


# --- contract selectors (triggers) -------------------------------------------------------------------------


def test_open_cta_exists(csm):
    account = AccountFactory(owner=csm)
    key = "trigger:7"
    assert not selectors.open_cta_exists(account_id=account.pk, source_key=key)
    cta = services.cta_open(account=account, cta_type="risk", priority="high", title="x", source="trigger",
                            source_key=key)  # fmt: skip
    CTAFactory(account=account, source_key="trigger:8", status="open")
    assert selectors.open_cta_exists(account_id=account.pk, source_key=key)
    services.cta_snooze(cta=cta, until=timezone.localdate() + dt.timedelta(days=5))
    assert selectors.open_cta_exists(account_id=account.pk, source_key=key)  # snoozed still counts
    services.cta_close(cta=cta, outcome="lost")
    assert not selectors.open_cta_exists(account_id=account.pk, source_key=key)


def test_open_or_recent_cta_account_ids_is_set_based(csm, django_assert_num_queries):
    now = timezone.now()
    key = "trigger:1"
    open_acc, snoozed_acc, recent_acc, old_acc, other_key_acc, clean_acc = AccountFactory.create_batch(6, owner=csm)
    CTAFactory(account=open_acc, source_key=key)
    CTAFactory(account=snoozed_acc, source_key=key, status="snoozed", snoozed_until=now.date())
    CTAFactory(account=recent_acc, source_key=key, status="closed", outcome="success",
               closed_at=now - dt.timedelta(days=6, hours=23))  # fmt: skip
    CTAFactory(
        account=old_acc, source_key=key, status="closed", outcome="lost", closed_at=now - dt.timedelta(days=7, hours=1)
    )
    CTAFactory(account=other_key_acc, source_key="trigger:2")
    ids = [a.pk for a in (open_acc, snoozed_acc, recent_acc, old_acc, other_key_acc, clean_acc)]
    with django_assert_num_queries(1):
        blocked = selectors.open_or_recent_cta_account_ids(account_ids=ids, source_key=key, cooldown_days=7, now=now)
    assert blocked == {open_acc.pk, snoozed_acc.pk, recent_acc.pk}
    no_cooldown = selectors.open_or_recent_cta_account_ids(account_ids=ids, source_key=key, cooldown_days=0, now=now)
    assert no_cooldown == {open_acc.pk, snoozed_acc.pk}
    assert selectors.open_or_recent_cta_account_ids(account_ids=[], source_key=key, cooldown_days=7) == set()


# --- cockpit groups ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "group"),
    [
        ("2026-11-10", "overdue"),
        ("2026-11-17", "overdue"),  # yesterday
        ("2026-11-18", "today"),
        ("2026-11-19", "week"),  # tomorrow
        ("2026-11-22", "week"),  # Sunday closes the week
        ("2026-11-23", "later"),  # next Monday
        ("2027-01-01", "later"),
    ],
)
def test_due_groups_with_a_fixed_today(due, group):
    today = dt.date(2026, 11, 18)  # a Wednesday
    assert selectors.due_group(dt.date.fromisoformat(due), today) == group


def test_on_sunday_this_week_is_empty():
    sunday = dt.date(2026, 11, 22)
    assert selectors.due_group(sunday + dt.timedelta(days=1), sunday) == "later"


def test_cockpit_groups_keep_order_and_all_four_groups(csm):
    today = dt.date(2026, 11, 18)
    ctas = [
        CTAFactory(account=AccountFactory(owner=csm), due_date=today + dt.timedelta(days=d)) for d in (-1, 0, 2, 9, -3)
    ]
    groups = selectors.cockpit_groups(ctas, today)
    assert [g["key"] for g in groups] == ["overdue", "today", "week", "later"]
    assert [[c.pk for c in g["ctas"]] for g in groups] == [
        [ctas[0].pk, ctas[4].pk],
        [ctas[1].pk],
        [ctas[2].pk],
        [ctas[3].pk],
    ]


def test_group_counts_match_the_groups(csm):
    today = dt.date(2026, 11, 18)
    for days in (-5, -1, 0, 0, 1, 4, 5, 30):
        CTAFactory(account=AccountFactory(owner=csm), due_date=today + dt.timedelta(days=days))
    qs = selectors.cockpit_queryset(user=csm, scope="mine", today=today)
    groups = {g["key"]: len(g["ctas"]) for g in selectors.cockpit_groups(qs, today)}
    assert selectors.group_counts(qs, today) == groups == {"overdue": 2, "today": 2, "week": 2, "later": 2}
    urgent = selectors.cockpit_queryset(user=csm, scope="mine", today=today, priority="urgent")
    assert selectors.group_counts(urgent, today) == {"overdue": 0, "today": 0, "week": 0, "later": 0}


def test_mine_includes_ctas_where_i_hold_an_open_task_once(csm, other_csm):
    cta = CTAFactory(account=AccountFactory(owner=other_csm))
    CTATaskFactory(cta=cta, assignee=csm)
    CTATaskFactory(cta=cta, assignee=csm)
    mine = list(selectors.cockpit_queryset(user=csm, scope="mine", today=timezone.localdate()))
    assert [c.pk for c in mine] == [cta.pk]


def test_team_counts_per_csm(manager, csm, other_csm):
    today = timezone.localdate()
    account = AccountFactory(owner=csm)
    CTAFactory.create_batch(2, account=account, due_date=today - dt.timedelta(days=1))
    CTAFactory(account=account, due_date=today)
    CTAFactory(account=account, status="snoozed", snoozed_until=today + dt.timedelta(days=2), due_date=today)
    CTAFactory(account=AccountFactory(owner=other_csm), due_date=today - dt.timedelta(days=1))
    rows = selectors.team_counts(user=manager, today=today)
    assert [(r["owner_id"], r["active"], r["overdue"], r["snoozed"]) for r in rows] == [(csm.pk, 3, 2, 1)]


# --- policy ------------------------------------------------------------------------------------------------


def test_who_may_act(users, csm, other_csm, manager, own_cta, foreign_cta):
    member = UserFactory(role=Role.CSM)
    own_cta.account.team_members.create(user=member, role="ae")
    reassigned = CTAFactory(account=foreign_cta.account, owner=csm)  # csm owns the CTA, not the account
    cases = {
        (users["admin"], own_cta): True, (users["admin"], foreign_cta): True,
        (manager, own_cta): True, (manager, foreign_cta): False, (manager, reassigned): True,
        (csm, own_cta): True, (csm, foreign_cta): False, (csm, reassigned): True,
        (member, own_cta): True, (member, foreign_cta): False,
        (other_csm, foreign_cta): True, (other_csm, own_cta): False,
        (users["viewer"], own_cta): False,
    }  # fmt: skip
    ctas = list(selectors.cta_list().filter(pk__in=[own_cta.pk, foreign_cta.pk, reassigned.pk]))
    for (user, cta), expected in cases.items():
        assert policies.can_act_on_cta(user, cta) is expected, (user.email, cta.title)
        batch = policies.cta_action_map(user, ctas)
        assert batch[cta.pk] is expected, (user.email, cta.title, "batch")


def test_assignee_may_tick_but_not_act(foreign_cta, csm, viewer):
    task = CTATaskFactory(cta=foreign_cta, assignee=csm)
    assert policies.can_tick_task(csm, task)
    assert not policies.can_tick_task(csm, foreign_cta.tasks.get(title="Foreign task"))
    assert not policies.can_act_on_cta(csm, foreign_cta)
    assert not policies.can_tick_task(viewer, task)

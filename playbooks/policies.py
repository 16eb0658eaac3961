"""Who may act on a CTA: its owner, the account's editors (``accounts.policies.can_edit_account``), the owner's
manager, and admins. A task's assignee may tick that task. Viewers change nothing; every role reads.

``cta_action_map`` answers the same question for a whole list in at most one extra query, so the cockpit
keeps a fixed query count; a test checks it agrees with ``can_act_on_cta``.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from accounts.models import Account, AccountTeamMember
from accounts.policies import can_edit_account
from csp.models import Role, User
from csp.roles import WRITE_ROLES, managed_user_ids
from playbooks.models import CTA, CTATask


def _owner_manager_id(cta: CTA) -> int | None:
    owner = cta.owner
    return owner.team.manager_id if owner is not None and owner.team is not None else None


def can_act_on_cta(user: User, cta: CTA) -> bool:
    """Comment, snooze, reassign, close, edit and tick any task of this CTA."""
    if user.role not in WRITE_ROLES:
        return False
    if user.role == Role.ADMIN or cta.owner_id == user.id or _owner_manager_id(cta) == user.id:
        return True
    return can_edit_account(user, cta.account)


def cta_action_map(user: User, ctas: Iterable[CTA], *, managed: set[int] | None = None) -> dict[int, bool]:
    """``{cta.id: can_act_on_cta(user, cta)}`` for many CTAs (``owner__team`` and ``account`` selected)."""
    rows = [
        {
            "id": c.pk,
            "owner_id": c.owner_id,
            "owner_manager_id": _owner_manager_id(c),
            "account_id": c.account_id,
            "account_owner_id": c.account.owner_id,
        }
        for c in ctas
    ]
    return cta_action_map_rows(user, rows, managed=managed)


def cta_action_map_rows(
    user: User, rows: Iterable[Mapping[str, Any]], *, managed: set[int] | None = None
) -> dict[int, bool]:
    """``cta_action_map`` over plain rows (``selectors.card_rows``): ``id``, ``owner_id``, ``owner_manager_id``
    (the owner's team's manager), ``account_id`` and ``account_owner_id``. ``managed``: a manager's
    ``managed_user_ids`` when the caller has already read them (saves the query)."""
    rows = list(rows)
    if user.role not in WRITE_ROLES:
        return {r["id"]: False for r in rows}
    if user.role == Role.ADMIN:
        return {r["id"]: True for r in rows}
    on_team: set[int] = set()
    if user.role == Role.MANAGER:
        if managed is None:
            managed = managed_user_ids(user)
    else:
        # One query whenever there is a list, whatever its content, so pages keep a fixed query count.
        if rows:
            account_ids = {r["account_id"] for r in rows}
            on_team = set(
                AccountTeamMember.objects.filter(user=user, account_id__in=account_ids).values_list(
                    "account_id", flat=True
                )
            )
    result = {}
    for row in rows:
        account_owner_id = row["account_owner_id"]
        if row["owner_id"] == user.id or row["owner_manager_id"] == user.id:
            result[row["id"]] = True
        elif user.role == Role.MANAGER:
            result[row["id"]] = account_owner_id is None or account_owner_id in managed
        else:
            result[row["id"]] = account_owner_id == user.id or row["account_id"] in on_team
    return result


def may_tick(user: User, assignee_id: int | None, can_act: bool) -> bool:
    """``can_tick_task`` for a task known by its assignee, ``can_act`` being the user's right on its CTA."""
    if user.role not in WRITE_ROLES:
        return False
    return assignee_id == user.id or can_act


def can_tick_task(user: User, task: CTATask, can_act: bool | None = None) -> bool:
    """Those who may act on the CTA, and the task's own assignee."""
    if user.role not in WRITE_ROLES:
        return False
    if task.assignee_id == user.id:
        return True
    return can_act if can_act is not None else can_act_on_cta(user, task.cta)


def can_open_cta(user: User, account: Account) -> bool:
    """Opening a CTA by hand is for whoever may edit the account."""
    return can_edit_account(user, account)


def can_configure(user: User) -> bool:
    """Playbooks and reasons are admin configuration."""
    return user.role == Role.ADMIN

"""Who may act on a CTA: its owner, the account's editors (``accounts.policies.can_edit_account``), the owner's
manager, and admins. A task's assignee may tick that task. Viewers change nothing; every role reads.

``cta_action_map`` answers the same question for a whole list in at most one extra query, so the cockpit
keeps a fixed query count; a test checks it agrees with ``can_act_on_cta``.
"""

from collections.abc import Iterable

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


def cta_action_map(user: User, ctas: Iterable[CTA]) -> dict[int, bool]:
    """``{cta.id: can_act_on_cta(user, cta)}`` for many CTAs (``owner__team`` and ``account`` selected)."""
    ctas = list(ctas)
    if user.role not in WRITE_ROLES:
        return {c.pk: False for c in ctas}
    if user.role == Role.ADMIN:
        return {c.pk: True for c in ctas}
    managed: set[int] = set()
    on_team: set[int] = set()
    if user.role == Role.MANAGER:
        managed = managed_user_ids(user)
    else:
        # One query whenever there is a list, whatever its content, so pages keep a fixed query count.
        if ctas:
            account_ids = {c.account_id for c in ctas}
            on_team = set(
                AccountTeamMember.objects.filter(user=user, account_id__in=account_ids).values_list(
                    "account_id", flat=True
                )
            )
    result = {}
    for cta in ctas:
        if cta.owner_id == user.id or _owner_manager_id(cta) == user.id:
            result[cta.pk] = True
        elif user.role == Role.MANAGER:
            result[cta.pk] = cta.account.owner_id is None or cta.account.owner_id in managed
        else:
            result[cta.pk] = cta.account.owner_id == user.id or cta.account_id in on_team
    return result


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

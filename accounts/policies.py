"""Object-level permissions for accounts and everything that hangs off them.

Every role reads every account. Changing one is for admins, the owner's manager, its owner and
its account team; viewers change nothing. The UI and the API both ask these functions.
"""

from accounts.models import Account
from csp.models import Role, User
from csp.roles import WRITE_ROLES, managed_user_ids


def can_create_account(user: User) -> bool:
    return user.role in WRITE_ROLES


def can_edit_account(user: User, account: Account) -> bool:
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.MANAGER:
        return account.owner_id is None or account.owner_id in managed_user_ids(user)
    if user.role == Role.CSM:
        if account.owner_id == user.id:
            return True
        return account.team_members.filter(user=user).exists()
    return False


def can_delete_account(user: User, account: Account) -> bool:
    return user.role in (Role.ADMIN, Role.MANAGER) and can_edit_account(user, account)


def can_assign_owner(user: User, owner: User | None) -> bool:
    """Admins assign anyone; managers their own team; a CSM only themselves."""
    if user.role == Role.ADMIN:
        return True
    if owner is None:
        return user.role == Role.MANAGER
    if user.role == Role.MANAGER:
        return owner.id in managed_user_ids(user)
    return user.role == Role.CSM and owner.id == user.id


def can_reassign(user: User) -> bool:
    return user.role in (Role.ADMIN, Role.MANAGER)

import pytest

from tests.factories import AccountFactory, ContactFactory


@pytest.fixture
def own_account(csm):
    """Owned by the ``csm`` fixture (in the ``manager`` fixture's team)."""
    return AccountFactory(owner=csm, name="Own Co")


@pytest.fixture
def foreign_account(other_csm):
    return AccountFactory(owner=other_csm, name="Foreign Co")


@pytest.fixture
def contact(own_account):
    return ContactFactory(account=own_account, name="Dana Champion")

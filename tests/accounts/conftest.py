import pytest

from tests.factories import AccountFactory


@pytest.fixture
def own_account(csm):
    """An account owned by the ``csm`` fixture, whose team the ``manager`` fixture leads."""
    return AccountFactory(owner=csm, name="Own Co")


@pytest.fixture
def foreign_account(other_csm):
    """An account owned by a CSM outside the manager's team."""
    return AccountFactory(owner=other_csm, name="Foreign Co")

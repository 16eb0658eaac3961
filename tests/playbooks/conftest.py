import pytest

from tests.factories import AccountFactory
from tests.playbooks.factories import CTAFactory, CTATaskFactory


@pytest.fixture
def own_account(csm):
    """Owned by the ``csm`` fixture, whose team the ``manager`` fixture leads."""
    return AccountFactory(owner=csm, name="Own Co")


@pytest.fixture
def foreign_account(other_csm):
    """Owned by a CSM outside the manager's team."""
    return AccountFactory(owner=other_csm, name="Foreign Co")


@pytest.fixture
def own_cta(own_account):
    cta = CTAFactory(account=own_account, title="Own CTA")
    CTATaskFactory(cta=cta, title="Call champion")
    return cta


@pytest.fixture
def foreign_cta(foreign_account):
    cta = CTAFactory(account=foreign_account, title="Foreign CTA")
    CTATaskFactory(cta=cta, title="Foreign task")
    return cta

import pytest

from tests.triggers.factories import TriggerFactory
from triggers.models import Trigger
from triggers.services import trigger_run


@pytest.fixture
def make_trigger(db):
    """Create a trigger through full_clean (params validated and normalised like the services do)."""

    def make(condition_type="health_band", params=None, **kwargs):
        trigger = TriggerFactory.build(condition_type=condition_type, params=params or {}, **kwargs)
        if condition_type == "health_band" and not params:
            trigger.params = {"band": "red"}
        trigger.full_clean()
        trigger.save()
        return trigger

    return make


@pytest.fixture
def run():
    """Run a trigger for real and return the set of account ids it fired for."""

    def go(trigger: Trigger, **kwargs) -> set[int]:
        return {e.account_id for e in trigger_run(trigger_id=trigger.pk, **kwargs)}

    return go

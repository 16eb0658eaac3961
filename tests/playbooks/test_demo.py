"""The demo seed: deterministic, idempotent, and a cockpit with something in every group for the demo CSM."""

import pytest
from django.utils import timezone

from csp.models import User
from demo.accounts import demo_seed
from demo.playbooks import playbooks_demo_seed
from playbooks import selectors
from playbooks.models import CTA, CTAReason, Playbook

pytestmark = pytest.mark.django_db


def test_demo_seed_is_idempotent_and_fills_every_group():
    demo_seed()
    assert playbooks_demo_seed()["ctas_created"] == 30
    first = sorted(CTA.objects.values_list("account__external_id", "title", "due_date", "priority"))
    assert playbooks_demo_seed()["ctas_created"] == 0
    assert sorted(CTA.objects.values_list("account__external_id", "title", "due_date", "priority")) == first
    assert Playbook.objects.count() == 4 and CTAReason.objects.count() == 11
    csm = User.objects.get(email="csm@demo.csp")
    today = timezone.localdate()
    ctas = selectors.cockpit_queryset(user=csm, scope="mine", today=today)
    groups = selectors.cockpit_groups(ctas, today)
    assert all(g["ctas"] for g in groups if g["key"] != "week" or today.weekday() < 6)

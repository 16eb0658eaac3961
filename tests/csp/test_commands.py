"""Management commands: create_api_token and seed_demo."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Account, Contact, Contract
from csp.models import Role, User
from health.models import AccountHealth
from playbooks.models import CTA
from timeline.models import Activity

pytestmark = pytest.mark.django_db


def test_create_api_token_prints_a_working_key(csm):
    from rest_framework.test import APIClient

    from csp.models import ApiToken

    out = StringIO()
    call_command("create_api_token", "CSM@example.com", stdout=out)
    key = out.getvalue().strip()
    token = ApiToken.objects.get(user=csm)
    assert key.startswith(token.prefix) and key not in (token.digest, token.prefix)  # only a hash is stored
    assert token.expires_at is not None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/accounts/").status_code == 200
    call_command("create_api_token", "csm@example.com", "--days", "0", stdout=StringIO())
    assert client.get("/api/v1/accounts/").status_code == 401  # replaced
    assert ApiToken.objects.get(user=csm).expires_at is None


def test_create_api_token_unknown_email():
    with pytest.raises(CommandError, match="No user"):
        call_command("create_api_token", "ghost@example.com")


def test_seed_demo_is_idempotent_and_believable():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "csm@demo.csp" in out.getvalue()

    def snapshot():
        return (Account.objects.count(), Contact.objects.count(), Contract.objects.count(), User.objects.count(),
                CTA.objects.count(), Activity.objects.count())  # fmt: skip

    counts = snapshot()
    call_command("seed_demo", stdout=StringIO())
    assert counts == snapshot()

    # ~300 customers plus the 48 former customers of the revenue history (demo/revenue.py).
    assert 280 + 48 <= counts[0] <= 320 + 48
    assert Account.objects.filter(churned_on__isnull=False).count() >= 30
    assert {u.role for u in User.objects.all()} == set(Role.values)
    assert set(Account.objects.values_list("tier", flat=True)) == {"smb", "mid_market", "enterprise"}
    assert Account.objects.filter(parent__isnull=False).count() >= 10
    csm = User.objects.get(email="csm@demo.csp")
    assert csm.team and csm.team.manager.email == "manager@demo.csp"
    assert Account.objects.filter(owner=csm).count() >= 20
    renewals = Account.objects.exclude(next_renewal_date=None).values_list("next_renewal_date", flat=True)
    span = (max(renewals) - min(renewals)).days
    assert span > 365  # spread over the next 18 months
    assert all(a.arr > 0 for a in Account.objects.filter(churned_on__isnull=True)[:50])  # former customers: 0

    # The rest of the demo: CTAs with playbook tasks, a history of activities, a health score per account.
    assert CTA.objects.filter(owner=csm).exists()
    assert Activity.objects.count() > 300
    touched = Account.objects.exclude(last_touchpoint_at=None).count()
    assert 0 < touched < counts[0]  # some accounts have gone dark
    assert AccountHealth.objects.count() == counts[0]

"""The ticket panel of the account 360 Usage tab (support/views.py): roles, 404, fixed query count."""

import pytest
from django.urls import reverse

from tests.factories import AccountFactory
from tests.support.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("rows", [1, 20])
@pytest.mark.parametrize("role", ["viewer", "csm", "manager", "admin"])
def test_ticket_panel_for_every_role_with_fixed_queries(client_as, django_assert_num_queries, rows, role):
    account = AccountFactory()
    TicketFactory.create_batch(rows, account=account, is_escalated=False)
    TicketFactory(account=AccountFactory(), subject="Someone else's")
    client = client_as(role)
    # 1 session, 2 user, 3 account exists, 4 recent tickets, 5 ticket metrics (one aggregate)
    with django_assert_num_queries(5):
        response = client.get(reverse("support:account_tickets", args=[account.pk]))
    assert response.status_code == 200
    assert len(response.context["tickets"]) == rows
    assert response.context["ticket_metrics"]["received"] == rows
    assert b'data-testid="tickets"' in response.content and b"Someone else" not in response.content


def test_ticket_panel_needs_login_and_an_account(client, client_as):
    account = AccountFactory()
    assert client.get(reverse("support:account_tickets", args=[account.pk])).status_code == 302
    assert client_as("viewer").get(reverse("support:account_tickets", args=[999999])).status_code == 404

import datetime as dt

import factory
from django.utils import timezone

from support.models import Ticket
from tests.factories import AccountFactory


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    account = factory.SubFactory(AccountFactory)
    external_id = factory.Sequence(lambda n: f"T-{n}")
    subject = "Cannot export"
    opened_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=2))

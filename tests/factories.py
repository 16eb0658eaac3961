"""factory_boy factories shared by every test module."""

import datetime as dt
from decimal import Decimal

import factory

from accounts.models import Account, Contact, ContactRole, Contract, ContractStatus, Tier
from csp.models import Role, Team, User

PASSWORD = "test-pass-123"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    role = Role.CSM
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Account {n:04d}")
    domain = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "") + ".example")
    external_id = factory.Sequence(lambda n: f"EXT-{n:05d}")
    tier = Tier.SMB
    owner = factory.SubFactory(UserFactory)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@customer.example")
    role = ContactRole.CHAMPION


class ContractFactory(factory.django.DjangoModelFactory):
    """Saves through the model; call ``account_refresh_financials`` when a test needs the account's ARR."""

    class Meta:
        model = Contract

    account = factory.SubFactory(AccountFactory)
    start_date = factory.LazyFunction(lambda: dt.date.today() - dt.timedelta(days=100))
    end_date = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=265))
    recurring_amount = Decimal("12000")
    arr = factory.LazyAttribute(lambda o: o.recurring_amount * (12 if o.billing_period == "month" else 1))
    billing_period = "year"
    seats = 10
    status = ContractStatus.ACTIVE

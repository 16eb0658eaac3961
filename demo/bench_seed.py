"""The realistic book that ``bench_api`` measures (in its scratch database only): teams of CSMs under managers,
accounts with contacts, current and past contracts, parents and health scores, plus one user per benchmark client
with an API token and a logged-in session. Bulk inserts; ARR and next renewal come from the real set-based
``accounts.services.account_refresh_financials``."""

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import (
    Account,
    AccountTeamMember,
    BillingPeriod,
    Contact,
    ContactRole,
    Contract,
    ContractStatus,
    EngagementModel,
    LifecycleStage,
    Tier,
)
from accounts.services import account_refresh_financials
from csp.models import Role, Team, User
from csp.services import api_token_rotate
from health.models import AccountHealth, Band, HealthOverride, Scorecard, Trend

ACCOUNTS_PER_CSM = 250
CSMS_PER_TEAM = 8
ADMIN_PAGES = 10  # the admin targets cycle through the first pages of every account
INDUSTRIES = ["Software", "Retail", "Healthcare", "Finance", "Manufacturing", "Logistics", "Education", "Media"]
REGIONS = ["EMEA", "NA", "LATAM", "APAC"]
PROXY = {"X-Forwarded-Proto": "https"}  # the TLS proxy's header (the server runs with BEHIND_TLS_PROXY)


@dataclass
class BenchWorld:
    """What the benchmark sends: per target, one credential per client and the pages to cycle through."""

    summary: str
    admin_tokens: list[str] = field(default_factory=list)
    csm_tokens: list[str] = field(default_factory=list)
    csm_pages: int = 1  # pages of 50 in a CSM's own book
    admin_sessions: list[str] = field(default_factory=list)
    csm_sessions: list[str] = field(default_factory=list)
    admin_pages: int = 1

    def requests(self, target: str):
        """(method, path, body) requests to cycle and a ``headers(client number)`` function for a target."""
        csm_pages = self.csm_pages
        if target == "api-admin":
            paths = [f"/api/v1/accounts/?page_size=50&page={p}" for p in range(1, self.admin_pages + 1)]
            creds = [{"Authorization": f"Token {key}"} for key in self.admin_tokens]
        elif target == "api-csm":
            paths = [f"/api/v1/accounts/?scope=mine&page_size=50&page={p}" for p in range(1, csm_pages + 1)]
            creds = [{"Authorization": f"Token {key}"} for key in self.csm_tokens]
        elif target == "page-csm":
            paths = [f"/accounts/?page={p}" for p in range(1, csm_pages + 1)]
            creds = [{"Cookie": f"{settings.SESSION_COOKIE_NAME}={key}"} for key in self.csm_sessions]
        else:
            paths = [f"/accounts/?page={p}" for p in range(1, self.admin_pages + 1)]
            creds = [{"Cookie": f"{settings.SESSION_COOKIE_NAME}={key}"} for key in self.admin_sessions]
        return [("GET", path, None) for path in paths], lambda number: {**PROXY, **creds[number % len(creds)]}


def _session(user: User) -> str:
    """A logged-in session as ``django.contrib.auth.login`` stores it; returns its key (the cookie value)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


@transaction.atomic
def _seed_book(*, accounts: int, rng: random.Random) -> tuple[list[User], int]:
    today, now = timezone.localdate(), timezone.now()
    unusable = make_password(None)
    csm_count = max(2, accounts // ACCOUNTS_PER_CSM)
    teams = Team.objects.bulk_create(
        [Team(name=f"Bench team {t}") for t in range((csm_count + CSMS_PER_TEAM - 1) // CSMS_PER_TEAM)]
    )
    managers = User.objects.bulk_create(
        [
            User(
                email=f"bench.manager{t}@example.com",
                full_name=f"Manager {t}",
                role=Role.MANAGER,
                team=team,
                password=unusable,
            )
            for t, team in enumerate(teams)
        ]
    )
    for team, manager in zip(teams, managers, strict=True):
        team.manager = manager
    Team.objects.bulk_update(teams, ["manager"])
    csms = User.objects.bulk_create(
        [
            User(
                email=f"bench.csm{i}@example.com",
                full_name=f"CSM {i:03d}",
                role=Role.CSM,
                team=teams[i // CSMS_PER_TEAM],
                password=unusable,
            )
            for i in range(csm_count)
        ]
    )
    rows = []
    for i in range(accounts):
        owner = csms[i % csm_count] if rng.random() > 0.03 else None  # a few unassigned
        rows.append(
            Account(
                name=f"{rng.choice(['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark'])} {i:06d}",
                domain=f"customer{i}.example.com",
                external_id=f"CRM-{i:07d}",
                tier=rng.choices(Tier.values, weights=[6, 3, 1])[0],
                industry=rng.choice(INDUSTRIES),
                employee_count=rng.randint(10, 20_000),
                region=rng.choice(REGIONS),
                lifecycle_stage=rng.choices(LifecycleStage.values, weights=[2, 4, 3, 2, 1])[0],
                engagement_model=rng.choice(EngagementModel.values),
                owner=owner,
                custom_fields={"crm_segment": rng.choice(["A", "B", "C"])},
            )
        )
    created = Account.objects.bulk_create(rows, batch_size=5000)
    parents = created[: max(1, accounts // 50)]
    children = [a for a in created[len(parents) :] if rng.random() < 0.05]
    for child in children:
        child.parent = rng.choice(parents)
    Account.objects.bulk_update(children, ["parent"], batch_size=5000)
    contacts, contracts, health, team_members = [], [], [], []
    for account in created:
        for k in range(3):
            contacts.append(
                Contact(
                    account=account,
                    name=f"Contact {account.pk}-{k}",
                    email=f"c{k}@{account.domain}",
                    title=rng.choice(["CTO", "VP Ops", "Admin", "Analyst"]),
                    role=rng.choice(ContactRole.values),
                    is_primary=k == 0,
                )
            )
        start = today - dt.timedelta(days=rng.randint(0, 330))
        amount = Decimal(rng.randrange(5_000, 200_000, 500))
        monthly = rng.random() < 0.1
        period = BillingPeriod.MONTH if monthly else BillingPeriod.YEAR
        recurring = (amount / 12).quantize(Decimal("0.01")) if monthly else amount
        contracts.append(
            Contract(
                account=account,
                name="Subscription",
                start_date=start,
                end_date=start + dt.timedelta(days=364),
                recurring_amount=recurring,
                billing_period=period,
                seats=rng.randint(5, 500),
                auto_renew=rng.random() < 0.5,
                arr=recurring * 12 if monthly else recurring,
            )
        )
        if rng.random() < 0.4:  # last year's term, ended
            contracts.append(
                Contract(
                    account=account,
                    name="Subscription (previous term)",
                    start_date=start - dt.timedelta(365),
                    end_date=start - dt.timedelta(1),
                    recurring_amount=amount,
                    status=ContractStatus.EXPIRED,
                    arr=amount,
                )
            )
        score = rng.uniform(5, 98)
        band = Band.RED if score < 40 else Band.YELLOW if score < 70 else Band.GREEN
        health.append(
            AccountHealth(
                account=account,
                score=round(score, 1),
                band=band,
                previous_score=round(score - 3, 1),
                previous_band=band,
                trend=rng.choice(Trend.values),
                computed_at=now,
                changed_at=now,
            )
        )
        if account.owner_id and rng.random() < 0.1:
            team_members.append(AccountTeamMember(account=account, user=rng.choice(csms), role="ae"))
    Contact.objects.bulk_create(contacts, batch_size=5000)
    Contract.objects.bulk_create(contracts, batch_size=5000)
    # The migrations' default scorecard (a cloned template may have lost it to a test's flush).
    card = Scorecard.objects.filter(is_default=True).first() or Scorecard.objects.create(
        name="Default", is_default=True
    )
    for row in health:
        row.scorecard = card
    AccountHealth.objects.bulk_create(health, batch_size=5000)
    AccountTeamMember.objects.bulk_create(team_members, batch_size=5000)
    overridden = rng.sample(health, k=max(1, len(health) // 100))
    overrides = HealthOverride.objects.bulk_create(
        [
            HealthOverride(
                account_id=row.account_id,
                band=Band.RED,
                reason="Bench: champion left",
                expires_on=today + dt.timedelta(days=30),
            )
            for row in overridden
        ]
    )
    for row, override in zip(overridden, overrides, strict=True):
        row.override = override
    AccountHealth.objects.bulk_update(overridden, ["override"])
    account_refresh_financials()
    return csms, len(contacts) + len(contracts)


def bench_seed(*, accounts: int, clients: int, seed: int = 15) -> BenchWorld:
    """Seed the scratch database and make ``clients`` admins and CSMs, each with an API token and a session."""
    rng = random.Random(seed)
    csms, children = _seed_book(accounts=accounts, rng=rng)
    unusable = make_password(None)
    admins = User.objects.bulk_create(
        [
            User(email=f"bench.admin{i}@example.com", full_name=f"Admin {i}", role=Role.ADMIN, password=unusable)
            for i in range(2 * clients)
        ]
    )
    # API clients and page clients are different users, so one run's throttle counts never reach the other's.
    api_csms, page_csms = csms[:clients], csms[clients : 2 * clients] or csms[:clients]
    world = BenchWorld(summary="")
    world.admin_tokens = [api_token_rotate(user=u, name="bench").key for u in admins[:clients]]
    world.csm_tokens = [api_token_rotate(user=u, name="bench").key for u in api_csms]
    world.admin_sessions = [_session(u) for u in admins[clients:]]
    world.csm_sessions = [_session(u) for u in page_csms]
    world.csm_pages = max(1, (Account.objects.filter(owner=api_csms[0]).count() + 49) // 50)
    world.admin_pages = min(ADMIN_PAGES, max(1, (accounts + 49) // 50))
    with connection.cursor() as cursor:  # fresh rows: statistics and visibility map, as autovacuum would leave them
        cursor.execute("VACUUM ANALYZE")
    world.summary = (
        f"{accounts} accounts ({len(csms)} CSMs with ~{accounts // len(csms)} each, in teams of {CSMS_PER_TEAM}), "
        f"{children} contacts and contracts, health scores; {clients} admins and {len(api_csms)} CSMs with API tokens"
    )
    return world

"""Deterministic demo data: a believable CS organisation with ~300 accounts. Used by ``seed_demo``."""

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import (
    Account,
    AccountStatus,
    AccountTeamMember,
    AccountTeamRole,
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

DEMO_PASSWORD = "demo-pass-2026"
DEMO_USERS = [
    # email, name, role, team
    ("admin@demo.csp", "Ada Admin", Role.ADMIN, None),
    ("manager@demo.csp", "Morgan Reyes", Role.MANAGER, "Enterprise"),
    ("csm@demo.csp", "Casey Morgan", Role.CSM, "Enterprise"),
    ("viewer@demo.csp", "Val Viewer", Role.VIEWER, None),
    ("priya@demo.csp", "Priya Shah", Role.CSM, "Enterprise"),
    ("lee@demo.csp", "Lee Chen", Role.CSM, "Enterprise"),
    ("scale.manager@demo.csp", "Sam Okafor", Role.MANAGER, "Scale"),
    ("noah@demo.csp", "Noah Williams", Role.CSM, "Scale"),
    ("emma@demo.csp", "Emma Garcia", Role.CSM, "Scale"),
    ("mm.manager@demo.csp", "Jordan Blake", Role.MANAGER, "Mid-Market"),
    ("liam@demo.csp", "Liam Novak", Role.CSM, "Mid-Market"),
    ("sofia@demo.csp", "Sofia Rossi", Role.CSM, "Mid-Market"),
    ("ae@demo.csp", "Alex Turner", Role.VIEWER, None),
]
TEAM_FOR_TIER = {Tier.ENTERPRISE: "Enterprise", Tier.MID_MARKET: "Mid-Market", Tier.SMB: "Scale"}
PREFIXES = [
    "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Wonka", "Tyrell", "Cyberdyne",
    "Soylent", "Aperture", "Massive", "Oscorp", "Gringotts", "Nakatomi", "Virtucon", "Dunder", "Pied Piper",
    "Blue Sun", "Monarch", "Sterling", "Bluth", "Prestige", "Duff", "Ollivander", "Kramerica", "Zorg", "Vehement",
    "Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Adatum", "Proseware", "Woodgrove", "Lucerne", "Alpine",
]  # fmt: skip
SUFFIXES = ["Labs", "Systems", "Health", "Logistics", "Capital", "Retail", "Energy", "Media"]
INDUSTRIES = ["Software", "Fintech", "Healthcare", "Retail", "Manufacturing", "Logistics", "Education", "Media"]
REGIONS = ["North America", "EMEA", "APAC", "LATAM"]
FIRST = ["Ana", "Ben", "Chloe", "Dev", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jade", "Kofi", "Lena", "Max", "Nia"]
LAST = ["Park", "Silva", "Meyer", "Khan", "Dubois", "Ito", "Lopez", "Smith", "Berg", "Costa", "Nowak", "Ali"]
NAMES = [(f, last) for f in FIRST for last in LAST]
TITLES = {
    ContactRole.DECISION_MAKER: "VP Operations",
    ContactRole.CHAMPION: "Head of Customer Experience",
    ContactRole.POINT_OF_CONTACT: "Operations Manager",
    ContactRole.GATEKEEPER: "Procurement Lead",
    ContactRole.END_USER: "Analyst",
}
ARR_RANGE = {Tier.SMB: (6_000, 30_000), Tier.MID_MARKET: (30_000, 150_000), Tier.ENTERPRISE: (150_000, 900_000)}
ENGAGEMENT = {Tier.SMB: EngagementModel.TECH_TOUCH, Tier.MID_MARKET: EngagementModel.LOW_TOUCH,
              Tier.ENTERPRISE: EngagementModel.HIGH_TOUCH}  # fmt: skip


def _users() -> dict[str, User]:
    users = {}
    for email, name, role, _team in DEMO_USERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=DEMO_PASSWORD, full_name=name, role=role)
        users[email] = user
    for team_name in {t for *_, t in DEMO_USERS if t}:
        manager = next(users[e] for e, _, r, t in DEMO_USERS if t == team_name and r == Role.MANAGER)
        team, _ = Team.objects.get_or_create(name=team_name, defaults={"manager": manager})
        User.objects.filter(email__in=[e for e, *_, t in DEMO_USERS if t == team_name], team=None).update(team=team)
    return users


def _plan(rng: random.Random) -> list[dict]:
    """The list of demo accounts to exist, always the same for the same seed."""
    plan, n = [], 0
    for prefix in PREFIXES:
        for suffix in rng.sample(SUFFIXES, 7):
            n += 1
            tier = rng.choices([Tier.SMB, Tier.MID_MARKET, Tier.ENTERPRISE], weights=[55, 30, 15])[0]
            parent_ext = f"DEMO-{n:04d}"
            plan.append({"n": n, "name": f"{prefix} {suffix}", "tier": tier, "parent": None})
            if tier == Tier.ENTERPRISE and rng.random() < 0.35:
                # Regional subsidiaries make an account hierarchy under the enterprise parent.
                for region in rng.sample(REGIONS, rng.randint(1, 3)):
                    n += 1
                    plan.append({"n": n, "name": f"{prefix} {suffix} {region}", "tier": Tier.MID_MARKET,
                                 "parent": parent_ext})  # fmt: skip
            if n >= 300:
                return plan
    return plan


@transaction.atomic
def demo_seed(*, seed: int = 42) -> dict[str, int]:
    """Create the demo organisation if missing; re-running adds nothing that already exists."""
    rng = random.Random(seed)
    today = timezone.localdate()
    users = _users()
    by_team: dict[str, list[User]] = {}
    for email, _, role, team in DEMO_USERS:
        if role == Role.CSM:
            by_team.setdefault(team, []).append(users[email])
    specialists = [users["ae@demo.csp"], users["priya@demo.csp"], users["lee@demo.csp"]]

    existing = set(Account.objects.filter(external_id__startswith="DEMO-").values_list("external_id", flat=True))
    created = 0
    parents: dict[str, Account] = {}
    for row in _plan(rng):
        ext = f"DEMO-{row['n']:04d}"
        tier = row["tier"]
        owners = by_team[TEAM_FOR_TIER[tier]]
        # Draw every random value even for rows that exist, so later rows stay the same on a re-run.
        owner = users["csm@demo.csp"] if rng.random() < 0.3 and tier != Tier.SMB else rng.choice(owners)
        stage = rng.choices(list(LifecycleStage), weights=[12, 40, 25, 18, 5])[0]
        industry, region = rng.choice(INDUSTRIES), rng.choice(REGIONS)
        arr = Decimal(rng.randrange(*ARR_RANGE[tier], 500))
        renewal = today + dt.timedelta(days=rng.randint(3, 540))
        years = rng.choice([1, 1, 1, 2, 3])
        monthly = tier == Tier.SMB and rng.random() < 0.5
        # Seats a team of this size buys (5-40), so license utilization can be healthy with the users the
        # usage simulation plays; one ARR-per-seat draw as before keeps later draws unchanged.
        seats = max(5, min(40, int(arr / rng.choice([4000, 6000, 9000]))))
        contacts = rng.randint(2, 5)
        employees = rng.randint(20, 200) * (10 if tier == Tier.ENTERPRISE else 1)
        with_team = tier != Tier.SMB and rng.random() < 0.5
        if ext in existing:
            continue
        churned = stage == LifecycleStage.CHURNED
        if churned:
            # A churned customer's last term ended (1-8 months ago): no future renewal, no ARR, usage gone dormant.
            renewal = today - dt.timedelta(days=30 + row["n"] * 7 % 210)
        parent = None
        if row["parent"]:
            parent = parents.get(row["parent"]) or Account.objects.filter(external_id=row["parent"]).first()
        account = Account.objects.create(
            name=row["name"], domain=row["name"].lower().replace(" ", "") + ".example", external_id=ext,
            parent=parent, tier=tier, industry=industry, employee_count=employees, region=region,
            lifecycle_stage=stage, engagement_model=ENGAGEMENT[tier], owner=owner,
            status=AccountStatus.INACTIVE if churned else AccountStatus.ACTIVE,
            custom_fields={"plan": rng.choice(["Starter", "Pro", "Enterprise"]), "crm_segment": tier.label},
        )  # fmt: skip
        parents[ext] = account
        created += 1
        if with_team:
            colleague = rng.choice([s for s in specialists if s != owner])
            AccountTeamMember.objects.create(account=account, user=colleague, role=AccountTeamRole.AE)
        roles = [ContactRole.DECISION_MAKER, ContactRole.CHAMPION, ContactRole.POINT_OF_CONTACT,
                 ContactRole.GATEKEEPER, ContactRole.END_USER]  # fmt: skip
        domain = account.domain
        Contact.objects.bulk_create(
            [
                Contact(
                    account=account,
                    name=f"{first} {last}",
                    email=f"{first}.{last}@{domain}".lower(),
                    title=TITLES[roles[i]],
                    role=roles[i],
                    is_primary=i == 2,
                    external_id=f"{ext}-U{i + 1}",
                )
                for i, (first, last) in enumerate(rng.sample(NAMES, contacts))
            ]
        )
        start = renewal - dt.timedelta(days=365 * years)
        Contract.objects.create(
            account=account, name=f"{row['name']} subscription", external_id=f"{ext}-C1",
            start_date=start, end_date=renewal, billing_period=BillingPeriod.MONTH if monthly else BillingPeriod.YEAR,
            recurring_amount=(arr / 12).quantize(Decimal("1")) if monthly else arr, arr=arr if not monthly
            else (arr / 12).quantize(Decimal("1")) * 12, one_time_fees=Decimal(rng.choice([0, 0, 2500, 10000])),
            seats=seats, auto_renew=tier == Tier.SMB and not churned,
            status=ContractStatus.EXPIRED if churned else ContractStatus.ACTIVE,
        )  # fmt: skip
        # An expired predecessor gives the account history: a renewal already happened once.
        if years == 1 and rng.random() < 0.5:
            Contract.objects.create(
                account=account, name=f"{row['name']} subscription (previous term)", external_id=f"{ext}-C0",
                start_date=start - dt.timedelta(days=365), end_date=start - dt.timedelta(days=1),
                recurring_amount=arr * Decimal("0.9"), arr=arr * Decimal("0.9"), seats=seats,
                status=ContractStatus.EXPIRED,
            )  # fmt: skip
    account_refresh_financials()
    return {"accounts_created": created, "accounts": Account.objects.count(), "users": User.objects.count()}

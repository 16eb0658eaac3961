"""``manage.py seed_demo``: load the demo organisation (idempotent) and print the demo logins.

Accounts, contacts and contracts first; then playbooks and open CTAs, a history of logged activities, and a
first health score for every account. Product usage is not faked here: ``run_demo`` streams it through the
real HTTP API (``simulate_usage``), as a customer's SDKs would.
"""

from django.core.management.base import BaseCommand

from demo.accounts import DEMO_PASSWORD, DEMO_USERS, demo_seed
from demo.playbooks import playbooks_demo_seed
from demo.renewals import renewals_demo_seed
from demo.revenue import revenue_demo_seed
from demo.timeline import timeline_demo_seed
from health.services import health_recompute


class Command(BaseCommand):
    help = "Create demo teams, users, ~300 accounts, CTAs, activities and health scores. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=42, help="Random seed for the generated data.")

    def handle(self, *args, seed: int, **options):
        result = demo_seed(seed=seed)
        revenue = revenue_demo_seed()
        playbooks_demo_seed()
        activities = timeline_demo_seed()
        health_recompute()
        pipeline = renewals_demo_seed()
        self.stdout.write(
            f"Demo data ready: {result['accounts_created']} accounts created, "
            f"{result['accounts']} accounts and {result['users']} users in total; {activities} activities logged; "
            f"revenue history: {revenue['contracts']} past contracts, {revenue['former_customers']} former customers; "
            f"{pipeline['renewals']} renewals opened, {pipeline['expansions']} expansion opportunities."
        )
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for email, name, role, team in DEMO_USERS[:4]:
            self.stdout.write(f"  {role.label:<8} {email:<22} {name}{f' ({team} team)' if team else ''}")

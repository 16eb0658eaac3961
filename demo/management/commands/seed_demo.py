"""``manage.py seed_demo``: load the demo organisation (idempotent) and print the demo logins.

Accounts, contacts and contracts first; then playbooks and open CTAs, a history of logged activities, support
tickets, success plans from templates, and a first health score for every account. Product usage is not faked
here: ``run_demo`` loads it through the real ingest service (``demo.usage``), recomputes the health history, then
sets up segments and active triggers and lets them run (``demo.automation.demo_after_usage``): triggers active
before the usage arrived would fire on the set-up's first, usage-less scores.
"""

from django.core.management.base import BaseCommand

from demo.accounts import DEMO_PASSWORD, DEMO_USERS, demo_seed
from demo.automation import success_demo_seed, support_demo_seed
from demo.playbooks import playbooks_demo_seed
from demo.renewals import renewals_demo_seed
from demo.revenue import revenue_demo_seed
from demo.surveys import surveys_demo_seed, surveys_demo_trigger
from demo.timeline import timeline_demo_seed
from health.services import health_recompute


class Command(BaseCommand):
    help = "Create demo teams, users, ~300 accounts, CTAs, activities and health scores. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=42, help="Random seed for the generated data.")
        parser.add_argument("--no-logins", dest="logins", action="store_false", help="Do not print the logins.")

    def handle(self, *args, seed: int, logins: bool = True, **options):
        result = demo_seed(seed=seed)
        revenue = revenue_demo_seed()
        playbooks_demo_seed()
        activities = timeline_demo_seed()
        tickets = support_demo_seed()
        plans = success_demo_seed()
        answers = surveys_demo_seed()
        surveys_demo_trigger()  # fires on survey answers only, so it may be active before usage arrives
        health_recompute()
        pipeline = renewals_demo_seed()
        self.stdout.write(
            f"Demo data ready: {result['accounts_created']} accounts created, "
            f"{result['accounts']} accounts and {result['users']} users in total; {activities} activities, "
            f"{tickets} tickets, {plans} success plans and {answers} survey answers added; "
            f"revenue history: {revenue['contracts']} past contracts, {revenue['former_customers']} former customers; "
            f"{pipeline['renewals']} renewals opened, {pipeline['expansions']} expansion opportunities."
        )
        if not logins:
            return
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for email, name, role, team in DEMO_USERS[:4]:
            self.stdout.write(f"  {role.label:<8} {email:<22} {name}{f' ({team} team)' if team else ''}")

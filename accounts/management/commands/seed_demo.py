"""``manage.py seed_demo``: load the demo organisation (idempotent) and print the demo logins."""

from django.core.management.base import BaseCommand

from accounts.demo import DEMO_PASSWORD, DEMO_USERS, demo_seed


class Command(BaseCommand):
    help = "Create demo teams, users and ~300 accounts with contacts and contracts. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=42, help="Random seed for the generated data.")

    def handle(self, *args, seed: int, **options):
        result = demo_seed(seed=seed)
        self.stdout.write(
            f"Demo data ready: {result['accounts_created']} accounts created, "
            f"{result['accounts']} accounts and {result['users']} users in total."
        )
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for email, name, role, team in DEMO_USERS[:4]:
            self.stdout.write(f"  {role.label:<8} {email:<22} {name}{f' ({team} team)' if team else ''}")

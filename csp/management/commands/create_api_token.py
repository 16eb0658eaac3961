"""``manage.py create_api_token EMAIL``: create (or replace) a user's API token and print it."""

from django.core.management.base import BaseCommand, CommandError

from csp.models import User
from csp.services import api_token_rotate


class Command(BaseCommand):
    help = "Create a new API token for the user with this email (the previous token stops working) and print it."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email: str, **options):
        try:
            user = User.objects.get(email__iexact=email)
        except User.DoesNotExist as exc:
            raise CommandError(f"No user with email {email}") from exc
        token = api_token_rotate(user=user)
        self.stdout.write(token.key)

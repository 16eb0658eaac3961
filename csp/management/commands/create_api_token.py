"""``manage.py create_api_token EMAIL``: create (or replace) a user's API token and print it (once: only its hash
is stored). An admin issues integration keys this way, for a dedicated integration user."""

from django.core.management.base import BaseCommand, CommandError

from csp.models import User
from csp.services import api_token_rotate


class Command(BaseCommand):
    help = "Create a new API token for the user with this email (the previous token stops working) and print it."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument(
            "--days", type=int, default=None, help="Expiry in days (default API_TOKEN_TTL_DAYS; 0 = never)."
        )

    def handle(self, *args, email: str, days: int | None = None, **options):
        try:
            user = User.objects.get(email__iexact=email)
        except User.DoesNotExist as exc:
            raise CommandError(f"No user with email {email}") from exc
        token = api_token_rotate(user=user, days=days, name="create_api_token")
        self.stdout.write(token.key)

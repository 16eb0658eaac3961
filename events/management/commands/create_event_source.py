from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from events import services


class Command(BaseCommand):
    help = "Create an event source and print its write key (shown once; csp stores only its hash)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument(
            "--kind", choices=["server", "browser"], default="server", help="browser: a public key (limited)."
        )
        parser.add_argument(
            "--auto-create-accounts", action="store_true", help="Create accounts for unknown group ids."
        )

    def handle(self, *args, name, kind, auto_create_accounts, **options):
        try:
            source, key = services.source_create(name=name, kind=kind, auto_create_accounts=auto_create_accounts)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stderr.write(f"Created event source {source.name!r} (id {source.pk}). Its write key:")
        self.stdout.write(key)

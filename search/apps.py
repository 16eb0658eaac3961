from django.apps import AppConfig


class SearchConfig(AppConfig):
    """Global search over accounts, contacts, CTAs, success plans and timeline notes (sits above the apps it reads)."""

    name = "search"

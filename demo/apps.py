from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data and the commands that assemble the whole product (``seed_demo``, ``run_demo``).

    Sits above every layer: it may import any app, and no app imports it."""

    name = "demo"

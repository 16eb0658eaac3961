from django.apps import AppConfig


class HomeConfig(AppConfig):
    """The CSM's and manager's landing page, "My day". Sits above every business app (it reads them all)."""

    name = "home"

from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "segments"
    verbose_name = "Segments"

    def ready(self) -> None:
        # accounts sits below segments: the account list gets its segment filter from here.
        from accounts.filters import account_filter_extend
        from segments.filters import segment_account_filter

        account_filter_extend("segment", segment_account_filter())

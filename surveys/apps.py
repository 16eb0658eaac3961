from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Surveys"

    def ready(self) -> None:
        # segments sits below surveys: surveys adds its rule field to the segment whitelist (and the
        # annotation it reads), rather than segments importing surveys.
        from segments.computed import ANNOTATORS
        from segments.rules import FIELDS, FieldSpec
        from surveys.models import NpsCategory
        from surveys.selectors import last_nps_category_subquery

        def annotate_last_nps_category(qs, *, today):
            return qs.annotate(seg_last_nps_category=last_nps_category_subquery())

        ANNOTATORS["last_nps_category"] = annotate_last_nps_category
        FIELDS["last_nps_category"] = FieldSpec(
            "last_nps_category",
            "Last NPS category",
            "choice",
            "seg_last_nps_category",
            help="Category of the account's latest NPS answer: promoter (9-10), passive (7-8), detractor (0-6).",
            choices=tuple(NpsCategory.choices),
            annotation="last_nps_category",
            operators=("eq", "neq", "in", "not_in", "is_empty", "is_set"),
        )

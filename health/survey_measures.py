"""The "surveys" measure group: latest NPS, NPS trend and survey response rate, read from
``surveys.selectors.account_survey_rows`` (the NPS formula lives there, once)."""

import datetime as dt

from health.measures import MeasureDef, Rows, register, register_source
from health.models import MeasureGroup
from surveys.selectors import account_survey_rows


@register_source("surveys")
def surveys_source(account_ids: list[int] | None, as_of: dt.date) -> Rows:
    """Latest NPS answer, NPS of the last 180 days vs the 180 before, response rate over 365 days (3 queries)."""
    return account_survey_rows(account_ids, as_of)


def _get(key):
    def read(r):
        row = r["surveys"]
        value = row.get(key) if row else None
        return float(value) if value is not None else None

    return read


G = MeasureGroup.SURVEYS
for _m in [
    MeasureDef("latest_nps", "Latest NPS", G, "score", ("surveys",), _get("latest_nps"),
               breakpoints=[[0, 0], [6, 30], [8, 70], [10, 100]],
               help="The score (0-10) of the account's latest NPS answer: detractor 0-6, passive 7-8, promoter 9-10."),
    MeasureDef("nps_trend", "NPS trend", G, "points", ("surveys",), _get("nps_trend"),
               breakpoints=[[-50, 0], [0, 70], [30, 100]],
               help="The account's NPS over the last 180 days minus its NPS over the 180 days before."),
    MeasureDef("survey_response_rate", "Survey response rate", G, "%", ("surveys",), _get("response_rate"),
               breakpoints=[[0, 0], [20, 60], [50, 100]],
               help="Survey mails answered ÷ delivered over the last 365 days, x 100."),
]:  # fmt: skip
    register(_m)

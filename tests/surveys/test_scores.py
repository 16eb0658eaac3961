"""The score formulas on hand-built answer sets, as plain scores and as stored answers."""

import pytest

from surveys.models import Response
from surveys.selectors import ces, csat, nps, score_of, themes
from tests.surveys.factories import SurveyFactory, answer


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([], None),
        ([7, 8, 7, 8], 0.0),  # all passives
        ([9, 10, 10], 100.0),
        ([0, 6, 3], -100.0),
        ([10, 9, 8, 7, 6, 0], 0.0),  # 2 promoters, 2 passives, 2 detractors
        ([10, 10, 10, 8, 3], 40.0),  # 60% - 20%
        ([9, 7, 7], 33.3),
    ],
)
def test_nps(scores, expected):
    assert nps(scores) == expected


@pytest.mark.parametrize(
    ("scores", "expected"),
    [([], None), ([4, 5, 5, 3], 75.0), ([1, 2, 3], 0.0), ([5], 100.0), ([3, 3, 3], 0.0)],
)
def test_csat_is_the_share_of_4_and_5(scores, expected):
    assert csat(scores) == expected


@pytest.mark.parametrize(("scores", "expected"), [([], None), ([7, 5, 3], 5.0), ([1, 2], 1.5), ([4, 4, 5], 4.33)])
def test_ces_is_the_mean(scores, expected):
    assert ces(scores) == expected


def test_formulas_on_stored_answers_match_the_plain_ones(db, django_assert_num_queries):
    survey = SurveyFactory(kind="nps")
    for s in (10, 9, 8, 2, 0):
        answer(s, survey=survey)
    qs = Response.objects.filter(survey=survey)
    with django_assert_num_queries(1):  # one aggregate
        assert nps(qs) == nps([10, 9, 8, 2, 0]) == 0.0
    assert nps(Response.objects.none()) is None

    csat_survey = SurveyFactory(kind="csat")
    for s in (5, 4, 1):
        answer(s, survey=csat_survey)
    assert csat(Response.objects.filter(survey=csat_survey)) == 66.7
    ces_survey = SurveyFactory(kind="ces")
    for s in (7, 6, 2):
        answer(s, survey=ces_survey)
    assert ces(Response.objects.filter(survey=ces_survey)) == 5.0
    assert score_of("ces", Response.objects.filter(survey=ces_survey)) == 5.0


def test_themes_count_recurring_words_and_phrases():
    found = dict(
        themes(
            [
                "The onboarding was slow and support response time is bad",
                "Support response time could be better",
                "Love the reporting, slow onboarding though",
                "",
            ]
        )
    )
    assert found["support response"] == 2
    assert found["response time"] == 2
    assert found["onboarding"] == 2
    assert "the" not in found

"""VADER suggestions on plain sentences a CSM would write."""

import pytest

from timeline.sentiment import sentiment_suggest


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Great call, the customer loves the new dashboards and is happy with support.", "positive"),
        ("They are frustrated: the integration is broken and they threatened to cancel.", "negative"),
        ("We reviewed the agenda for the meeting on Tuesday.", "neutral"),
        ("Champion is excited about the rollout, thanks for the quick help!", "positive"),
        ("Terrible week, outage caused angry escalations and a bad renewal risk.", "negative"),
    ],
)
def test_suggestion_on_plain_sentences(text, expected):
    label, score = sentiment_suggest(text)
    assert label == expected
    assert -1 <= score <= 1


def test_no_text_no_suggestion():
    assert sentiment_suggest("   ") == ("", None)

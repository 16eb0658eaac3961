"""Sentiment suggestion from free text with VADER (lexicon and rule based, offline, no model download).

VADER's documented thresholds: compound >= 0.05 is positive, <= -0.05 negative, in between neutral.
"""

from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from timeline.models import Sentiment

POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    # Loading the lexicon takes ~50 ms: once per process.
    return SentimentIntensityAnalyzer()


def sentiment_suggest(text: str) -> tuple[str, float | None]:
    """Return (sentiment, VADER compound score) for the text; ("", None) when there is no text to read."""
    text = (text or "").strip()
    if not text:
        return "", None
    score = _analyzer().polarity_scores(text)["compound"]
    if score >= POSITIVE_THRESHOLD:
        return Sentiment.POSITIVE, score
    if score <= NEGATIVE_THRESHOLD:
        return Sentiment.NEGATIVE, score
    return Sentiment.NEUTRAL, score

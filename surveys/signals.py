"""Signals of the surveys app. Higher layers listen (triggers: ``answer_received`` → survey-answer triggers).

``answer_received(sender, account_id, kind, score, comment, response_id)`` is sent once an answer is final for
triggers: when the respondent submitted the follow-up, or after a grace period for a bare one-click score, and
again when a changed answer moves to another band.
"""

from django.dispatch import Signal

answer_received = Signal()
survey_answered = answer_received  # the name the coordination notes use

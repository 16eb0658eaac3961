"""The survey mail: text and HTML parts rendered from templates, the score scale as one-click links, and an
unsubscribe link (and ``List-Unsubscribe`` header) in every mail."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from surveys.models import SurveySend
from surveys.tokens import token_for


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def answer_url(token: str, score: int | None = None) -> str:
    url = absolute(reverse("surveys:answer", args=[token]))
    return url if score is None else f"{url}?score={score}"


def survey_message(send: SurveySend, *, reminder: bool = False) -> EmailMultiAlternatives:
    """The mail for one send (its survey and contact loaded)."""
    survey = send.survey
    token = token_for(send.token_id)
    low, high = survey.scale
    company = settings.SURVEY_COMPANY_NAME
    unsubscribe = absolute(reverse("surveys:unsubscribe", args=[token]))
    page = answer_url(token)  # one reverse() for the eleven score links
    context = {
        "company": company,
        "question": survey.question_text(),
        "name": send.contact.name,
        "scores": [{"score": s, "url": f"{page}?score={s}"} for s in range(low, high + 1)],
        "low_label": "Not at all likely" if survey.kind == "nps" else "Low",
        "high_label": "Extremely likely" if survey.kind == "nps" else "High",
        "page_url": page,
        "unsubscribe_url": unsubscribe,
        "reminder": reminder,
    }
    subject = f"{'Reminder: ' if reminder else ''}A quick question from {company}"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("surveys/email/survey.txt", context),
        from_email=settings.SURVEY_FROM_EMAIL,
        to=[send.email],
        headers={"List-Unsubscribe": f"<{unsubscribe}>", "Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(render_to_string("surveys/email/survey.html", context), "text/html")
    return message

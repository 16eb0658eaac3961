"""The public answer pages (no login): answer by one click or on the page, follow-up comment, thank-you page,
unsubscribe; and the JSON embed endpoint with CORS for the configured origins. A token only ever reaches its
own send; bad tokens get a clear page, over-eager clients a 429."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from surveys import ratelimit
from surveys.models import Channel, Response, SurveySend
from surveys.services import response_record, unsubscribe_create
from surveys.tokens import TokenError, token_read

MESSAGES = {
    TokenError.INVALID: (
        "This link is not valid",
        "The link may have been cut or changed. Please use the link from the survey email exactly as it is.",
    ),
    TokenError.EXPIRED: ("This survey has closed", "The link has expired. Thank you for your interest all the same."),
    "unknown": ("This survey is no longer available", "There is nothing to answer at this address any more."),
}


def _send_for(token: str) -> SurveySend | str | TokenError:
    found = token_read(token)
    if isinstance(found, TokenError):
        return found
    send = SurveySend.objects.select_related("survey", "contact").filter(token_id=found).first()
    if send is None or not send.survey.is_active:
        return "unknown"
    return send


def _problem(request, why, status_code: int) -> HttpResponse:
    title, text = MESSAGES[why]
    return render(request, "surveys/public/problem.html", {"title": title, "text": text, **_base()}, status=status_code)


def _too_many(request) -> HttpResponse:
    return render(
        request,
        "surveys/public/problem.html",
        {"title": "Please wait a moment", "text": "Too many requests. Try again in a minute.", **_base()},
        status=429,
    )


def _base() -> dict:
    return {"company": settings.SURVEY_COMPANY_NAME}


def _page(request, send: SurveySend, response: Response | None, *, error: str = "", status_code: int = 200, **extra):
    low, high = send.survey.scale
    score = response.score if response else None
    context = {
        **_base(),
        "token": extra.pop("token"),
        "survey": send.survey,
        "question": send.survey.question_text(),
        "scale": list(range(low, high + 1)),
        "response": response,
        "selected": extra.pop("selected", score),
        "followup": send.survey.followup_for(extra.get("selected_for_followup", score)),
        "error": error,
        **extra,
    }
    return render(request, "surveys/public/answer.html", context, status=status_code)


@never_cache
@require_http_methods(["GET", "POST"])
def answer(request, token: str):
    """GET: the answer page; with ``?score=N`` (the mail's one-click links) it records the score first, unless
    the answer was already completed (a replayed link then shows the answer and offers to change it). POST: the
    score and the follow-up comment, then the thank-you page."""
    if not ratelimit.allowed(request, token):
        return _too_many(request)
    send = _send_for(token)
    if not isinstance(send, SurveySend):
        return _problem(
            request, send, 410 if send == TokenError.EXPIRED else 400 if send == TokenError.INVALID else 404
        )
    response = Response.objects.filter(send=send).first()
    if request.method == "POST":
        comment = request.POST.get("comment", "")
        try:
            response_record(
                send=send, score=request.POST.get("score"), comment=comment, channel=Channel.PAGE, complete=True
            )
        except ValidationError as exc:
            return _page(
                request, send, response, token=token, status_code=400, comment=comment,
                error=" ".join(exc.messages),
            )  # fmt: skip
        return redirect("surveys:thanks", token=token)
    raw = request.GET.get("score")
    if raw is not None:
        if response is not None and response.completed:
            return _page(request, send, response, token=token, replayed=True)
        try:
            response = response_record(send=send, score=raw, channel=Channel.EMAIL)
        except ValidationError as exc:
            return _page(request, send, response, token=token, status_code=400, error=" ".join(exc.messages))
        return _page(request, send, response, token=token, recorded=True)
    return _page(request, send, response, token=token)


@never_cache
def thanks(request, token: str):
    if not ratelimit.allowed(request, token):
        return _too_many(request)
    send = _send_for(token)
    if not isinstance(send, SurveySend):
        return _problem(
            request, send, 410 if send == TokenError.EXPIRED else 400 if send == TokenError.INVALID else 404
        )
    response = Response.objects.filter(send=send).first()
    return render(request, "surveys/public/thanks.html", {**_base(), "token": token, "response": response})


@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET asks to confirm (mail scanners follow links; a GET never unsubscribes); POST unsubscribes."""
    if not ratelimit.allowed(request, token):
        return _too_many(request)
    # An old mail's unsubscribe link must keep working: only a forged token is refused, not an expired one.
    found = token_read(token, check_age=False)
    if isinstance(found, TokenError):
        return _problem(request, TokenError.INVALID, 400)
    send = SurveySend.objects.filter(token_id=found).first()
    if send is None:
        return _problem(request, "unknown", 404)
    done = False
    if request.method == "POST":
        unsubscribe_create(send=send)
        done = True
    return render(request, "surveys/public/unsubscribe.html", {**_base(), "token": token, "done": done})


# --- embed -----------------------------------------------------------------------------------------------------------


def _cors(request, response):
    origin = request.headers.get("Origin", "")
    if origin and origin in settings.SURVEY_EMBED_ORIGINS:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "600"
        response["Vary"] = "Origin"
    return response


def _error(code: str, message: str, http: int, fields: dict | None = None) -> ApiResponse:
    return ApiResponse({"code": code, "message": message, "fields": fields or {}}, status=http)


def _answer_json(send: SurveySend, response: Response | None) -> dict:
    low, high = send.survey.scale
    return {
        "company": settings.SURVEY_COMPANY_NAME,
        "kind": send.survey.kind,
        "question": send.survey.question_text(),
        "scale": {"min": low, "max": high},
        "followup_question": send.survey.followup_for(response.score if response else None),
        "answer": {"score": response.score, "comment": response.comment} if response else None,
    }


class EmbedView(APIView):
    """``GET /s/<token>/embed`` the question and one's own answer; ``POST`` ``{"score": n, "comment": "..."}``
    records it (400 with the JSON error shape when out of range). CORS for ``SURVEY_EMBED_ORIGINS`` only."""

    schema = None  # public, token-addressed: documented in docs/surveys.md, not in the API schema
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (ratelimit.SurveyPublicThrottle,)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return _cors(request, response)

    def options(self, request, *args, **kwargs):
        return ApiResponse(status=status.HTTP_204_NO_CONTENT)

    def _send(self, token: str):
        send = _send_for(token)
        if isinstance(send, SurveySend):
            return send, None
        if send == TokenError.EXPIRED:
            return None, _error("expired", "This survey link has expired.", 410)
        if send == TokenError.INVALID:
            return None, _error("invalid_token", "This survey link is not valid.", 400)
        return None, _error("not_found", "This survey is no longer available.", 404)

    def get(self, request, token: str):
        send, problem = self._send(token)
        if problem:
            return problem
        return ApiResponse(_answer_json(send, Response.objects.filter(send=send).first()))

    def post(self, request, token: str):
        send, problem = self._send(token)
        if problem:
            return problem
        data = request.data if isinstance(request.data, dict) else {}
        comment = data.get("comment")
        if comment is not None and not isinstance(comment, str):
            return _error("invalid", "Invalid answer.", 400, {"comment": ["Must be text."]})
        try:
            response = response_record(
                send=send, score=data.get("score"), comment=comment, channel=Channel.EMBED, complete=True
            )
        except ValidationError as exc:
            fields = exc.message_dict if hasattr(exc, "error_dict") else {}
            return _error("invalid", " ".join(exc.messages), 400, fields)
        return ApiResponse(_answer_json(send, response))


embed = csrf_exempt(EmbedView.as_view())

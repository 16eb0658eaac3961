"""The account list's cheaper paths (issue 15) answer as the full ones: token calls past the browser middleware,
the token lookup compiled once, only the named filters built, the count without display joins."""

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Account
from csp.api.middleware import TokenApiMiddleware, is_token_call
from csp.models import ApiToken
from csp.services import api_token_rotate
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "headers", "expected"),
    [
        ("/api/v1/accounts/", {"HTTP_AUTHORIZATION": "Token abc"}, True),
        ("/api/v1/accounts/", {"HTTP_AUTHORIZATION": "token abc"}, True),
        ("/api/v1/accounts/", {"HTTP_AUTHORIZATION": "Token"}, True),  # DRF answers 401 itself
        ("/api/v1/accounts/", {"HTTP_AUTHORIZATION": "Bearer abc"}, False),
        ("/api/v1/accounts/", {"HTTP_AUTHORIZATION": "Token\xa0abc"}, False),  # one word for DRF: session next
        ("/api/v1/accounts/", {}, False),
        ("/api/v1/accounts/", {"HTTP_AUTHORIZATION": "Token abc", "HTTP_COOKIE": "sessionid=x"}, False),
        ("/api/schema/", {"HTTP_AUTHORIZATION": "Token abc"}, False),
        ("/accounts/", {"HTTP_AUTHORIZATION": "Token abc"}, False),
    ],
)
def test_which_calls_skip_the_browser_middleware(path, headers, expected):
    assert is_token_call(RequestFactory().get(path, **headers)) is expected


def test_token_chain_keeps_the_api_middleware_and_drops_the_browser_ones(settings):
    chain, names = TokenApiMiddleware(lambda request: None).api_response, []
    while chain is not None:  # convert_exception_to_response wrappers around each middleware instance
        instance = getattr(chain, "__wrapped__", chain)
        names.append(f"{type(instance).__module__}.{type(instance).__name__}")
        chain = getattr(instance, "get_response", None)
    assert "django.middleware.common.CommonMiddleware" in names
    assert "audit.middleware.AuditActorMiddleware" in names
    assert "django.middleware.clickjacking.XFrameOptionsMiddleware" in names
    assert not {"django.contrib.sessions.middleware.SessionMiddleware", "django_otp.middleware.OTPMiddleware"} & set(
        names
    )


def _token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_rotate(user=user).key}")
    return client


def test_token_call_answers_as_a_session_call(client_as, csm):
    AccountFactory.create_batch(3, owner=csm)
    by_token = _token_client(csm).get("/api/v1/accounts/?scope=mine")
    by_session = client_as("csm").get("/api/v1/accounts/?scope=mine")
    assert by_token.status_code == by_session.status_code == 200
    assert by_token.content == by_session.content
    for header in ("Content-Type", "Content-Length", "X-Frame-Options", "Content-Security-Policy"):
        assert by_token.headers.get(header) == by_session.headers.get(header), header
    missing = _token_client(csm).get("/api/v1/no-such-thing/")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    bad = APIClient().get("/api/v1/accounts/", HTTP_AUTHORIZATION="Token wrong")
    assert bad.status_code == 401 and bad.headers["WWW-Authenticate"] == "Token"


def test_token_write_is_audited_with_its_actor_and_address(csm):
    from auditlog.models import LogEntry

    response = _token_client(csm).post(
        "/api/v1/accounts/", {"name": "Audited Inc"}, format="json", REMOTE_ADDR="203.0.113.9"
    )
    assert response.status_code == 201
    entry = LogEntry.objects.get_for_object(Account.objects.get(name="Audited Inc")).get()
    assert entry.actor == csm and entry.remote_addr == "203.0.113.9"


def test_compiled_token_lookup_loads_what_the_orm_loads(csm):
    from csp.api.authentication import token_with_user
    from csp.services import token_digest

    key = api_token_rotate(user=csm, days=30).key
    with CaptureQueriesContext(connection) as queries:
        token = token_with_user(token_digest(key))
        assert token.user.email == csm.email  # loaded by the same query
    assert len(queries) == 1
    orm = ApiToken.objects.select_related("user").get(digest=token_digest(key))
    for field in ApiToken._meta.concrete_fields:
        assert getattr(token, field.attname) == getattr(orm, field.attname), field.name
    for field in type(csm)._meta.concrete_fields:
        assert getattr(token.user, field.attname) == getattr(orm.user, field.attname), field.name
    assert not token._state.adding and token_with_user(token_digest("nope")) is None


def test_api_filter_set_builds_only_the_named_filters(csm):
    from rest_framework.request import Request

    from accounts.api.views import AccountViewSet
    from csp.api.filtering import FilteredListBackend

    AccountFactory(owner=csm, tier="smb", name="B")
    AccountFactory(owner=csm, tier="enterprise", name="A")
    AccountFactory(tier="smb", name="C")
    request = Request(RequestFactory().get("/api/v1/accounts/?tier=smb&scope=mine&page=1&ordering=-name"))
    request.user = csm
    view = AccountViewSet(request=request, action="list", format_kwarg=None)
    filterset = FilteredListBackend().get_filterset(request, view.get_queryset(), view)
    assert set(filterset.filters) == {"tier", "scope", "ordering"} and set(filterset.form.fields) == set(
        filterset.filters
    )
    assert [a.name for a in filterset.qs] == ["B"]
    # The full set (the book of business page's) filters alike.
    full = type(filterset)(request.query_params, queryset=view.get_queryset(), request=request)
    assert len(full.filters) > 3 and list(full.qs) == list(filterset.qs)


def test_account_list_counts_without_the_display_joins(api_as, django_assert_num_queries):
    AccountFactory.create_batch(3, parent=AccountFactory())
    with CaptureQueriesContext(connection) as queries:
        body = api_as("viewer").get("/api/v1/accounts/?page_size=2").json()
    assert body["count"] == 4 and len(body["results"]) == 2
    count_sql = next(q["sql"] for q in queries if "COUNT(" in q["sql"])
    assert "JOIN" not in count_sql  # an index-only scan on PostgreSQL

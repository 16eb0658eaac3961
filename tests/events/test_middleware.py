"""The /v1 shortcut: exact Segment paths skip the session/CSRF/auth stack; anything else takes the normal one."""

import pytest

from tests.events.test_tracking import track
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_tracking_calls_skip_the_session_stack(post_v1):
    AccountFactory(external_id="ACME-1")
    response = post_v1("track", track())
    assert response.status_code == 200
    assert "Cookie" not in response.get("Vary", "")  # SessionMiddleware never saw the call
    assert not response.cookies
    assert response["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware still did


def test_other_v1_paths_get_the_normal_json_404(post_v1):
    response = post_v1("nope", track())
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_trailing_slash_is_not_a_tracking_path(post_v1):
    assert post_v1("batch/", {"batch": [track()]}).status_code == 404

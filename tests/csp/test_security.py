"""Login lockouts, API throttles, security headers, CSP, client address behind a proxy, check --deploy."""

import subprocess
import sys

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from django.urls import reverse

from csp.security import client_ip
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _login(client, email, password, ip="10.1.1.1"):
    return client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_login_locks_an_account_after_repeated_failures(client, csm, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for n in range(3):
        response = _login(client, csm.email, "wrong", ip=f"10.0.0.{n}")  # from different addresses
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()
    # Even the right password is refused while the account is locked.
    locked = _login(client, csm.email, PASSWORD, ip="10.0.0.99")
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_login_locks_an_address_after_failures_on_many_accounts(client, csm, manager, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for n in range(3):
        _login(client, f"guess{n}@example.com", "wrong", ip="10.9.9.9")
    assert _login(client, manager.email, PASSWORD, ip="10.9.9.9").status_code == 429
    assert _login(client, manager.email, PASSWORD, ip="10.9.9.10").status_code == 302  # another address is fine


def test_a_success_resets_the_accounts_failures(client, csm, settings):
    settings.AXES_FAILURE_LIMIT = 3
    _login(client, csm.email, "wrong")
    _login(client, csm.email, "wrong")
    assert _login(client, csm.email, PASSWORD).status_code == 302
    client.logout()
    _login(client, csm.email, "wrong")
    assert _login(client, csm.email, PASSWORD).status_code == 302


def test_api_is_throttled_per_user(api_as, settings):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "user": "3/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    previous = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = rates  # read once at import; the setting is what deployments change
    try:
        client = api_as("csm")
        codes = [client.get("/api/v1/accounts/").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        response = client.get("/api/v1/accounts/")
        assert set(response.json()) == {"code", "message"} and "Retry-After" in response
        assert api_as("viewer").get("/api/v1/accounts/").status_code == 200  # another user, another budget
    finally:
        SimpleRateThrottle.THROTTLE_RATES = previous


def test_throttle_rates_come_from_settings():
    from django.conf import settings

    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert set(rates) >= {"user", "anon"}
    assert "csp.api.throttling.UserRateThrottle" in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]


def test_pages_carry_a_csp_without_inline_scripts(client_as):
    response = client_as("csm").get(reverse("accounts:list"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_no_template_has_inline_script_or_handler():
    import re
    from pathlib import Path

    from django.conf import settings

    offenders = []
    for path in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+=\"", text):
            offenders.append(path.name)
    assert offenders == []


def test_client_ip_trusts_forwarded_for_only_behind_a_proxy(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"  # a client could write any X-Forwarded-For
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.7"  # what our one proxy saw; the forged left part is ignored


def test_check_deploy_is_clean_with_debug_off(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "false",
        "SECRET_KEY": "k" * 20 + "Zq8#vL2!pW9@xR4$tY7%uN1^mB6&cH3*",
        "ALLOWED_HOSTS": "csp.example.com",
        "BEHIND_TLS_PROXY": "true",
        "REDIS_URL": "redis://127.0.0.1:6379/15",  # required when DEBUG is off; check connects to nothing
        "DJANGO_SETTINGS_MODULE": "csp.settings",
    }
    from django.conf import settings

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_free_text_fields_have_length_limits(api_as):
    from segments.models import Segment

    rules = {"op": "and", "conditions": []}
    client = api_as("admin")
    response = client.post("/api/v1/segments/", {"name": "Long", "rules": rules, "description": "x" * 10_001})
    assert response.status_code == 400 and "description" in response.json()["fields"]
    assert not Segment.objects.exists()
    assert (
        client.post("/api/v1/segments/", {"name": "Ok", "rules": rules, "description": "x" * 10_000}).status_code == 201
    )


def test_length_limits_hold_in_services_too(db):
    from django.core.exceptions import ValidationError

    from segments.services import segment_create

    with pytest.raises(ValidationError) as err:
        segment_create(data={"name": "Long", "rules": {}, "description": "x" * 10_001})
    assert "description" in err.value.message_dict

"""Single sign-on against a local OpenID Connect provider stub (authorize, token with an RS256 id_token,
userinfo, JWKS) served on 127.0.0.1 by the test; the role comes from the ``groups`` claim."""

import json
import secrets
import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, make_server

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import override_settings
from django.urls import reverse

from csp.models import Role, User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
CLIENT_ID, CLIENT_SECRET, KID = "csp-test", "s3cret", "stub-key-1"


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class OIDCStub:
    """A minimal provider: one user (``claims``), codes valid once, tokens signed with a fresh RSA key."""

    def __init__(self, claims: dict):
        self.claims = claims
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.codes: dict[str, str] = {}  # code -> nonce
        self.tokens: set[str] = set()
        self.server = make_server("127.0.0.1", 0, self.app, handler_class=_Quiet)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def app(self, environ, start_response):
        path, query = environ["PATH_INFO"], parse_qs(environ.get("QUERY_STRING", ""))
        if path == "/authorize":
            code = secrets.token_urlsafe(8)
            self.codes[code] = query["nonce"][0]
            target = f"{query['redirect_uri'][0]}?{urlencode({'code': code, 'state': query['state'][0]})}"
            start_response("302 Found", [("Location", target)])
            return [b""]
        if path == "/token":
            form = parse_qs(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)).decode())
            nonce = self.codes.pop(form["code"][0], None)
            if nonce is None or form["client_secret"][0] != CLIENT_SECRET:
                return self._json(start_response, {"error": "invalid_grant"}, "400 Bad Request")
            now = int(time.time())
            id_token = jwt.encode(
                {
                    "iss": self.base,
                    "aud": CLIENT_ID,
                    "sub": "u-1",
                    "iat": now,
                    "exp": now + 300,
                    "nonce": nonce,
                    **self.claims,
                },
                self.key,
                algorithm="RS256",
                headers={"kid": KID},
            )
            access = secrets.token_urlsafe(8)
            self.tokens.add(access)
            return self._json(start_response, {"access_token": access, "token_type": "Bearer", "id_token": id_token})
        if path == "/userinfo":
            if environ.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ") not in self.tokens:
                return self._json(start_response, {"error": "invalid_token"}, "401 Unauthorized")
            return self._json(start_response, {"sub": "u-1", **self.claims})
        if path == "/jwks":
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
            return self._json(start_response, {"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]})
        start_response("404 Not Found", [])
        return [b""]

    @staticmethod
    def _json(start_response, body, status="200 OK"):
        start_response(status, [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]

    def settings(self, **extra):
        return override_settings(
            SSO_ENABLED=True,
            AUTHENTICATION_BACKENDS=["django.contrib.auth.backends.ModelBackend", "csp.oidc.RoleMappingOIDCBackend"],
            OIDC_RP_CLIENT_ID=CLIENT_ID,
            OIDC_RP_CLIENT_SECRET=CLIENT_SECRET,
            OIDC_OP_AUTHORIZATION_ENDPOINT=f"{self.base}/authorize",
            OIDC_OP_TOKEN_ENDPOINT=f"{self.base}/token",
            OIDC_OP_USER_ENDPOINT=f"{self.base}/userinfo",
            OIDC_OP_JWKS_ENDPOINT=f"{self.base}/jwks",
            OIDC_RP_SIGN_ALGO="RS256",
            OIDC_ROLE_CLAIM="groups",
            OIDC_ROLE_MAP={"cs-admins": "admin", "cs-managers": "manager", "cs-team": "csm"},
            **extra,
        )

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider():
    stub = OIDCStub({"email": "sam@customer.example", "name": "Sam Sso", "groups": ["cs-team", "cs-managers"]})
    yield stub
    stub.close()


def _sso_login(client, provider):
    start = client.get(reverse("oidc_authentication_init"))
    assert start.status_code == 302 and start.url.startswith(f"{provider.base}/authorize?")
    back = requests.get(start.url, allow_redirects=False, timeout=5)  # the browser's visit to the provider
    callback = urlsplit(back.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}")


def test_sso_creates_the_user_with_the_mapped_role(client, provider):
    with provider.settings():
        response = _sso_login(client, provider)
        assert response.status_code == 302 and response.url == "/", response.url
        user = User.objects.get(email="sam@customer.example")
        assert user.role == Role.MANAGER  # the strongest of cs-team (csm) and cs-managers (manager)
        assert user.full_name == "Sam Sso" and not user.has_usable_password()
        assert client.get(reverse("csp:profile")).context["user"] == user


def test_sso_updates_the_role_of_an_existing_user_at_each_login(client, provider):
    existing = UserFactory(email="sam@customer.example", role=Role.VIEWER)
    provider.claims["groups"] = ["cs-admins"]
    with provider.settings():
        assert _sso_login(client, provider).url == "/"
    existing.refresh_from_db()
    assert existing.role == Role.ADMIN


def test_sso_without_a_mapped_group_is_refused_when_there_is_no_default_role(client, provider):
    provider.claims["groups"] = ["finance"]
    with provider.settings(OIDC_DEFAULT_ROLE=""):
        response = _sso_login(client, provider)
    assert response.url == "/login/?sso=failed"
    assert not User.objects.filter(email="sam@customer.example").exists()


def test_password_login_can_be_disabled(client, csm, provider):
    with provider.settings(PASSWORD_LOGIN_ENABLED=False):
        page = client.get(reverse("login")).content.decode()
        assert 'data-testid="sso-login"' in page and 'name="password"' not in page
        response = client.post(reverse("login"), {"username": csm.email, "password": PASSWORD})
        assert response.status_code == 403
        assert client.get(reverse("csp:profile")).status_code == 302  # not logged in
    # on by default
    assert client.post(reverse("login"), {"username": csm.email, "password": PASSWORD}).status_code == 302

"""Fixtures shared by all tests: one user per role and API clients logged in as each."""

import pytest
from rest_framework.test import APIClient

from csp.celery import app as celery_app
from csp.models import Role
from tests.factories import PASSWORD, TeamFactory, UserFactory


@pytest.fixture(autouse=True)
def _celery_in_process(request):
    """Tasks run in-process in tests, even when REDIS_URL is set (as on CI); tests marked ``worker``
    opt out and go through the real broker to a real worker."""
    eager = request.node.get_closest_marker("worker") is None
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = eager
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttle and sampling counters live in the cache (in memory in tests): every test starts from zero."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def team(db):
    return TeamFactory()


@pytest.fixture
def manager(team):
    user = UserFactory(role=Role.MANAGER, email="manager@example.com", team=team)
    team.manager = user
    team.save()
    return user


@pytest.fixture
def csm(team, manager):
    return UserFactory(role=Role.CSM, email="csm@example.com", team=team)


@pytest.fixture
def other_csm(db):
    """A CSM in no team the ``manager`` leads."""
    return UserFactory(role=Role.CSM, email="other.csm@example.com")


@pytest.fixture
def admin_user(db):
    return UserFactory(role=Role.ADMIN, email="admin@example.com")


@pytest.fixture
def viewer(db):
    return UserFactory(role=Role.VIEWER, email="viewer@example.com")


@pytest.fixture
def users(admin_user, manager, csm, viewer):
    return {"admin": admin_user, "manager": manager, "csm": csm, "viewer": viewer}


@pytest.fixture
def api():
    """An APIClient; call ``api.force_authenticate(user)`` or use ``api_as``."""
    return APIClient()


@pytest.fixture
def api_as(users):
    def make(role: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(users[role])
        return client

    return make


@pytest.fixture
def client_as(client, users):
    """The Django test client logged in as the given role."""

    def make(role: str):
        client.force_login(users[role])
        return client

    return make


__all__ = ["PASSWORD"]

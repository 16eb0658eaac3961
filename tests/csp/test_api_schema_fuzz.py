"""Schema fuzzing: every operation of the OpenAPI schema (``/api/schema/``) is called with requests schemathesis
generates from it, as an admin with an API token, on pytest-django's test database (a scratch database: each
operation's writes are rolled back after it). Each response must not be a 5xx, its status code and content type
must be ones the schema documents, and its body must match the documented schema.

Bounded for CI: ``FUZZ_EXAMPLES`` generated requests per operation (positive and negative data), derandomized
with a fixed seed, so a run is reproducible and takes a few minutes; ``SCHEMA_FUZZ_EXAMPLES=100 pytest -m schema``
digs deeper. docs/security.md ("Checks that keep it true") says what it covers.
"""

import datetime as dt
import os
from decimal import Decimal

import pytest
import schemathesis
from auditlog.models import LogEntry
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import Account, Contact, Contract
from accounts.renewal_models import ExpansionOpportunity, Renewal
from csp.models import Role, Team, User
from csp.services import api_token_rotate
from health.models import AccountHealth, Band, HealthOverride, HealthSnapshot, Scorecard, SentimentPulse
from imports.models import ImportJob
from metrics.models import AcquisitionCost
from notifications.models import Notification
from playbooks.models import CTA, CTAComment, CTAReason, CTATask, Playbook
from segments.models import Segment
from success.models import Milestone, Objective, PlanTask, PlanTemplate, SuccessPlan
from support.models import Ticket
from surveys.models import Response, Survey, SurveySend
from tests.factories import AccountFactory, ContactFactory, ContractFactory, TeamFactory, UserFactory
from timeline.models import Activity, TimelineEntry
from triggers.models import Trigger

FUZZ_EXAMPLES = int(os.environ.get("SCHEMA_FUZZ_EXAMPLES", "10"))

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261128,
        "generation": {"max-examples": FUZZ_EXAMPLES, "deterministic": True, "database": "none"},
        # The coverage phase adds ~100 boundary-value requests per operation whatever max-examples says (about
        # 20,000 for this API): too long for CI. Examples and fuzzing stay on and are bounded.
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)
# The same generator /api/schema/ serves (public=True is what that view does), built in-process at collection.
schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True), config=CONFIG)
schema.app = get_wsgi_application()

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# The objects a path id or a body reference is pointed at, by the path's resource and by the body field's name.
RESOURCE_MODELS = {
    "accounts": Account,
    "activities": Activity,
    "audit": LogEntry,
    "contacts": Contact,
    "contracts": Contract,
    "cta-reasons": CTAReason,
    "cta-tasks": CTATask,
    "ctas": CTA,
    "expansions": ExpansionOpportunity,
    "health/current": AccountHealth,
    "health/overrides": HealthOverride,
    "health/scorecards": Scorecard,
    "health/sentiment": SentimentPulse,
    "health/snapshots": HealthSnapshot,
    "imports": ImportJob,
    "metrics/acquisition-costs": AcquisitionCost,
    "milestones": Milestone,
    "objectives": Objective,
    "plan-tasks": PlanTask,
    "plan-templates": PlanTemplate,
    "playbooks": Playbook,
    "privacy/contacts": Contact,
    "renewals": Renewal,
    "segments": Segment,
    "success-plans": SuccessPlan,
    "survey-responses": Response,
    "surveys": Survey,
    "teams": Team,
    "tickets": Ticket,
    "timeline": TimelineEntry,
    "triggers": Trigger,
    "users": User,
}
FIELD_MODELS = {
    "account": Account,
    "parent": Account,
    "contact": Contact,
    "contract": Contract,
    "owner": User,
    "assignee": User,
    "manager": User,
    "user": User,
    "team": Team,
    "cta": CTA,
    "plan": SuccessPlan,
    "template": PlanTemplate,
    "playbook": Playbook,
    "cta_playbook": Playbook,
    "reason": CTAReason,
    "cta_reason": CTAReason,
    "scorecard": Scorecard,
    "segment": Segment,
    "condition_segment": Segment,
    "scope_segment": Segment,
    "survey": Survey,
    "send_survey": Survey,
}


def _seed(admin: User) -> None:
    """One or two of every object the API serves, so ids in paths and bodies can name real ones."""
    today = timezone.localdate()
    now = timezone.now()
    team = TeamFactory()
    manager = UserFactory(role=Role.MANAGER, team=team)
    team.manager = manager
    team.save()
    csm = UserFactory(role=Role.CSM, team=team)
    UserFactory(role=Role.VIEWER)
    account = AccountFactory(owner=csm, industry="Software", region="EMEA")
    AccountFactory(owner=csm, parent=account)
    contact = ContactFactory(account=account, is_primary=True)
    contract = ContractFactory(
        account=account, start_date=today - dt.timedelta(days=300), end_date=today + dt.timedelta(days=65)
    )
    Renewal.objects.create(contract=contract, account=account, owner=csm, expected_arr=Decimal("12000"))
    ExpansionOpportunity.objects.create(account=account, owner=csm, title="More seats", amount_arr=Decimal("5000"))
    activity = Activity.objects.create(account=account, kind="call", occurred_at=now, subject="Kick-off", author=csm)
    TimelineEntry.objects.create(
        account=account, kind="activity", occurred_at=now, title="A note", actor=csm, activity=activity
    )
    reason = CTAReason.objects.create(name="Low usage", cta_type="risk")
    Playbook.objects.create(name="Save the account", cta_type="risk")
    cta = CTA.objects.create(
        account=account, cta_type="risk", reason=reason, title="Usage dropped", due_date=today, owner=csm
    )
    CTATask.objects.create(cta=cta, title="Call the champion", due_date=today, assignee=csm)
    CTAComment.objects.create(cta=cta, body="Called, no answer.", author=csm)
    template = PlanTemplate.objects.create(name="Onboarding", lifecycle_stage="onboarding")
    plan = SuccessPlan.objects.create(account=account, name="Year one", start_date=today, owner=csm, template=template)
    Objective.objects.create(plan=plan, title="Go live")
    Milestone.objects.create(plan=plan, name="Kick-off", kind="kickoff")
    PlanTask.objects.create(plan=plan, title="Train the admins", owner=csm)
    scorecard = Scorecard.objects.order_by("pk").first()
    AccountHealth.objects.create(account=account, score=55, band=Band.YELLOW, computed_at=now)
    HealthSnapshot.objects.create(
        account=account, scorecard=scorecard, computed_at=now, as_of=today, score=55, band=Band.YELLOW
    )
    HealthOverride.objects.create(
        account=account,
        band=Band.RED,
        reason="Exec sponsor left",
        expires_on=today + dt.timedelta(days=30),
        created_by=admin,
    )
    SentimentPulse.objects.create(account=account, sentiment=Band.GREEN, set_at=now, set_by=csm)
    segment = Segment.objects.create(
        name="Software",
        rules={"op": "and", "conditions": [{"field": "tier", "operator": "eq", "value": "smb"}]},
        created_by=admin,
    )
    survey = Survey.objects.create(name="NPS", kind="nps", created_by=admin)
    send = SurveySend.objects.create(survey=survey, account=account, contact=contact, email=contact.email)
    Response.objects.create(
        send=send,
        survey=survey,
        account=account,
        contact=contact,
        kind="nps",
        score=9,
        band="high",
        nps_category="promoter",
        answered_at=now,
    )
    Trigger.objects.create(
        name="Low health", condition_type="health_band", params={"band": "red"}, scope_segment=segment, created_by=admin
    )
    Ticket.objects.create(account=account, external_id="T-1", subject="Login fails", opened_at=now)
    ImportJob.objects.create(kind="accounts", content="name,domain\nAcme,acme.example\n", created_by=admin)
    AcquisitionCost.objects.create(
        month=today.replace(day=1), sales_marketing_expense=Decimal("10000"), entered_by=admin
    )
    Notification.objects.create(user=admin, title="Welcome")


def _ids(model, admin: User) -> list[int]:
    qs = model.objects.all()
    if model is User:
        qs = qs.exclude(pk=admin.pk)  # never the user the run authenticates as (see _aim)
    return list(qs.order_by("pk").values_list("pk", flat=True)[:5])


def _resource(path: str) -> str:
    return path.removeprefix("/api/v1/").split("/{")[0].rstrip("/")


def _aim(case, admin: User) -> None:
    """Point generated ids at seeded objects three times in four (the fourth keeps the generated id, usually a 404)
    and never at the admin's own user: deleting or demoting it (or deleting its token with it) would turn the rest
    of the run into 401/403s that test nothing."""
    params = case.path_parameters or {}
    model = RESOURCE_MODELS.get(_resource(case.operation.path))
    if model is not None and _is_int(params.get("id")) and params["id"] % 4 != 3:
        ids = _ids(model, admin) or [params["id"]]
        params["id"] = ids[params["id"] % len(ids)]
    if isinstance(case.body, dict):
        for name, model in FIELD_MODELS.items():
            value = case.body.get(name)
            if _is_int(value) and value % 4 != 3:
                ids = _ids(model, admin) or [value]
                case.body[name] = ids[value % len(ids)]
    if _resource(case.operation.path) == "users" and params.get("id") == admin.pk:
        params["id"] = _ids(User, admin)[0]


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@pytest.fixture
def fuzz_admin(db):
    """The admin the run authenticates as, with its token, and a seeded world.

    Calls go through Django's WSGI handler in this thread, so they share the test transaction; like Django's test
    client we keep the handler from closing that connection at the end of each request. The user throttle (1200
    calls a minute) is lifted for the run: a 429 would hide what the request it refused would have found.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    rates = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = {**rates, "user": None, "anon": None}
    try:
        admin = UserFactory(role=Role.ADMIN, email="fuzz.admin@example.com")
        admin.api_key = api_token_rotate(user=admin).key
        _seed(admin)
        yield admin
    finally:
        SimpleRateThrottle.THROTTLE_RATES = rates
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.schema
@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # the seed is shared by an operation's cases
def test_api_operation_honours_schema(case, fuzz_admin):
    _aim(case, fuzz_admin)
    case.call_and_validate(headers={"Authorization": f"Token {fuzz_admin.api_key}"}, checks=CHECKS)

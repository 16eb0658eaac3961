"""The OpenAPI schema documents what the API really answers (csp.api.schema): error codes with the error shape,
nullable names of optional relations, blank choices of read-only fields, the bodies of custom actions. Each case
here was found by the schema fuzz run (test_api_schema_fuzz.py)."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from accounts.models import Account
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _ref(schema, ref: str) -> dict:
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_every_operation_documents_its_error_answers(schema):
    for path, item in schema["paths"].items():
        for method, op in item.items():
            responses = op["responses"]
            assert {"401", "403", "429"} <= set(responses), (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
            if method != "get":
                assert "400" in responses, (method, path)
    error = _ref(
        schema,
        schema["paths"]["/api/v1/accounts/"]["post"]["responses"]["400"]["content"]["application/json"]["schema"][
            "$ref"
        ],
    )
    assert set(error["properties"]) == {"code", "message", "fields"} and error["required"] == ["code", "message"]


def test_error_answers_match_the_documented_shape(api_as):
    response = api_as("admin").post("/api/v1/teams/", {"name": ""})
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message", "fields"} and body["fields"]["name"]


def test_names_of_optional_relations_are_nullable(schema):
    user = schema["components"]["schemas"]["User"]["properties"]
    account = schema["components"]["schemas"]["Account"]["properties"]
    assert user["team_name"].get("nullable") is True
    assert account["owner_name"].get("nullable") is True and account["parent_name"].get("nullable") is True


@pytest.mark.parametrize("method", ["patch", "put"])
def test_partial_and_full_updates_answer_with_null_names(api_as, method):
    """With ``default=None`` DRF left a missing relation's name out of PATCH answers altogether."""
    user = UserFactory(team=None)
    body = {"email": user.email, "role": user.role, "full_name": "Renamed"}
    response = getattr(api_as("admin"), method)(f"/api/v1/users/{user.pk}/", body)
    assert response.status_code == 200, response.content
    assert response.json()["team_name"] is None
    account = AccountFactory(owner=None, parent=None)
    response = api_as("admin").patch(f"/api/v1/accounts/{account.pk}/", {"industry": "Retail"})
    assert response.status_code == 200, response.content
    assert response.json()["owner_name"] is None and response.json()["parent_name"] is None
    assert Account.objects.get(pk=account.pk).industry == "Retail"


def test_read_only_choices_a_model_leaves_blank_may_be_blank(schema):
    outcome = schema["components"]["schemas"]["CTA"]["properties"]["outcome"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in outcome["oneOf"]


@pytest.mark.parametrize(
    ("path", "method", "code", "kind"),
    [
        ("/api/v1/contracts/{id}/revisions/", "get", "200", "array"),
        ("/api/v1/segments/fields/", "get", "200", "array"),
        ("/api/v1/health/scorecards/{id}/recompute-history/", "post", "202", "object"),
        ("/api/v1/imports/{id}/start/", "post", "202", "object"),
        ("/api/v1/notifications/unread-count/", "get", "200", "object"),
    ],
)
def test_custom_actions_document_the_body_and_status_they_answer(schema, path, method, code, kind):
    content = schema["paths"][path][method]["responses"][code]["content"]["application/json"]["schema"]
    resolved = _ref(schema, content["$ref"]) if "$ref" in content else content
    assert resolved["type"] == kind


def test_metrics_filters_are_documented(schema):
    params = {p["name"] for p in schema["paths"]["/api/v1/metrics/revenue/accounts/"]["get"]["parameters"]}
    assert {"movement", "start", "end", "period", "segment", "team", "owner", "tier", "page"} <= params

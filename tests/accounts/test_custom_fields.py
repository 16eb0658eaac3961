"""Typed custom fields: definitions (admin pages), the account form's typed fields, the API's checks; the
parent-account picker endpoint and widget."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import services
from accounts.custom_fields import custom_field_values_clean
from accounts.forms import AccountForm
from accounts.models import Account, CustomFieldDefinition
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def definitions(db):
    return [
        services.custom_field_definition_save(data={"key": "plan", "label": "Plan", "field_type": "choice",
                                                    "choices": ["Starter", "Pro"], "required": True}),
        services.custom_field_definition_save(data={"key": "seats_bought", "label": "Seats bought",
                                                    "field_type": "number"}),
        services.custom_field_definition_save(data={"key": "go_live", "label": "Go-live", "field_type": "date"}),
        services.custom_field_definition_save(data={"key": "crm_note", "label": "CRM note", "field_type": "text"}),
    ]  # fmt: skip


def test_values_are_typed_and_unknown_keys_kept(definitions):
    values = custom_field_values_clean(
        {"plan": "Pro", "seats_bought": "12", "go_live": "2026-01-05", "crm_note": " hi ", "legacy": {"a": 1}}
    )
    assert values == {"plan": "Pro", "seats_bought": 12, "go_live": "2026-01-05", "crm_note": "hi", "legacy": {"a": 1}}
    assert custom_field_values_clean({"plan": "Pro", "seats_bought": 2.5})["seats_bought"] == 2.5


def test_bad_values_are_all_reported(definitions):
    with pytest.raises(ValidationError) as exc:
        custom_field_values_clean({"plan": "Gold", "seats_bought": "many", "go_live": "05/01/2026"})
    messages = exc.value.message_dict["custom_fields"]
    assert len(messages) == 3
    assert any("one of Starter, Pro" in m for m in messages)
    with pytest.raises(ValidationError, match="is required"):
        custom_field_values_clean({"seats_bought": 3})
    with pytest.raises(ValidationError):
        custom_field_values_clean({"plan": "Pro", "seats_bought": True})


def test_definition_rules():
    with pytest.raises(ValidationError):
        services.custom_field_definition_save(data={"key": "tier2", "label": "T", "field_type": "choice"})
    with pytest.raises(ValidationError):
        services.custom_field_definition_save(data={"key": "n", "label": "N", "field_type": "number", "choices": ["a"]})
    with pytest.raises(ValidationError):
        services.custom_field_definition_save(data={"key": "not a slug", "label": "X"})


def test_account_form_shows_typed_fields_and_saves(client_as, csm, definitions):
    account = AccountFactory(owner=csm, custom_fields={"legacy": "kept"})
    client = client_as("csm")
    page = client.get(reverse("accounts:edit", args=[account.pk]))
    form = page.context["form"]
    assert {"cf_plan", "cf_seats_bought", "cf_go_live", "cf_crm_note"} <= set(form.fields)
    assert form.initial["custom_fields"] == {"legacy": "kept"}
    post = {
        "name": account.name, "tier": "smb", "lifecycle_stage": "onboarding", "engagement_model": "low_touch",
        "owner": csm.pk, "status": "active", "custom_fields": '{"legacy": "kept"}',
        "cf_plan": "Starter", "cf_seats_bought": "40", "cf_go_live": "2026-03-01", "cf_crm_note": "",
    }  # fmt: skip
    response = client.post(reverse("accounts:edit", args=[account.pk]), post)
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.custom_fields == {"legacy": "kept", "plan": "Starter", "seats_bought": 40, "go_live": "2026-03-01"}
    # A bad value is a form error and nothing is stored.
    response = client.post(reverse("accounts:edit", args=[account.pk]), {**post, "cf_plan": "", "cf_seats_bought": "x"})
    assert response.status_code == 200
    assert response.context["form"].errors
    account.refresh_from_db()
    assert account.custom_fields["plan"] == "Starter"


def test_api_checks_custom_fields(api_as, csm, definitions):
    account = AccountFactory(owner=csm)
    api = api_as("csm")
    url = f"/api/v1/accounts/{account.pk}/"
    bad = api.patch(url, {"custom_fields": {"plan": "Gold"}}, format="json")
    assert bad.status_code == 400
    assert "custom_fields" in bad.json()["fields"]
    ok = api.patch(url, {"custom_fields": {"plan": "Pro", "seats_bought": "7"}}, format="json")
    assert ok.status_code == 200, ok.content
    assert ok.json()["custom_fields"] == {"plan": "Pro", "seats_bought": 7}


def test_custom_field_pages_are_for_admins(client_as, definitions):
    for role in ("manager", "csm", "viewer"):
        assert client_as(role).get(reverse("accounts:custom_fields")).status_code == 403
        assert client_as(role).post(reverse("accounts:custom_field_create"), {"key": "x"}).status_code == 403
    admin = client_as("admin")
    assert "Seats bought" in admin.get(reverse("accounts:custom_fields")).content.decode()
    response = admin.post(
        reverse("accounts:custom_field_create"),
        {"label": "Region code", "key": "region_code", "field_type": "choice", "choices": "EU\nUS\n", "position": 0,
         "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    assert CustomFieldDefinition.objects.get(key="region_code").choices == ["EU", "US"]
    plan = definitions[0]
    assert admin.post(reverse("accounts:custom_field_delete", args=[plan.pk])).status_code == 302
    assert not CustomFieldDefinition.objects.filter(pk=plan.pk).exists()


def test_parent_picker(client_as, django_assert_num_queries):
    AccountFactory(name="Zeta Acme")
    acme = AccountFactory(name="Acme Group")
    AccountFactory(name="Other", domain="acme-partner.example")
    client = client_as("viewer")
    client.get(reverse("accounts:picker"), {"q": "acme"})
    # session, user, the accounts
    with django_assert_num_queries(3):
        data = client.get(reverse("accounts:picker"), {"q": "acme"}).json()["results"]
    assert [r["name"] for r in data] == ["Acme Group", "Other", "Zeta Acme"]
    excluded = client.get(reverse("accounts:picker"), {"q": "acme", "exclude": acme.pk}).json()["results"]
    assert acme.pk not in [r["id"] for r in excluded]
    assert client.get(reverse("accounts:picker")).json() == {"results": []}


def test_parent_widget_renders_only_the_chosen_account(csm):
    parent = AccountFactory(name="Parent Co")
    AccountFactory.create_batch(3)
    child = AccountFactory(owner=csm, parent=parent)
    html = str(AccountForm(instance=child)["parent"])
    assert "data-account-picker" in html and f"exclude={child.pk}" in html
    assert html.count("<option") == 2 and "Parent Co" in html
    assert Account.objects.count() == 5  # the others are not rendered


def test_anonymous_cannot_use_the_picker(client):
    assert client.get(reverse("accounts:picker"), {"q": "a"}).status_code == 302

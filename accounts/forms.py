from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse, reverse_lazy

from accounts.custom_fields import active_definitions, custom_field_values_clean
from accounts.models import Account, AccountTeamRole, Contact, Contract, CustomFieldDefinition, CustomFieldType
from csp.models import User
from csp.selectors import assignable_owners


class AccountPickerWidget(forms.Select):
    """A select that renders only the chosen account; the browser searches the rest on the server as one types
    (``accounts:picker``, Tom Select in static/csp/pickers.js). Without JavaScript it still submits the choice."""

    def __init__(self, attrs=None):
        super().__init__({"data-account-picker": reverse_lazy("accounts:picker"), **(attrs or {})})

    def optgroups(self, name, value, attrs=None):
        ids = [v for v in value if v not in ("", None)]
        names = dict(Account.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
        groups = [(None, [self.create_option(name, "", "No parent", not ids, 0)], 0)]
        for index, pk in enumerate(ids, start=1):
            label = names.get(int(pk)) if str(pk).isdigit() else None
            if label:
                groups.append((None, [self.create_option(name, pk, label, True, index)], index))
        return groups


def custom_form_field(definition: CustomFieldDefinition) -> forms.Field:
    """The form field of one typed custom field (the service checks the value again on save)."""
    common = {"label": definition.label, "required": definition.required, "help_text": definition.help_text}
    if definition.field_type == CustomFieldType.NUMBER:
        return forms.DecimalField(**common)
    if definition.field_type == CustomFieldType.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if definition.field_type == CustomFieldType.CHOICE:
        return forms.ChoiceField(choices=[("", "---------"), *[(c, c) for c in definition.choices]], **common)
    return forms.CharField(max_length=1000, **common)


class AccountForm(forms.ModelForm):
    """The account form. Each admin-defined custom field is a typed field (``cf_<key>``); keys without a definition
    stay editable as JSON under "Other custom fields" so nothing stored is lost."""

    custom_fields = forms.JSONField(
        label="Other custom fields (JSON)",
        required=False,
        initial=dict,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Values without a field definition; admins define typed fields under Custom fields.",
    )

    class Meta:
        model = Account
        fields = [
            "name", "domain", "external_id", "parent", "tier", "industry", "employee_count", "region",
            "lifecycle_stage", "engagement_model", "owner", "status", "custom_fields",
        ]  # fmt: skip

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners if owners is not None else assignable_owners()
        # A select of every account would not scale: a searchable picker that asks the server.
        self.fields["parent"].widget = AccountPickerWidget()
        self.fields["parent"].help_text = "Type to search accounts by name or domain."
        if self.instance.pk:
            picker = f"{reverse('accounts:picker')}?exclude={self.instance.pk}"
            self.fields["parent"].widget.attrs["data-account-picker"] = picker
        self.definitions = active_definitions()
        stored = self.instance.custom_fields if isinstance(self.instance.custom_fields, dict) else {}
        defined = {d.key for d in self.definitions}
        if not self.is_bound:
            self.initial["custom_fields"] = {k: v for k, v in stored.items() if k not in defined}
        for d in self.definitions:
            self.fields[f"cf_{d.key}"] = custom_form_field(d)
            self.initial.setdefault(f"cf_{d.key}", stored.get(d.key))

    def clean_custom_fields(self):
        value = self.cleaned_data.get("custom_fields")
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise forms.ValidationError('Custom fields must be a JSON object, like {"plan": "Pro"}.')
        return value

    def clean(self):
        cleaned = super().clean()
        values = dict(cleaned.get("custom_fields") or {})
        for d in self.definitions:
            values.pop(d.key, None)
            value = cleaned.get(f"cf_{d.key}")
            if value not in (None, ""):
                values[d.key] = value
        try:
            cleaned["custom_fields"] = custom_field_values_clean(values, definitions=self.definitions)
        except ValidationError as exc:
            for message in exc.message_dict.get("custom_fields", []):
                self.add_error(None, message)
        return cleaned


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "email", "phone", "title", "role", "is_primary", "external_id"]


class ContractForm(forms.ModelForm):
    class Meta:
        model = Contract
        fields = [
            "name", "external_id", "start_date", "end_date", "recurring_amount", "billing_period",
            "one_time_fees", "seats", "auto_renew", "status", "cancelled_on",
        ]  # fmt: skip
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}),
            "end_date": forms.DateInput(attrs={"type": "date"}),
            "cancelled_on": forms.DateInput(attrs={"type": "date"}),
        }


class TeamMemberForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True), widget=forms.Select(attrs={"class": "form-select form-select-sm"})
    )
    role = forms.ChoiceField(
        choices=AccountTeamRole.choices, widget=forms.Select(attrs={"class": "form-select form-select-sm"})
    )


class ReassignForm(forms.Form):
    accounts = forms.ModelMultipleChoiceField(queryset=Account.objects.all())
    owner = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True))


class ContractChangeForm(forms.Form):
    """Record a revenue change of a contract without rewriting its past: an upgrade/downgrade from a date (a new
    contract), a renewal, or a dated cancellation (accounts.services.contract_amend/renew/cancel)."""

    ACTIONS = [("amend", "Upgrade or downgrade from a date"), ("renew", "Renew"), ("cancel", "Cancel from a date")]
    action = forms.ChoiceField(choices=ACTIONS)
    effective_date = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="Amendments and cancellations."
    )
    recurring_amount = forms.DecimalField(
        required=False, max_digits=14, decimal_places=2, min_value=0, help_text="New amount per billing period."
    )
    seats = forms.IntegerField(required=False, min_value=0)
    end_date = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="Renewals: defaults to the same term."
    )
    reason = forms.CharField(required=False, max_length=200)

    def clean(self):
        data = super().clean()
        if data.get("action") in ("amend", "cancel") and not data.get("effective_date"):
            self.add_error("effective_date", "Give the date the change takes effect.")
        return data

    def terms(self) -> dict:
        return {k: self.cleaned_data[k] for k in ("recurring_amount", "seats", "end_date") if self.cleaned_data.get(k)}


class CustomFieldDefinitionForm(forms.ModelForm):
    """An admin's typed account field; choices one per line."""

    choices = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}), help_text="Choice fields: one allowed value per line."
    )

    class Meta:
        model = CustomFieldDefinition
        fields = ["label", "key", "field_type", "choices", "required", "help_text", "position", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["choices"] = "\n".join(self.instance.choices or [])

    def clean_choices(self) -> list[str]:
        return [line.strip() for line in (self.cleaned_data.get("choices") or "").splitlines() if line.strip()]

from django import forms

from accounts.models import Account, AccountTeamRole, Contact, Contract
from csp.models import User
from csp.selectors import assignable_owners


class AccountForm(forms.ModelForm):
    custom_fields = forms.JSONField(required=False, initial=dict, widget=forms.Textarea(attrs={"rows": 3}))

    class Meta:
        model = Account
        fields = [
            "name", "domain", "external_id", "parent", "tier", "industry", "employee_count", "region",
            "lifecycle_stage", "engagement_model", "owner", "status", "custom_fields",
        ]  # fmt: skip

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners if owners is not None else assignable_owners()
        # A select of every account would not scale; the parent is picked by id with the name shown.
        self.fields["parent"].widget = forms.NumberInput(attrs={"placeholder": "Parent account id"})
        self.fields["parent"].help_text = str(self.instance.parent) if self.instance.parent_id else ""

    def clean_custom_fields(self):
        value = self.cleaned_data.get("custom_fields")
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise forms.ValidationError('Custom fields must be a JSON object, like {"plan": "Pro"}.')
        return value


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

"""Forms of the surveys pages: the survey definition (admins) and the results filter."""

from django import forms

from accounts.models import ContactRole
from csp.models import Role, Team, User
from surveys.models import Survey, SurveyMode


class SurveyForm(forms.ModelForm):
    contact_roles = forms.MultipleChoiceField(
        choices=ContactRole.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Contact roles asked (none ticked: every contact).",
    )

    class Meta:
        model = Survey
        fields = [
            "name", "kind", "question", "followup_question", "followup_low", "followup_mid", "followup_high",
            "mode", "schedule", "next_run_on", "segment", "contact_roles", "throttle_days", "reminder_after_days",
            "is_active",
        ]  # fmt: skip
        widgets = {"next_run_on": forms.DateInput(attrs={"type": "date"})}

    def clean(self):
        data = super().clean()
        if data.get("mode") == SurveyMode.RELATIONSHIP and not data.get("schedule"):
            self.add_error("schedule", "A relationship survey needs a schedule (it can still be sent by hand).")
        return data


class ResultFilterForm(forms.Form):
    account = forms.IntegerField(required=False, widget=forms.HiddenInput)
    segment = forms.ModelChoiceField(queryset=None, required=False, empty_label="All segments")
    owner = forms.ModelChoiceField(queryset=None, required=False, empty_label="All CSMs", label="CSM")
    team = forms.ModelChoiceField(queryset=None, required=False, empty_label="All teams")
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from segments.models import Segment

        self.fields["segment"].queryset = Segment.objects.order_by("name")
        self.fields["owner"].queryset = User.objects.filter(role__in=[Role.CSM, Role.MANAGER], is_active=True).order_by(
            "full_name", "id"
        )
        self.fields["team"].queryset = Team.objects.order_by("name")

from django import forms
from django.utils import timezone

from accounts.models import Account
from csp.models import User
from timeline.models import Activity, ActivityKind, EntryKind, Sentiment


class ActivityForm(forms.ModelForm):
    """The quick "log activity" form: kind, when, summary; attendees and next steps are optional."""

    occurred_at = forms.DateTimeField(
        label="When",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )
    sentiment = forms.ChoiceField(
        choices=[("", "Accept the suggestion"), *Sentiment.choices], required=False, label="Sentiment"
    )

    class Meta:
        model = Activity
        fields = ["kind", "occurred_at", "subject", "summary", "next_steps", "sentiment", "attendee_contacts",
                  "attendee_users"]  # fmt: skip
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 3}),
            "next_steps": forms.Textarea(attrs={"rows": 2}),
            "attendee_contacts": forms.SelectMultiple(attrs={"size": 3}),
            "attendee_users": forms.SelectMultiple(attrs={"size": 3}),
        }
        labels = {"attendee_contacts": "Customer attendees", "attendee_users": "Colleagues"}

    def __init__(self, *args, account: Account, **kwargs):
        kwargs.setdefault("initial", {}).setdefault(
            "occurred_at", timezone.localtime().replace(second=0, microsecond=0)
        )
        kwargs["initial"].setdefault("kind", ActivityKind.CALL)
        super().__init__(*args, **kwargs)
        self.fields["attendee_contacts"].queryset = account.contacts.order_by("name")
        self.fields["attendee_users"].queryset = User.objects.filter(is_active=True).order_by("full_name", "email")


class FeedFilterForm(forms.Form):
    kind = forms.MultipleChoiceField(choices=EntryKind.choices, required=False)

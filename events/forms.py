from django import forms

from events.models import EventSource, KeyFeature


class EventSourceForm(forms.ModelForm):
    class Meta:
        model = EventSource
        fields = ["name", "auto_create_accounts", "is_active"]


class KeyFeatureForm(forms.ModelForm):
    class Meta:
        model = KeyFeature
        fields = ["name", "event_name"]

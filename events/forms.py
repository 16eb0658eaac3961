from django import forms

from events.models import EventSource, KeyFeature


class EventSourceForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].required = False  # server when omitted (scripts and older clients)

    def clean_kind(self):
        return self.cleaned_data.get("kind") or (self.instance.kind if self.instance.pk else "server")

    class Meta:
        model = EventSource
        fields = ["name", "kind", "auto_create_accounts", "is_active"]


class KeyFeatureForm(forms.ModelForm):
    class Meta:
        model = KeyFeature
        fields = ["name", "event_name"]

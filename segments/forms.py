import json

from django import forms
from django.core.exceptions import ValidationError

from segments.rules import validate_rules


def parse_rules(raw: str) -> dict:
    """The rules posted by the builder (JSON text) → a validated tree; errors name the field."""
    try:
        data = json.loads(raw or "{}")
    except json.JSONDecodeError as exc:
        raise ValidationError(f"The rules are not valid JSON: {exc.msg}.") from exc
    try:
        return validate_rules(data)
    except ValidationError as exc:
        raise ValidationError(exc.message_dict.get("rules", exc.messages)) from exc


class SegmentForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    rules = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "font-monospace small"}),
        help_text="Built by the rule builder above; you may also edit the JSON directly.",
    )

    def clean_rules(self):
        return parse_rules(self.cleaned_data.get("rules", ""))

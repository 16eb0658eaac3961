from django import forms

from playbooks.models import CTAReason, Playbook
from segments.models import Segment
from triggers.conditions import PARAM_NAMES, SPECS, clean_params
from triggers.models import Trigger


def _param_fields() -> dict[str, forms.Field]:
    """One optional form field per parameter name across condition types (the page shows the relevant ones)."""
    fields: dict[str, forms.Field] = {}
    for spec in SPECS.values():
        for p in spec.params:
            if p.name in fields:
                continue
            if p.kind == "int":
                fields[p.name] = forms.IntegerField(label=p.label, required=False)
            elif p.kind == "choice":
                fields[p.name] = forms.ChoiceField(label=p.label, required=False, choices=[("", "—"), *p.choices])
            else:
                fields[p.name] = forms.CharField(label=p.label, required=False, max_length=200)
    # Labels shared by several types ("days") read generically.
    fields["percent"].label = "Percent"
    fields["days"].label = "Days"
    return fields


class TriggerForm(forms.ModelForm):
    # A URL typed without a scheme means https (Django 6's default; explicit here to avoid the 5.x warning).
    webhook_url = forms.URLField(
        required=False,
        assume_scheme="https",
        label="Webhook URL",
        help_text=Trigger._meta.get_field("webhook_url").help_text,
    )

    class Meta:
        model = Trigger
        fields = [
            "name", "description", "condition_type", "condition_segment", "scope_segment", "open_cta", "cta_type",
            "cta_priority", "cta_reason", "cta_playbook", "cta_title", "cta_due_in_days", "notify_owner",
            "notify_email", "webhook_url", "set_lifecycle_stage", "send_survey", "cooldown_days",
        ]  # fmt: skip
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(_param_fields())
        for name in PARAM_NAMES:
            self.fields[name].initial = (self.instance.params or {}).get(name)
        segments = Segment.objects.only("id", "name").order_by("name")
        self.fields["condition_segment"].queryset = segments
        self.fields["scope_segment"].queryset = segments
        self.fields["cta_playbook"].queryset = Playbook.objects.filter(is_active=True).order_by("name")
        self.fields["cta_reason"].queryset = CTAReason.objects.filter(is_active=True).order_by("name")

    def clean(self):
        data = super().clean()
        ctype = data.get("condition_type")
        if ctype:
            raw = {name: data.get(name) for name in PARAM_NAMES}
            params, errors = clean_params(ctype, raw)
            for name, message in errors.items():
                self.add_error(name if name in self.fields else None, message)
            data["params"] = params
        return data

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["params"] = self.cleaned_data.get("params", {})
        return data

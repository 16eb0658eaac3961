"""Forms of the Health tab (override, sentiment pulse) and of the scorecard admin (scorecard + measures)."""

from django import forms

from accounts.models import Tier
from health.measures import MEASURES, measure_choices
from health.models import Band, Direction, Interpolation, Scorecard


class OverrideForm(forms.Form):
    band = forms.ChoiceField(choices=Band.choices)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    expires_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    replace = forms.BooleanField(required=False, label="Replace the override in force")


class SentimentForm(forms.Form):
    # No default: a pulse preset to Red (the first band) got recorded by accident.
    sentiment = forms.ChoiceField(choices=[("", "Choose your pulse…"), *Band.choices], label="Your pulse")
    note = forms.CharField(required=False, max_length=500)


class ScorecardForm(forms.ModelForm):
    tiers = forms.MultipleChoiceField(
        choices=Tier.choices, required=False, widget=forms.CheckboxSelectMultiple, help_text="Leave empty for none."
    )

    class Meta:
        model = Scorecard
        fields = [
            "name", "description", "is_default", "segments", "tiers", "yellow_from", "green_from", "missing_policy",
        ]  # fmt: skip
        widgets = {"description": forms.Textarea(attrs={"rows": 2}), "segments": forms.SelectMultiple}
        help_texts = {"segments": "Accounts in these segments get this scorecard first, whatever their tier."}

    def validate_unique(self):
        # Unique name only: the service moves the default flag, so "one default" is not an error here.
        try:
            self.instance.validate_unique(exclude=self._get_validation_exclusions())
        except forms.ValidationError as exc:
            self._update_errors(exc)


def parse_breakpoints(text: str) -> list[list[float]]:
    """``"0:0, 5:60, 20:100"`` → ``[[0, 0], [5, 60], [20, 100]]``."""
    pairs = []
    for part in (text or "").replace(";", ",").split(","):
        if not part.strip():
            continue
        raw, sep, points = part.partition(":")
        if not sep:
            raise forms.ValidationError(f"“{part.strip()}” is not raw:points.")
        try:
            pairs.append([float(raw), float(points)])
        except ValueError as exc:
            raise forms.ValidationError(f"“{part.strip()}” is not two numbers.") from exc
    return pairs


def format_breakpoints(pairs) -> str:
    return ", ".join(f"{x:g}:{y:g}" for x, y in pairs)


class MeasureForm(forms.Form):
    key = forms.ChoiceField(choices=[("", "—"), *measure_choices()], required=False, label="Measure")
    weight = forms.FloatField(min_value=0.01, required=False)
    direction = forms.ChoiceField(choices=Direction.choices, required=False)
    interpolation = forms.ChoiceField(choices=Interpolation.choices, required=False)
    breakpoints = forms.CharField(
        required=False, help_text="raw:points pairs, e.g. 0:0, 10:60, 50:100 (empty: the measure's defaults)"
    )

    def clean_breakpoints(self):
        return parse_breakpoints(self.cleaned_data.get("breakpoints", ""))

    def clean(self):
        data = super().clean()
        if data.get("key") and data.get("weight") is None:
            self.add_error("weight", "Give this measure a weight.")
        if data.get("key") and not data.get("breakpoints"):
            data["breakpoints"] = MEASURES[data["key"]].breakpoints
        return data


MeasureFormSet = forms.formset_factory(MeasureForm, extra=3, can_delete=True)


def measure_initial(scorecard: Scorecard | None) -> list[dict]:
    if scorecard is None:
        return []
    return [
        {
            "key": m.key,
            "weight": m.weight,
            "direction": m.direction,
            "interpolation": m.interpolation,
            "breakpoints": format_breakpoints(m.breakpoints),
        }
        for m in scorecard.measures.all()
    ]

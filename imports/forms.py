from django import forms

from imports.models import ImportKind


class UploadForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportKind.choices, label="What the file holds")
    file = forms.FileField(label="CSV file", widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}))
    all_or_nothing = forms.BooleanField(
        required=False, label="All or nothing", help_text="Import nothing if any row is rejected."
    )

from django import forms

from csp.models import Team, User


class UserForm(forms.ModelForm):
    password = forms.CharField(
        widget=forms.PasswordInput, required=False, min_length=8, help_text="Leave blank to keep the current one."
    )

    class Meta:
        model = User
        fields = ["email", "full_name", "role", "team", "is_active"]


class TeamForm(forms.ModelForm):
    members = forms.ModelMultipleChoiceField(
        queryset=User.objects.filter(is_active=True), required=False, widget=forms.SelectMultiple(attrs={"size": 10})
    )

    class Meta:
        model = Team
        fields = ["name", "manager"]

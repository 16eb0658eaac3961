"""Forms of the cockpit, the account CTA tab and the admin's playbook and reason pages."""

from django import forms

from csp.selectors import assignable_owners
from playbooks.models import (
    ASSIGNEE_ACCOUNT_OWNER,
    ASSIGNEE_ROLE_CHOICES,
    CTA,
    CTAOutcome,
    CTAPriority,
    CTAReason,
    CTAType,
    Playbook,
    TaskType,
)
from playbooks.selectors import active_playbooks, active_reasons

DATE = {"type": "date"}


class CTAOpenForm(forms.Form):
    cta_type = forms.ChoiceField(label="Type", choices=CTAType.choices)
    priority = forms.ChoiceField(choices=CTAPriority.choices, initial=CTAPriority.MEDIUM)
    reason = forms.ModelChoiceField(queryset=CTAReason.objects.none(), required=False)
    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    due_date = forms.DateField(
        required=False, widget=forms.DateInput(attrs=DATE), help_text="Blank: the playbook's last step, or a week."
    )
    owner = forms.ModelChoiceField(queryset=None, required=False, help_text="Blank: the account owner.")
    playbook = forms.ModelChoiceField(queryset=Playbook.objects.none(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].queryset = active_reasons()
        self.fields["owner"].queryset = assignable_owners()
        self.fields["playbook"].queryset = active_playbooks()


class CTAEditForm(forms.ModelForm):
    class Meta:
        model = CTA
        fields = ["cta_type", "priority", "reason", "title", "description", "due_date"]
        widgets = {"due_date": forms.DateInput(attrs=DATE), "description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].queryset = active_reasons()


class SnoozeForm(forms.Form):
    until = forms.DateField(widget=forms.DateInput(attrs={**DATE, "class": "form-control form-control-sm"}))


class ReassignForm(forms.Form):
    owner = forms.ModelChoiceField(
        queryset=None, widget=forms.Select(attrs={"class": "form-select form-select-sm"}), empty_label="New owner…"
    )

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners if owners is not None else assignable_owners()


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[("", "Outcome…"), *CTAOutcome.choices],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
        error_messages={"required": "Pick an outcome to close the CTA."},
    )
    note = forms.CharField(
        required=False, widget=forms.TextInput(attrs={"class": "form-control form-control-sm", "placeholder": "Note"})
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm", "placeholder": "Add a comment"}),
        error_messages={"required": "Write something first."},
    )


class CockpitFilterForm(forms.Form):
    scope = forms.ChoiceField(choices=[("mine", "My CTAs"), ("team", "My team"), ("all", "All")], required=False)
    show = forms.ChoiceField(choices=[("", "Active"), ("snoozed", "Snoozed")], required=False)
    cta_type = forms.ChoiceField(label="Type", choices=[("", "Any type"), *CTAType.choices], required=False)
    priority = forms.ChoiceField(choices=[("", "Any priority"), *CTAPriority.choices], required=False)
    account = forms.CharField(required=False, widget=forms.TextInput(attrs={"placeholder": "Account"}))


class PlaybookForm(forms.ModelForm):
    class Meta:
        model = Playbook
        fields = ["name", "description", "cta_type", "is_active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        labels = {"cta_type": "CTA type", "is_active": "Active"}


class PlaybookTaskForm(forms.Form):
    title = forms.CharField(max_length=200)
    task_type = forms.ChoiceField(choices=TaskType.choices, initial=TaskType.TODO)
    due_in_days = forms.IntegerField(min_value=0, max_value=365, initial=0, label="Due (days after opening)")
    assignee_role = forms.ChoiceField(choices=ASSIGNEE_ROLE_CHOICES, label="Assignee", initial=ASSIGNEE_ACCOUNT_OWNER)
    guidance = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 1}))


class BasePlaybookTaskFormSet(forms.BaseFormSet):
    """Steps render as table rows: small Bootstrap widgets, the order box included."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        for name, field in form.fields.items():
            if name == "DELETE":
                field.widget.attrs["class"] = "form-check-input"
            else:
                css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
                field.widget.attrs["class"] = (
                    f"{css} form-control-sm" if css == "form-control" else f"{css} form-select-sm"
                )


PlaybookTaskFormSet = forms.formset_factory(
    PlaybookTaskForm, formset=BasePlaybookTaskFormSet, extra=2, can_delete=True, can_order=True
)


class ReasonForm(forms.ModelForm):
    class Meta:
        model = CTAReason
        fields = ["name", "cta_type", "is_active"]
        labels = {"cta_type": "CTA type", "is_active": "Active"}

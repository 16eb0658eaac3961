from django import forms
from django.core.exceptions import ValidationError

from csp.selectors import assignable_owners
from success.models import Milestone, Objective, PlanTask, PlanTemplate, SuccessPlan

DATE = forms.DateInput(attrs={"type": "date"})


class PlanForm(forms.ModelForm):
    template = forms.ModelChoiceField(queryset=PlanTemplate.objects.none(), required=False, empty_label="Blank plan")

    class Meta:
        model = SuccessPlan
        fields = ["name", "template", "start_date", "contract", "owner"]
        widgets = {"start_date": DATE}
        help_texts = {"contract": "TTO counts from this contract's start (default: the earliest contract)."}

    def __init__(self, *args, account, templates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].required = False
        self.fields["template"].queryset = PlanTemplate.objects.filter(id__in=[t.id for t in templates])
        self.fields["contract"].queryset = account.contracts.all()
        self.fields["owner"].queryset = assignable_owners()

    def clean(self):
        data = super().clean()
        if not data.get("name") and not data.get("template"):
            raise ValidationError({"name": "Name the plan or pick a template."})
        return data


class PlanEditForm(forms.ModelForm):
    class Meta:
        model = SuccessPlan
        fields = ["name", "description", "status", "start_date", "contract", "owner"]
        widgets = {"start_date": DATE, "description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contract"].queryset = self.instance.account.contracts.all()
        self.fields["owner"].queryset = assignable_owners()


class ObjectiveForm(forms.ModelForm):
    class Meta:
        model = Objective
        fields = ["title", "success_criteria", "target_date", "status"]
        widgets = {"target_date": DATE, "success_criteria": forms.Textarea(attrs={"rows": 2})}


class MilestoneForm(forms.ModelForm):
    class Meta:
        model = Milestone
        fields = ["kind", "name", "planned_date", "actual_date"]
        widgets = {"planned_date": DATE, "actual_date": DATE}


class TaskForm(forms.ModelForm):
    class Meta:
        model = PlanTask
        fields = ["title", "owner", "due_date", "done"]
        widgets = {"due_date": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = assignable_owners()


ITEM_FORMS = {"objective": ObjectiveForm, "milestone": MilestoneForm, "task": TaskForm}


def _lines(text: str, names: list[str], where: str) -> list[dict]:
    """Parse "a | b | days" lines; the last column is a whole number of days."""
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != len(names):
            raise ValidationError(f"{where} line {n}: expected {len(names)} parts separated by |.")
        row = dict(zip(names, parts, strict=True))
        try:
            row[names[-1]] = int(row[names[-1]])
        except ValueError as exc:
            raise ValidationError(f"{where} line {n}: {names[-1]} must be a whole number.") from exc
        rows.append(row)
    return rows


class TemplateForm(forms.ModelForm):
    """Templates are edited as plain lines, one item per line, parts separated by ``|``."""

    objectives = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line: title | success criteria | target days after plan start",
    )  # fmt: skip
    milestones = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line: kind (kickoff, go_live, first_value, custom) | name | due days",
    )  # fmt: skip
    tasks = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}), help_text="One per line: title | due days"
    )

    class Meta:
        model = PlanTemplate
        fields = ["name", "description", "tier", "lifecycle_stage", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        items = self.instance.items or {}
        self.initial.setdefault(
            "objectives",
            "\n".join(
                f"{o['title']} | {o['success_criteria']} | {o['target_days']}" for o in items.get("objectives", [])
            ),
        )
        self.initial.setdefault(
            "milestones", "\n".join(f"{m['kind']} | {m['name']} | {m['due_days']}" for m in items.get("milestones", []))
        )
        self.initial.setdefault("tasks", "\n".join(f"{t['title']} | {t['due_days']}" for t in items.get("tasks", [])))

    def clean_objectives(self):
        return _lines(self.cleaned_data["objectives"], ["title", "success_criteria", "target_days"], "Objectives")

    def clean_milestones(self):
        return _lines(self.cleaned_data["milestones"], ["kind", "name", "due_days"], "Milestones")

    def clean_tasks(self):
        return _lines(self.cleaned_data["tasks"], ["title", "due_days"], "Tasks")

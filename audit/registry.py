"""Which models the audit log follows, and which of their fields it never copies."""

from auditlog.registry import auditlog
from django.apps import apps

# (app_label.Model, options for auditlog.register). Secrets are masked (the log shows that they changed,
# not their value); fields that change on every request (last_login) are left out, or the log is noise.
AUDITED = [
    ("accounts.Account", {}),
    ("accounts.Contract", {}),
    ("accounts.Contact", {}),
    ("accounts.AccountTeamMember", {}),
    ("csp.User", {"exclude_fields": ["password", "last_login"], "m2m_fields": {"groups"}}),
    ("csp.Team", {}),
    ("health.Scorecard", {}),
    ("health.Measure", {}),
    ("health.HealthOverride", {}),
    ("segments.Segment", {}),
    ("triggers.Trigger", {}),
    ("playbooks.Playbook", {}),
    ("playbooks.PlaybookTask", {}),
    ("events.EventSource", {"mask_fields": ["key_hash"]}),
    ("csp.ApiToken", {"mask_fields": ["digest"], "exclude_fields": ["last_used_at"]}),
]


def audited_models() -> list:
    """The registered model classes, in the order above (the model filter of the log page lists them)."""
    return [apps.get_model(label) for label, _ in AUDITED if _installed(label)]


def _installed(label: str) -> bool:
    try:
        apps.get_model(label)
    except LookupError:
        return False
    return True


def register_models() -> None:
    for label, options in AUDITED:
        if not _installed(label):
            continue
        model = apps.get_model(label)
        if not auditlog.contains(model):
            auditlog.register(model, **options)

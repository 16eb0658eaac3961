"""pg_trgm GIN indexes serving the global search's case-insensitive substring filters on PostgreSQL.

Django writes ``field__icontains`` as ``UPPER("col"::text) LIKE UPPER(%s)``; an index on the same expression with
``gin_trgm_ops`` serves it. Other databases get nothing (SQLite scans, which is fine at demo sizes).
"""

from django.db import migrations

INDEXES = [
    ("search_account_name_trgm", "accounts_account", "name"),
    ("search_account_domain_trgm", "accounts_account", "domain"),
    ("search_contact_name_trgm", "accounts_contact", "name"),
    ("search_contact_email_trgm", "accounts_contact", "email"),
    ("search_cta_title_trgm", "playbooks_cta", "title"),
    ("search_plan_name_trgm", "success_successplan", "name"),
    ("search_activity_subject_trgm", "timeline_activity", "subject"),
    ("search_activity_summary_trgm", "timeline_activity", "summary"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_initial"),
        ("playbooks", "0001_initial"),
        ("success", "0001_initial"),
        ("timeline", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, drop)]

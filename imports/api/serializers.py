from rest_framework import serializers

from imports.models import ImportJob, ImportKind


class ImportJobSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = ImportJob
        fields = [
            "id", "kind", "filename", "status", "all_or_nothing", "columns", "ignored_columns", "total_rows",
            "processed_rows", "percent", "created_count", "updated_count", "rejected_count", "error", "created_by",
            "created_at", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields


class ImportUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ImportKind.choices)
    file = serializers.FileField()
    all_or_nothing = serializers.BooleanField(default=False)


class ImportRowSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    action = serializers.CharField()
    key = serializers.CharField()
    reason = serializers.CharField()

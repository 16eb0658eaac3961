from rest_framework import serializers

from csp.models import Team, User


class UserSerializer(serializers.ModelSerializer):
    password = serializers.CharField(write_only=True, required=False, min_length=8, style={"input_type": "password"})
    team_name = serializers.CharField(source="team.name", read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "role", "team", "team_name", "is_active", "date_joined", "password"]
        read_only_fields = ["date_joined"]


class TeamSerializer(serializers.ModelSerializer):
    member_ids = serializers.PrimaryKeyRelatedField(
        many=True, queryset=User.objects.all(), write_only=True, required=False
    )
    member_count = serializers.IntegerField(read_only=True)
    manager_name = serializers.CharField(source="manager.full_name", read_only=True, allow_null=True)

    class Meta:
        model = Team
        fields = ["id", "name", "manager", "manager_name", "member_count", "member_ids", "created_at"]
        read_only_fields = ["created_at"]

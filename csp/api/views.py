"""Users and teams endpoints: everyone reads (owner pickers need them), only admins write."""

from rest_framework import viewsets

from csp import selectors, services
from csp.api.serializers import TeamSerializer, UserSerializer
from csp.models import Role


class UserViewSet(viewsets.ModelViewSet):
    serializer_class = UserSerializer
    write_roles = frozenset({Role.ADMIN})
    filterset_fields = ["role", "team", "is_active"]
    search_fields = ["email", "full_name"]
    ordering_fields = ["email", "full_name", "date_joined"]
    ordering = ["full_name", "email"]

    def get_queryset(self):
        return selectors.user_list()

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        password = data.pop("password", None)
        serializer.instance = services.user_create(data=data, password=password)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        password = data.pop("password", None)
        serializer.instance = services.user_update(user=serializer.instance, data=data, password=password)


class TeamViewSet(viewsets.ModelViewSet):
    serializer_class = TeamSerializer
    write_roles = frozenset({Role.ADMIN})
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]

    def get_queryset(self):
        return selectors.team_list()

    def _save(self, serializer, team=None):
        data = dict(serializer.validated_data)
        members = data.pop("member_ids", None)
        member_ids = [m.id for m in members] if members is not None else None
        if team is None:
            team = services.team_create(data=data, member_ids=member_ids)
        else:
            team = services.team_update(team=team, data=data, member_ids=member_ids)
        serializer.instance = selectors.team_list().get(pk=team.pk)

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

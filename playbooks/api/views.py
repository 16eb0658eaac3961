"""CTA, CTA task, comment, playbook and reason endpoints. Writes go through services; who-may-act through
``playbooks.policies``. CTAs are never deleted: they are closed with an outcome."""

from django.db.models import Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from csp.models import Role
from playbooks import policies, selectors, services
from playbooks.api.serializers import (
    CloseSerializer,
    CTACommentSerializer,
    CTACreateSerializer,
    CTAReasonSerializer,
    CTASerializer,
    CTATaskSerializer,
    CTAUpdateSerializer,
    PlaybookSerializer,
    ReassignSerializer,
    SnoozeSerializer,
    TickSerializer,
)
from playbooks.filters import CTAFilter
from playbooks.models import CTA, CTAComment, CTATask

ADMIN_ONLY = frozenset({Role.ADMIN})


class CTAViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    """CTAs: list (filters owner, account, type, priority, status, due_before/after, overdue, active, scope),
    open, edit, and the actions snooze / close / reassign / comments."""

    filterset_class = CTAFilter
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["due_date", "opened_at", "closed_at", "priority_rank"]
    ordering = ["due_date", "priority_rank", "id"]

    def get_queryset(self):
        qs = CTA.objects.select_related("account", "owner", "owner__team", "reason").prefetch_related(
            Prefetch("tasks", queryset=CTATask.objects.select_related("assignee"))
        )
        return qs.annotate(priority_rank=selectors.priority_rank())

    def get_serializer_class(self):
        if self.action == "create":
            return CTACreateSerializer
        if self.action in ("update", "partial_update"):
            return CTAUpdateSerializer
        return CTASerializer

    def can_write_object(self, request, cta):
        return policies.can_act_on_cta(request.user, cta)

    def _reply(self, cta, code=status.HTTP_200_OK):
        return Response(CTASerializer(self.get_queryset().get(pk=cta.pk)).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if not policies.can_open_cta(request.user, data["account"]):
            raise PermissionDenied("You may not open CTAs on this account.")
        cta = services.cta_open(cta_type=data.pop("type"), created_by=request.user, **data)
        return self._reply(cta, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        cta = self.get_object()
        serializer = CTAUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        services.cta_update(cta=cta, data=dict(serializer.validated_data))
        return self._reply(cta)

    def _act(self, request, serializer_class, apply):
        cta = self.get_object()  # object permission: can_act_on_cta
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        apply(cta, serializer.validated_data)
        return self._reply(cta)

    @extend_schema(request=SnoozeSerializer, responses=CTASerializer)
    @action(detail=True, methods=["post"])
    def snooze(self, request, pk=None):
        return self._act(request, SnoozeSerializer, lambda c, d: services.cta_snooze(cta=c, until=d["until"]))

    @extend_schema(request=CloseSerializer, responses=CTASerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._act(
            request,
            CloseSerializer,
            lambda c, d: services.cta_close(cta=c, outcome=d["outcome"], note=d["note"], by=request.user),
        )

    @extend_schema(request=ReassignSerializer, responses=CTASerializer)
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        return self._act(
            request,
            ReassignSerializer,
            lambda c, d: services.cta_reassign(cta=c, owner=d["owner"], by=request.user),
        )


class CTATaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """CTA tasks: list (filters cta, assignee, done) and ``PATCH {"done": true}`` to tick one off."""

    serializer_class = CTATaskSerializer
    http_method_names = ["get", "patch", "head", "options"]
    filterset_fields = {"cta": ["exact"], "assignee": ["exact"], "completed_at": ["isnull"], "due_date": ["lte", "gte"]}
    ordering = ["due_date", "id"]

    def get_queryset(self):
        return CTATask.objects.select_related("assignee", "cta__account", "cta__owner__team")

    def can_write_object(self, request, task):
        return policies.can_tick_task(request.user, task)

    def partial_update(self, request, *args, **kwargs):
        """Tick a task off (``done: true``) or untick it (``done: false``)."""
        task = self.get_object()
        serializer = TickSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.cta_task_set_done(task=task, done=serializer.validated_data["done"], by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=task.pk)).data)


class CTACommentViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Comments on CTAs: list (filter cta) and add one to a CTA you may act on."""

    serializer_class = CTACommentSerializer
    filterset_fields = ["cta", "author"]
    ordering = ["created_at", "id"]

    def get_queryset(self):
        return CTAComment.objects.select_related("author")

    def perform_create(self, serializer):
        cta = CTA.objects.select_related("account", "owner__team").get(pk=serializer.validated_data["cta"].pk)
        if not policies.can_act_on_cta(self.request.user, cta):
            raise PermissionDenied("You may not comment on this CTA.")
        serializer.instance = services.cta_comment_add(
            cta=cta, author=self.request.user, body=serializer.validated_data["body"]
        )


class PlaybookViewSet(viewsets.ModelViewSet):
    """Playbooks with their ordered steps (``tasks`` replaces them all on write). Everyone reads; admins write."""

    serializer_class = PlaybookSerializer
    write_roles = ADMIN_ONLY
    filterset_fields = ["cta_type", "is_active"]
    ordering = ["name"]

    def get_queryset(self):
        return selectors.playbook_list()

    def _save(self, serializer, playbook=None):
        data = dict(serializer.validated_data)
        tasks = data.pop("tasks", None)
        saved = services.playbook_save(data=data, tasks=[dict(t) for t in tasks] if tasks is not None else None,
                                       playbook=playbook)  # fmt: skip
        serializer.instance = self.get_queryset().get(pk=saved.pk)

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def perform_destroy(self, instance):
        services.playbook_delete(playbook=instance)


class CTAReasonViewSet(viewsets.ModelViewSet):
    """The admin-managed list of CTA reasons. Everyone reads; admins write; a cited reason cannot be deleted."""

    serializer_class = CTAReasonSerializer
    write_roles = ADMIN_ONLY
    filterset_fields = ["cta_type", "is_active"]
    ordering = ["name"]

    def get_queryset(self):
        return selectors.reason_list()

    def perform_create(self, serializer):
        reason = services.reason_save(data=dict(serializer.validated_data))
        serializer.instance = self.get_queryset().get(pk=reason.pk)

    def perform_update(self, serializer):
        reason = services.reason_save(data=dict(serializer.validated_data), reason=serializer.instance)
        serializer.instance = self.get_queryset().get(pk=reason.pk)

    def perform_destroy(self, instance):
        services.reason_delete(reason=instance)

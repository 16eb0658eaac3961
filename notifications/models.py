"""In-app notifications: the bell in the navbar and the notifications page. Playbooks and triggers send them."""

from django.conf import settings
from django.db import models


class Notification(models.Model):
    """An in-app message for a user (bell in the navbar, notifications page)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # The table was created by the triggers app; it keeps its name so the move lost no row (no copy, no rename).
        db_table = "triggers_notification"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"], name="triggers_no_user_id_760b2e_idx")]

    def __str__(self) -> str:
        return self.title

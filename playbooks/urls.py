from django.urls import path

from playbooks import views

app_name = "playbooks"
urlpatterns = [
    path("ctas/", views.cockpit, name="cockpit"),
    path("ctas/<int:pk>/", views.cta_detail, name="cta_detail"),
    path("ctas/<int:pk>/edit/", views.cta_edit, name="cta_edit"),
    path("ctas/<int:pk>/snooze/", views.cta_snooze, name="cta_snooze"),
    path("ctas/<int:pk>/wake/", views.cta_wake, name="cta_wake"),
    path("ctas/<int:pk>/reassign/", views.cta_reassign, name="cta_reassign"),
    path("ctas/<int:pk>/close/", views.cta_close, name="cta_close"),
    path("ctas/<int:pk>/comments/", views.cta_comment, name="cta_comment"),
    path("ctas/<int:pk>/tasks/<int:task_id>/toggle/", views.cta_task_toggle, name="cta_task_toggle"),
    path("accounts/<int:pk>/ctas/", views.account_ctas, name="account_ctas"),
    path("playbooks/", views.playbook_list, name="playbook_list"),
    path("playbooks/new/", views.playbook_edit, name="playbook_create"),
    path("playbooks/<int:pk>/", views.playbook_edit, name="playbook_edit"),
    path("playbooks/<int:pk>/delete/", views.playbook_delete, name="playbook_delete"),
    path("playbooks/reasons/", views.reason_list, name="reason_list"),
    path("playbooks/reasons/new/", views.reason_edit, name="reason_create"),
    path("playbooks/reasons/<int:pk>/", views.reason_edit, name="reason_edit"),
    path("playbooks/reasons/<int:pk>/delete/", views.reason_delete, name="reason_delete"),
]

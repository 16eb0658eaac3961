from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from csp import mfa_views, views
from csp.api.docs import docs_view

app_urls = (
    [
        path("profile/", views.profile, name="profile"),
        path("profile/token/", views.token_rotate, name="token_rotate"),
        path("profile/mfa/", mfa_views.mfa_setup, name="mfa_setup"),
        path("profile/mfa/disable/", mfa_views.mfa_disable, name="mfa_disable"),
        path("admin/users/", views.user_list, name="user_list"),
        path("admin/users/new/", views.user_edit, name="user_create"),
        path("admin/users/<int:pk>/", views.user_edit, name="user_edit"),
        path("admin/teams/", views.team_list, name="team_list"),
        path("admin/teams/new/", views.team_edit, name="team_create"),
        path("admin/teams/<int:pk>/", views.team_edit, name="team_edit"),
    ],
    "csp",
)

api_v1 = [
    path("", include("csp.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("accounts.api.urls")),
    path("", include("timeline.api.urls")),
    path("", include("success.api.urls")),
    path("", include("imports.api.urls")),
    path("", include("playbooks.api.urls")),
    path("", include("support.api.urls")),
    path("", include("health.api.urls")),
    path("", include("segments.api.urls")),
    path("", include("triggers.api.urls")),
    path("", include("surveys.api.urls")),
    path("", include(("metrics.api.urls", "metrics-api"))),
    path("", include("accounts.api.renewals")),
    path("", include("search.api.urls")),
    path("", include("audit.api.urls")),
]

urlpatterns = [
    # First: the API's busiest calls would otherwise be tried against every page's pattern before theirs (about
    # 0.4 ms a call). No pattern above it matched an api/ path, so the order changes no answer.
    path("api/v1/", include(api_v1)),
    path("", include("home.urls")),
    path("", include("search.urls")),
    # Browsers ask for /favicon.ico on pages without a <link rel="icon"> (JSON, the API docs).
    path("favicon.ico", views.favicon),
    path("", include(app_urls)),
    path("accounts/", include("accounts.urls")),
    path("", include("timeline.urls")),
    path("", include("success.urls")),
    path("", include("imports.urls")),
    path("", include("playbooks.urls")),
    path("", include("events.urls")),
    path("", include("support.urls")),
    path("v1/", include("events.tracking")),
    path("health/", include("health.urls")),
    path("segments/", include("segments.urls")),
    path("", include("triggers.urls")),
    path("", include("metrics.urls")),
    path("", include("notifications.urls")),
    path("", include("surveys.urls")),
    path("", include("audit.urls")),
    path("login/", mfa_views.LoginView.as_view(), name="login"),
    path("login/verify/", mfa_views.login_verify, name="login_verify"),
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("healthz", views.healthz, name="healthz"),
    # Behind login unless API_DOCS_PUBLIC (csp.api.docs); the split Swagger view serves its script as a file (CSP).
    path("api/schema/", docs_view(SpectacularAPIView), name="schema"),
    path("api/docs/", docs_view(SpectacularSwaggerSplitView, url_name="schema"), name="swagger-ui"),
    path("api/redoc/", docs_view(SpectacularRedocView, url_name="schema"), name="redoc"),
    path("django-admin/", admin.site.urls),
]

handler404 = "csp.views.api_not_found"
handler500 = "csp.views.server_error"

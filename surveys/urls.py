from django.urls import path

from surveys import public, views

app_name = "surveys"
urlpatterns = [
    path("surveys/", views.survey_list, name="list"),
    path("surveys/new/", views.survey_edit, name="create"),
    path("surveys/<int:pk>/", views.survey_detail, name="detail"),
    path("surveys/<int:pk>/edit/", views.survey_edit, name="edit"),
    path("surveys/<int:pk>/send/", views.survey_send, name="send"),
    path("surveys/<int:pk>/export.csv", views.survey_export, name="export"),
    path("surveys/<int:pk>/batches/<int:batch_id>/", views.batch_progress, name="batch"),
    path("surveys/<int:pk>/batches/<int:batch_id>/retry/", views.batch_retry, name="batch_retry"),
    # Public (no login): the signed token is the only key.
    path("s/<str:token>/", public.answer, name="answer"),
    path("s/<str:token>/thanks/", public.thanks, name="thanks"),
    path("s/<str:token>/unsubscribe/", public.unsubscribe, name="unsubscribe"),
    path("s/<str:token>/embed", public.embed, name="embed"),
]

"""URLs of refunds (退费), included at /refunds/ by portal/urls.py (namespace "refunds")."""

from django.urls import path

from institutions import refund_views as views

app_name = "refunds"
urlpatterns = [
    path("mine/", views.mine, name="mine"),
    path("mine/<int:pk>/", views.status, name="status"),
    path("ask/<int:pk>/", views.ask, name="ask"),
    path("org/", views.org_list, name="list"),
    path("org/<int:pk>/", views.answer, name="answer"),
    path("bureau/", views.bureau, name="bureau"),
    path("bureau/<int:pk>/", views.decide, name="decide"),
    path("batch/<int:pk>/", views.batch, name="batch"),
    path("batch/result/<int:pk>/", views.batch_result, name="batch_result"),
    path("batch/result/<int:pk>/excel/", views.batch_excel, name="batch_excel"),
]

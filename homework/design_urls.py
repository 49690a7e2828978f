"""URLs of the homework design library (作业设计库), included at /homework/designs/ (namespace
"designs")."""

from django.urls import path

from homework import design_views as views

app_name = "designs"

urlpatterns = [
    path("", views.index, name="index"),
    path("mine/", views.mine, name="mine"),
    path("queue/", views.queue, name="queue"),
    path("new/", views.new, name="new"),
    path("report/", views.report, name="report"),
    path("reviewers/", views.reviewers, name="reviewers"),
    path("reviewers/add/", views.reviewers_add, name="reviewers_add"),
    path("reviewers/remove/", views.reviewers_remove, name="reviewers_remove"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.resubmit, name="resubmit"),
    path("<int:pk>/review/", views.review, name="review"),
    path("<int:pk>/share/", views.share, name="share"),
]

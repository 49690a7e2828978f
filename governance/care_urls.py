"""URLs of the care ledger (关爱帮扶 一人一档), included at /care/ (namespace "care")."""

from django.urls import path

from governance import care_views as views

app_name = "care"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/contacts/", views.contact, name="contact"),
    path("staff/", views.staff, name="staff"),
    path("staff/add/", views.staff_add, name="staff_add"),
    path("staff/remove/", views.staff_remove, name="staff_remove"),
    path("overview/", views.overview, name="overview"),
]

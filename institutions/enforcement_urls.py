"""URLs of inspections (专项整治), 约谈, sanctions and 通报 (included at /enforcement/ by
portal/urls.py, namespace "enforcement")."""

from django.urls import path  # noqa: F401

app_name = "enforcement"

urlpatterns = []

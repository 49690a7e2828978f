"""URLs of complaints (举报/投诉) and their handling (included at /complaints/ by portal/urls.py,
namespace "complaints")."""

from django.urls import path  # noqa: F401

app_name = "complaints"

urlpatterns = []

"""URLs of letters to parents (致家长的一封信) (included at /letters/ by portal/urls.py,
namespace "letter")."""

from django.urls import path

from governance import letter_views as views

app_name = "letter"

urlpatterns = [
    path("", views.sent, name="sent"),
    path("new/", views.compose, name="compose"),
    path("<int:pk>/", views.detail, name="detail"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:pk>/", views.read, name="read"),
]

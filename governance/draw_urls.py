"""URLs of 阳光分班 (included at /draw/ by portal/urls.py, namespace "draw")."""

from django.urls import path

from governance import draw_views as views

app_name = "draw"

urlpatterns = [
    path("", views.public_list, name="public_list"),
    path("<int:pk>/", views.public, name="public"),
    path("<int:pk>/draw.json", views.public_json, name="json"),
    path("staff/", views.index, name="index"),
    path("staff/new/", views.create, name="create"),
    path("staff/<int:pk>/", views.detail, name="detail"),
    path("staff/<int:pk>/lists/", views.lists, name="lists"),
    path("staff/<int:pk>/publish/", views.publish, name="publish"),
    path("staff/<int:pk>/run/", views.run, name="run"),
    path("staff/<int:pk>/redraw/", views.redraw, name="redraw"),
]

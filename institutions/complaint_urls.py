"""URLs of complaints (举报/投诉) and their handling (included at /complaints/ by portal/urls.py,
namespace "complaints")."""

from django.urls import path

from institutions import complaint_views as views

app_name = "complaints"

urlpatterns = [
    path("", views.file, name="file"),
    path("done/", views.done, name="done"),
    path("track/", views.track, name="track"),
    path("mine/", views.mine, name="mine"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/<int:pk>/", views.staff_detail, name="staff_detail"),
    path("staff/<int:pk>/contact/", views.staff_contact, name="staff_contact"),
    path("staff/<int:pk>/<slug:action>/", views.staff_act, name="staff_act"),
    path("school/", views.school_list, name="school_list"),
    path("school/<int:pk>/", views.school_detail, name="school_detail"),
    path("files/<int:pk>/", views.file_download, name="evidence"),
]

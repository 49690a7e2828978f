"""URLs of the people register (志愿者与社会资源人员), included at /people/ (namespace "people")."""

from django.urls import path

from afterschool import people_views as views

app_name = "people"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/certificate/<int:term>/", views.certificate, name="certificate"),
    path("<int:pk>/phone/", views.phone, name="phone"),
    path("overview/", views.overview, name="overview"),
    path("offering/<int:pk>/", views.assign, name="assign"),
    path("lesson/<int:pk>/", views.lesson_assign, name="lesson_assign"),
]

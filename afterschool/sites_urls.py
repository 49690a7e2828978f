"""URLs of the community sites (社区托管点), included at /sites/ (namespace "sites")."""

from django.urls import path

from afterschool import sites_views as views

app_name = "sites"
urlpatterns = [
    # the bureau (课后服务)
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/active/", views.active, name="active"),
    path("<int:pk>/check/", views.check, name="check"),
    path("<int:pk>/operators/", views.operator_new, name="operator_new"),
    path("operators/<int:pk>/deactivate/", views.operator_deactivate, name="operator_deactivate"),
    path("checks/<int:pk>/file/", views.check_file, name="check_file"),
    # the site's operator
    path("mine/", views.mine, name="mine"),
    path("mine/courses/new/", views.course_new, name="course_new"),
    path("mine/courses/<int:pk>/", views.course, name="course"),
    path("mine/courses/<int:pk>/publish/", views.course_publish, name="course_publish"),
    path("mine/lessons/<int:pk>/roll/", views.roll, name="roll"),
]

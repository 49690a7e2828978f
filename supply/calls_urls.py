"""URLs of the public call for providers (公开征集) (included at /calls/ by portal/urls.py,
namespace "calls")."""

from django.urls import path

from supply import call_views as views

app_name = "calls"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/result/", views.result, name="result"),
    path("<int:pk>/apply/", views.apply, name="apply"),
    path("register/", views.register, name="register"),
    path("documents/<int:pk>/", views.document, name="document"),
    path("org/", views.org_home, name="org_home"),
    path("org/applications/<int:pk>/", views.org_application, name="org_application"),
    path("org/members/", views.org_members, name="org_members"),
    path(
        "org/members/<int:pk>/deactivate/",
        views.org_member_deactivate,
        name="org_member_deactivate",
    ),
    path("password/", views.password, name="password"),
    path("expert/", views.expert_home, name="expert_home"),
    path("expert/applications/<int:pk>/", views.expert_application, name="expert_application"),
    path("expert/applications/<int:pk>/conflict/", views.expert_conflict, name="expert_conflict"),
    path("bureau/", views.bureau_calls, name="bureau_calls"),
    path("bureau/new/", views.call_new, name="call_new"),
    path("bureau/<int:pk>/", views.call_manage, name="call_manage"),
    path("bureau/<int:pk>/assign/", views.call_assign, name="call_assign"),
    path("bureau/<int:pk>/admit/", views.call_admit, name="call_admit"),
    path("bureau/organisations/", views.bureau_organisations, name="organisations"),
    path(
        "bureau/organisations/<int:pk>/deactivate/",
        views.organisation_deactivate,
        name="organisation_deactivate",
    ),
    path("bureau/experts/", views.experts, name="experts"),
    path("bureau/experts/<int:pk>/deactivate/", views.expert_deactivate, name="expert_deactivate"),
]

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from portal import dashboard_views, views
from portal.forms import LoginForm

portal_patterns = (
    [
        path("me/", views.me, name="me"),
        path("school/", views.school_home, name="school_home"),
        path("school/classes/<int:pk>/", views.school_class_detail, name="school_class"),
        path("school/findings/", views.school_findings, name="school_findings"),
        path("school/findings/<int:pk>/", views.finding_detail, name="finding_detail"),
        path("findings/evidence/<int:pk>/", views.evidence_file, name="evidence"),
        path("parent/", views.parent_home, name="parent_home"),
        path("parent/children/<int:pk>/", views.child_detail, name="child_detail"),
    ],
    "portal",
)

dashboard_patterns = (
    [
        path("", dashboard_views.index, name="index"),
        path("report/<str:line>.xlsx", dashboard_views.report, name="report"),
        path("findings/", dashboard_views.finding_list, name="findings"),
        path("findings/<int:pk>/", dashboard_views.finding_handle, name="finding"),
    ],
    "dashboard",
)

urlpatterns = [
    path("dashboard/", include(dashboard_patterns)),
    path("inbox/", dashboard_views.inbox, name="inbox"),
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("ping", views.ping, name="ping"),
    path("language/", views.language, name="language"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("admin/", admin.site.urls),
    path("cases/", include("cases.urls")),
    path("afterschool/", include("afterschool.urls")),
    path("institutions/", include("institutions.urls")),
    path("api/institutions/", include("institutions.api_urls")),
    path("complaints/", include("institutions.complaint_urls")),
    path("enforcement/", include("institutions.enforcement_urls")),
    path("org/", include("institutions.org_urls")),
    path("sales/", include("institutions.sale_urls")),
    path("training/", include("institutions.training_urls")),
    path("refunds/", include("institutions.refund_urls")),
    path("homework/designs/", include("homework.design_urls")),
    path("draw/", include("governance.draw_urls")),
    path("pledges/", include("governance.pledge_urls")),
    path("care/", include("governance.care_urls")),
    path("exams/", include("governance.exam_urls")),
    path("letters/", include("governance.letter_urls")),
    path("holiday/", include("afterschool.holiday_urls")),
    path("sites/", include("afterschool.sites_urls")),
    path("lunch/", include("afterschool.lunch_urls")),
    path("people/", include("afterschool.people_urls")),
    path("funding/", include("afterschool.funding_urls")),
    path("calls/", include("supply.calls_urls")),
    path("fair/", include("supply.fair_urls")),
    path("catalogue/", include("supply.catalogue_urls")),
    path("", include("homework.urls")),
    path("", include(portal_patterns)),
]

# a malformed query parameter (portal.params.BadParameter): the Chinese 400 page naming it
handler400 = "portal.params.bad_request"

admin.site.site_header = "双减工作平台 · 区教育局"
admin.site.site_title = "双减工作平台"
admin.site.index_title = "管理后台"

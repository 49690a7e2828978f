"""URLs of the institution's side (机构端), mounted at /org/ (namespace "org"): the
institution's own pages, the public account request, and the bureau's queues."""

from django.urls import path

from institutions import org_views as views

app_name = "org"
urlpatterns = [
    path("", views.home, name="home"),
    path("password/", views.password, name="password"),
    path("staff/", views.staff, name="staff"),
    path("staff/<int:pk>/deactivate/", views.staff_deactivate, name="staff_deactivate"),
    path("courses/", views.courses, name="courses"),
    path("courses/new/", views.course_new, name="course_new"),
    path("courses/<int:pk>/", views.course_edit, name="course_edit"),
    path("request/<int:pk>/", views.request_account, name="request"),
    path("bureau/accounts/", views.accounts_queue, name="accounts"),
    path("bureau/accounts/new/<int:pk>/", views.account_new, name="account_new"),
    path("bureau/requests/<int:pk>/", views.request_decide, name="request_decide"),
    path("bureau/filings/", views.filings, name="filings"),
    path("bureau/filings/<int:pk>/", views.filing_decide, name="filing_decide"),
]

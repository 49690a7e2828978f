from django.urls import path

from afterschool import lunch_views as v

app_name = "lunch"
urlpatterns = [
    path("", v.index, name="index"),
    path("open/", v.month_open, name="open"),
    path("months/<int:pk>/", v.month, name="month"),
    path("months/<int:pk>/change/", v.change, name="change"),
    path("enrolments/<int:pk>/staff-withdraw/", v.staff_withdraw, name="staff_withdraw"),
    path("breaks/<int:pk>/", v.roll, name="roll"),
    path("mine/", v.parent, name="parent"),
    path("months/<int:pk>/enrol/", v.enrol, name="enrol"),
    path("enrolments/<int:pk>/withdraw/", v.withdraw, name="withdraw"),
    path("report/", v.report, name="report"),
    path("report.xlsx", v.report_xlsx, name="report_xlsx"),
]

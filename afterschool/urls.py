from django.urls import path

from afterschool import fee_views, lesson_views, ops_views, plan_views, views

app_name = "afterschool"
urlpatterns = [
    path("menu/", views.menu, name="menu"),
    path("enrol/", views.enrol, name="enrol"),
    path("enrolments/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("enrolments/<int:pk>/switch/", views.switch, name="switch"),
    path("offerings/", views.offerings, name="offerings"),
    path("offerings/<int:pk>/", ops_views.offering_detail, name="offering_detail"),
    path("offerings/<int:pk>/publish/", views.offering_publish, name="offering_publish"),
    path("offerings/<int:pk>/rate/", lesson_views.rate, name="rate"),
    path("plans/", plan_views.plan_list, name="plans"),
    path("plans/new/", plan_views.plan_new, name="plan_new"),
    path("plans/<int:pk>/", plan_views.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/submit/", plan_views.plan_submit, name="plan_submit"),
    path("review/plans/", plan_views.plan_review_list, name="plan_review_list"),
    path("review/plans/<int:pk>/", plan_views.plan_review, name="plan_review"),
    path("review/rates/", lesson_views.rates, name="rates"),
    # fees: parents
    path("bills/", fee_views.bills, name="bills"),
    path("bills/<int:pk>/pay/", fee_views.bill_pay, name="bill_pay"),
    path("sandbox/<str:reference>/", fee_views.sandbox_pay, name="sandbox_pay"),
    path("payments/<str:reference>/", fee_views.receipt, name="receipt"),
    path("pay/notify/<str:provider>/", fee_views.notify, name="notify"),
    # fees: school staff
    path("fees/", fee_views.fee_desk, name="fees"),
    path("settlement/", fee_views.settlement, name="settlement"),
    # lessons and attendance
    path("lessons/", lesson_views.lesson_list, name="lessons"),
    path("lessons/<int:pk>/", lesson_views.roll_call, name="roll_call"),
    path("lessons/<int:pk>/cancel/", lesson_views.lesson_cancel, name="lesson_cancel"),
    path("attendance/", lesson_views.attendance, name="attendance"),
    path("survey/", lesson_views.survey, name="survey"),
    path("my-lessons/", ops_views.my_lessons, name="my_lessons"),
    path("lessons/<int:pk>/leave/", ops_views.leave, name="leave"),
    path("school-days/", ops_views.school_days, name="school_days"),
]

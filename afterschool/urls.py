from django.urls import path

from afterschool import plan_views, views

app_name = "afterschool"
urlpatterns = [
    path("menu/", views.menu, name="menu"),
    path("enrol/", views.enrol, name="enrol"),
    path("enrolments/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("offerings/", views.offerings, name="offerings"),
    path("offerings/<int:pk>/publish/", views.offering_publish, name="offering_publish"),
    path("plans/", plan_views.plan_list, name="plans"),
    path("plans/new/", plan_views.plan_new, name="plan_new"),
    path("plans/<int:pk>/", plan_views.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/submit/", plan_views.plan_submit, name="plan_submit"),
    path("review/plans/", plan_views.plan_review_list, name="plan_review_list"),
    path("review/plans/<int:pk>/", plan_views.plan_review, name="plan_review"),
]

"""URLs of the district course catalogue (公益课程包) (included at /catalogue/ by
portal/urls.py, namespace "catalogue")."""

from django.urls import path

from supply import catalogue_views as views

app_name = "catalogue"

urlpatterns = [
    path("", views.packages, name="packages"),
    path("packages/new/", views.package_new, name="package_new"),
    path("packages/<int:pk>/", views.package, name="package"),
    path("packages/<int:pk>/order/", views.order_new, name="order_new"),
    path("packages/<int:pk>/dispatch/", views.dispatch, name="dispatch"),
    path("packages/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("orders/", views.orders, name="orders"),
    path("orders/<int:pk>/", views.order, name="order"),
    path("orders/<int:pk>/visits/", views.visit_new, name="visit_new"),
    path("visits/<int:pk>/confirm/", views.visit_confirm, name="visit_confirm"),
    path("localities/", views.localities, name="localities"),
    path("localities/<int:pk>/", views.locality_set, name="locality_set"),
    path("report/", views.report, name="report"),
    path("report.xlsx", views.report_xlsx, name="report_xlsx"),
]

"""Sales through the escrow (/sales/, namespace "sales"): the institution's side (list, new,
detail, cancel), the parent's side (mine, offer, pay) and the sandbox gateway's page and
callback for a sale's payment."""

from django.urls import path

from institutions import sale_views as views

app_name = "sales"
urlpatterns = [
    path("", views.sale_list, name="list"),
    path("new/", views.sale_new, name="new"),
    path("<int:pk>/", views.sale_detail, name="detail"),
    path("<int:pk>/cancel/", views.sale_cancel, name="cancel"),
    path("mine/", views.parent_list, name="mine"),
    path("offers/<int:pk>/", views.offer, name="offer"),
    path("offers/<int:pk>/pay/", views.pay, name="pay"),
    path("offers/<int:pk>/sandbox/", views.sandbox, name="sandbox"),
    path("notify/<str:provider>/", views.notify, name="notify"),
]

from django.urls import path

from afterschool import funding_views as views

app_name = "funding"
urlpatterns = [
    path("", views.index, name="index"),
    path("subsidy/", views.subsidy, name="subsidy"),
    path("pay/", views.pay, name="pay"),
]

"""Holiday care (/holiday/): parents' weeks, the bureau's host sites, plan items."""

from django.urls import path

from afterschool import holiday_views as views
from afterschool import plan_views

app_name = "holiday"
urlpatterns = [
    path("", views.weeks, name="weeks"),
    path("enrol/", views.enrol, name="enrol"),
    path("enrolments/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("hosts/", views.hosts, name="hosts"),
    path("hosts/new/", views.host_new, name="host_new"),
    path("hosts/<int:pk>/", views.host, name="host"),
    path("hosts/<int:pk>/open/", views.host_open, name="host_open"),
    path("hosts/<int:pk>/close/", views.host_close, name="host_close"),
    # a plan's items (activities): here because afterschool/urls.py is shared
    path("plans/<int:pk>/items/", plan_views.plan_item_add, name="plan_item_add"),
]

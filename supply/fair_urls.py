"""URLs of the matching fair (双向选择会) (included at /fair/ by portal/urls.py, namespace
"fair")."""

from django.urls import path

from supply import fair_views as views

app_name = "fair"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.open_fair, name="open"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/match/", views.run_match, name="match"),
    path("<int:pk>/unmatched/", views.unmatched, name="unmatched"),
    path("<int:pk>/needs/new/", views.need_new, name="need_new"),
    path("needs/<int:pk>/", views.need, name="need"),
    path("needs/<int:pk>/withdraw/", views.need_withdraw, name="need_withdraw"),
    path("<int:pk>/offers/new/", views.offer_new, name="offer_new"),
    path("offers/<int:pk>/", views.offer, name="offer"),
    path("offers/<int:pk>/withdraw/", views.offer_withdraw, name="offer_withdraw"),
]

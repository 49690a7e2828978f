"""URLs of commitment letters (承诺书) (included at /pledges/ by portal/urls.py, namespace
"pledge")."""

from django.urls import path

from governance import pledge_views as views

app_name = "pledge"

urlpatterns = [
    path("templates/", views.templates, name="templates"),
    path("templates/<int:pk>/", views.template_edit, name="template_edit"),
    path("", views.campaigns, name="campaigns"),
    path("<int:pk>/", views.campaign, name="campaign"),
    path("<int:pk>/renew/", views.renew, name="renew"),
    path("mine/", views.mine, name="mine"),
    path("letters/<int:pk>/", views.letter, name="letter"),
    path("letters/<int:pk>/print/", views.print_letter, name="print"),
]

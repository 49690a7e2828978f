from django.urls import path

from cases import views

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("documents/<int:pk>/", views.document_detail, name="document"),
    path("mine/", views.my_cases, name="mine"),
    path("submit/", views.case_submit, name="submit"),
    path("mine/<int:pk>/edit/", views.case_edit, name="edit"),
    path("review/", views.review_list, name="review_list"),
    path("review/<int:pk>/", views.review_case, name="review"),
]

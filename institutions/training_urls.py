"""Pages of 消课 claims and the parent's training purchases, mounted at /training/
(namespace "training"; institutions/claim_views.py)."""

from django.urls import path

from institutions import claim_views as views

app_name = "training"
urlpatterns = [
    path("my/", views.my, name="my"),
    path("purchases/<int:pk>/", views.purchase, name="purchase"),
    path("claims/<int:pk>/confirm/", views.claim_confirm, name="claim_confirm"),
    path("claims/<int:pk>/dispute/", views.claim_dispute, name="claim_dispute"),
    path("claims/", views.claim_list, name="claims"),
    path("courses/<int:pk>/claim/", views.course_claim, name="course_claim"),
]

"""Staff pages of the escrow, included by institutions/urls.py at staff/escrow/ (namespace
"institutions"; every name starts with "escrow_")."""

from django.urls import path

from institutions import escrow_views as views

urlpatterns = [
    path("", views.index, name="escrow_index"),
    path("accounts/<int:pk>/", views.account, name="escrow_account"),
    path("accounts/<int:pk>/statement/", views.statement_upload, name="escrow_statement_upload"),
    path("accounts/<int:pk>/rematch/", views.statement_rematch, name="escrow_rematch"),
    path("lines/<int:pk>/book/", views.line_book, name="escrow_line_book"),
    path("statement-template.csv", views.statement_template, name="escrow_statement_template"),
    path("purchases/<int:pk>/", views.purchase, name="escrow_purchase"),
    path(
        "purchases/<int:pk>/<slug:action>/",
        views.purchase_action,
        name="escrow_purchase_action",
    ),
]

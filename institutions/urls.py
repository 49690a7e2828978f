from django.urls import include, path

from institutions import course_views, excel_views, views

app_name = "institutions"
urlpatterns = [
    path("", views.search, name="search"),
    path("<int:pk>/", views.detail, name="detail"),
    path("board/", views.board, name="board"),
    path("staff/<int:pk>/courses/new/", course_views.course_new, name="course_new"),
    path("staff/courses/<int:pk>/", course_views.course_edit, name="course_edit"),
    path("staff/import/", excel_views.import_view, name="import"),
    path("staff/template.xlsx", excel_views.template_xlsx, name="template"),
    path("staff/export.xlsx", excel_views.export_xlsx, name="export"),
    path("staff/escrow/", include("institutions.escrow_urls")),
]

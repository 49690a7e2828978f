from django.urls import path

from homework import views

app_name = "homework"
urlpatterns = [
    path("homework/", views.class_list, name="classes"),
    path("homework/classes/<int:pk>/week/<str:date>/", views.class_week, name="week"),
    path("homework/classes/<int:pk>/poster/", views.class_poster, name="poster"),
    path("homework/classes/<int:pk>/qr.svg", views.class_qr, name="qr"),
    path("homework/classes/<int:pk>/daily/", views.class_daily_list, name="daily"),
    # after the fixed names above: "<date>" would match "poster" too
    path("homework/classes/<int:pk>/<str:date>/", views.class_day, name="day"),
    path("homework/grades/<int:grade>/week/<str:date>/", views.grade_week, name="grade_week"),
    path("homework/items/<int:pk>/edit/", views.item_edit, name="edit"),
    path("homework/items/<int:pk>/withdraw/", views.item_withdraw, name="withdraw"),
    path("homework/report/", views.report, name="report"),
    path("homework/surveys/", views.surveys, name="surveys"),
    path("homework/surveys/<int:pk>/", views.survey_results, name="survey_results"),
    path("homework/inspections/", views.inspections, name="inspections"),
    path("homework/inspections/issues/<int:pk>/close/", views.issue_close, name="issue_close"),
    path("homework/monthly/", views.monthly, name="monthly"),
    path("homework/monthly.xlsx", views.monthly_xlsx, name="monthly_xlsx"),
    path("h/<str:token>/", views.board, name="board"),
    path("h/<str:token>/week/", views.board_week, name="board_week"),
    path("s/<str:token>/", views.survey_answer, name="survey_answer"),
]

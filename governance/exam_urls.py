"""URLs of the exam calendars (考试安排) (included at /exams/ by portal/urls.py, namespace
"exam")."""

from django.urls import path

from governance import exam_views as views

app_name = "exam"

urlpatterns = [
    path("", views.calendar, name="calendar"),
    path("<int:pk>/delete/", views.delete, name="delete"),
]

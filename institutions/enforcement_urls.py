"""URLs of inspections (专项整治), 约谈, sanctions and 通报 (included at /enforcement/ by
portal/urls.py, namespace "enforcement")."""

from django.urls import path

from institutions import enforcement_views as v

app_name = "enforcement"

urlpatterns = [
    # public: the 通报
    path("notices/", v.notices, name="notices"),
    path("notices/<int:pk>/", v.notice, name="notice"),
    # bureau staff of the training line
    path("staff/", v.rounds, name="rounds"),
    path("staff/rounds/<int:pk>/", v.round_view, name="round"),
    path("staff/rounds/<int:pk>/draw/", v.round_draw, name="round_draw"),
    path("staff/institutions/<int:pk>/", v.institution, name="institution"),
    path("staff/institutions/<int:pk>/visit/", v.visit_new, name="visit_new"),
    path("staff/institutions/<int:pk>/interview/", v.interview_new, name="interview_new"),
    path("staff/institutions/<int:pk>/sanction/", v.sanction_new, name="sanction_new"),
    path("staff/sanctions/<int:pk>/close/", v.sanction_close, name="sanction_close"),
    path("staff/patrols/", v.patrols, name="patrols"),
    path("staff/notices/new/", v.notice_new, name="notice_new"),
    path("staff/photos/<int:pk>/", v.photo, name="photo"),
]

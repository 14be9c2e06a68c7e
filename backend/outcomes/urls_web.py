from django.urls import path

from backend.outcomes import views

urlpatterns = [
    path("outcomes/", views.outcomes_home, name="outcomes-home"),
    path("caseload/", views.caseload_dashboard, name="caseload-dashboard"),
    path("outcomes/people/<int:service_user_id>/", views.person_outcomes, name="person-outcomes"),
    path("outcomes/people/<int:service_user_id>/courses/", views.course_start, name="course-start"),
    path("outcomes/courses/<int:course_id>/end/", views.course_end, name="course-end-web"),
    path("outcomes/risk-flags/<int:flag_id>/acknowledge/", views.acknowledge_flag, name="risk-flag-acknowledge-web"),
    path("outcomes/appointments/<int:appointment_id>/questionnaires/<slug:code>/", views.questionnaire, name="questionnaire"),
]

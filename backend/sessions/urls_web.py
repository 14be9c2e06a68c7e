from django.urls import path

from backend.sessions import views

urlpatterns = [
    path("appointments/", views.appointments_page, name="appointments-page"),
    path("appointments/<int:appointment_id>/choice/", views.appointment_choose, name="appointment-choose-web"),
    path("people/<int:service_user_id>/", views.person_page, name="person-page"),
    path("join/<str:token>/", views.join_link, name="join-link"),
    path("connection-test/", views.connection_test, name="connection-test"),
    path("sessions/<int:appointment_id>/", views.session_call, name="session-call"),
]

from django.urls import path

from backend.sessions import views

urlpatterns = [
    path("appointments/", views.appointments_page, name="appointments-page"),
    path("appointments/book/", views.book_page, name="book-appointment"),
    path("appointments/week/", views.week_page, name="appointments-week"),
    path("appointments/<int:appointment_id>/", views.appointment_page, name="appointment-page"),
    path("appointments/<int:appointment_id>/choice/", views.appointment_choose, name="appointment-choose-web"),
    path("appointments/<int:appointment_id>/reschedule/", views.appointment_reschedule_web, name="appointment-reschedule-web"),
    path("appointments/<int:appointment_id>/cancel/", views.appointment_cancel_web, name="appointment-cancel-web"),
    path("appointments/<int:appointment_id>/join-link/", views.appointment_join_link_web, name="appointment-join-link-web"),
    path("appointments/<int:appointment_id>/rearrange/", views.appointment_rearrange, name="appointment-rearrange-web"),
    path("appointments/<int:appointment_id>/calendar.ics", views.appointment_calendar, name="appointment-calendar"),
    path("people/<int:service_user_id>/", views.person_page, name="person-page"),
    path("join/<str:token>/", views.join_link, name="join-link"),
    path("connection-test/", views.connection_test, name="connection-test"),
    path("sessions/<int:appointment_id>/", views.session_call, name="session-call"),
    path("sessions/<int:appointment_id>/people/", views.session_people, name="session-people"),
    path("sessions/<int:appointment_id>/phone/", views.session_phone, name="session-phone"),
    path("sessions/<int:appointment_id>/step-back/", views.session_step_back, name="session-step-back"),
    path("waiting-area/", views.waiting_area_page, name="waiting-area-page"),
    path("waiting-area/<int:appointment_id>/admit/<int:user_id>/", views.waiting_area_admit, name="waiting-area-admit"),
    path("waiting-area/<int:appointment_id>/hold/<int:user_id>/", views.waiting_area_hold, name="waiting-area-hold"),
    path("waiting-area/<int:appointment_id>/message/", views.waiting_area_message, name="waiting-area-message"),
]

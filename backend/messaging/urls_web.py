from django.urls import path

from backend.messaging import views

urlpatterns = [
    path("appointments/<int:appointment_id>/sent-messages/", views.appointment_messages_page, name="appointment-messages-page"),
    path("people/<int:service_user_id>/sent-messages/", views.person_messages_page, name="person-messages-page"),
    path("messaging/notify/callback/", views.notify_callback, name="notify-callback"),
    path("contact/", views.contact, name="contact-preferences"),
    path("people/<int:service_user_id>/contact/", views.person_contact, name="person-contact"),
    path("q/<str:token>/", views.questionnaire_link, name="questionnaire-link"),
]

from django.urls import path

from backend.messaging import apis

urlpatterns = [
    path("appointments/<int:appointment_id>/sent-messages/", apis.AppointmentMessagesApi.as_view(), name="appointment-sent-messages"),
    path("service-users/<int:service_user_id>/sent-messages/", apis.ServiceUserMessagesApi.as_view(), name="service-user-sent-messages"),
]

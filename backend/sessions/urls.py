from django.urls import path

from backend.sessions import apis

urlpatterns = [
    path("appointments/", apis.AppointmentListApi.as_view(), name="appointment-list"),
    path("appointments/<int:appointment_id>/", apis.AppointmentDetailApi.as_view(), name="appointment-detail"),
    path("appointments/<int:appointment_id>/history/", apis.AppointmentHistoryApi.as_view(), name="appointment-history"),
    path("appointments/<int:appointment_id>/choice/", apis.AppointmentChoiceApi.as_view(), name="appointment-choice"),
    path("appointments/<int:appointment_id>/delivery/", apis.AppointmentDeliveryApi.as_view(), name="appointment-delivery"),
    path("teams/<int:team_id>/session-settings/", apis.TeamSessionSettingsApi.as_view(), name="team-session-settings"),
]

from django.urls import path

from backend.sessions import apis

urlpatterns = [
    path("appointments/", apis.AppointmentListApi.as_view(), name="appointment-list"),
    path("appointments/<int:appointment_id>/", apis.AppointmentDetailApi.as_view(), name="appointment-detail"),
    path("appointments/<int:appointment_id>/history/", apis.AppointmentHistoryApi.as_view(), name="appointment-history"),
    path("appointments/<int:appointment_id>/choice/", apis.AppointmentChoiceApi.as_view(), name="appointment-choice"),
    path("appointments/<int:appointment_id>/delivery/", apis.AppointmentDeliveryApi.as_view(), name="appointment-delivery"),
    path("appointments/<int:appointment_id>/safety-checks/", apis.SafetyCheckApi.as_view(), name="appointment-safety-checks"),
    path("appointments/<int:appointment_id>/waiting-room/", apis.WaitingRoomApi.as_view(), name="appointment-waiting-room"),
    path("appointments/<int:appointment_id>/start/", apis.SessionStartApi.as_view(), name="appointment-start"),
    path("appointments/<int:appointment_id>/admit/", apis.AdmitApi.as_view(), name="appointment-admit"),
    path("appointments/<int:appointment_id>/participants/", apis.ParticipantListApi.as_view(), name="appointment-participants"),
    path("appointments/<int:appointment_id>/participants/<int:user_id>/move/", apis.ParticipantMoveApi.as_view(), name="appointment-participant-move"),
    path("appointments/<int:appointment_id>/participants/<int:user_id>/remove/", apis.ParticipantRemoveApi.as_view(), name="appointment-participant-remove"),
    path("appointments/<int:appointment_id>/invite/", apis.InviteApi.as_view(), name="appointment-invite"),
    path("appointments/<int:appointment_id>/end/", apis.SessionEndApi.as_view(), name="appointment-end"),
    path("appointments/<int:appointment_id>/cancel/", apis.CancelApi.as_view(), name="appointment-cancel"),
    path("appointments/<int:appointment_id>/did-not-attend/", apis.DidNotAttendApi.as_view(), name="appointment-did-not-attend"),
    path("appointments/<int:appointment_id>/switch/", apis.SwitchApi.as_view(), name="appointment-switch"),
    path("appointments/<int:appointment_id>/ice-servers/", apis.IceServersApi.as_view(), name="appointment-ice-servers"),
    path("appointments/<int:appointment_id>/join-links/", apis.JoinLinkApi.as_view(), name="appointment-join-links"),
    path("appointments/<int:appointment_id>/phone-calls/", apis.PhoneCallListApi.as_view(), name="appointment-phone-calls"),
    path("appointments/<int:appointment_id>/phone-calls/end/", apis.PhoneCallEndApi.as_view(), name="appointment-phone-call-end"),
    path("appointments/<int:appointment_id>/telemetry/", apis.TelemetryApi.as_view(), name="appointment-telemetry"),
    path("appointments/<int:appointment_id>/connection-summary/", apis.ConnectionSummaryApi.as_view(), name="appointment-connection-summary"),
    path("appointments/<int:appointment_id>/planned-last/", apis.PlannedLastApi.as_view(), name="appointment-planned-last"),
    path("courses/", apis.CourseListApi.as_view(), name="course-list"),
    path("courses/<int:course_id>/", apis.CourseDetailApi.as_view(), name="course-detail"),
    path("courses/<int:course_id>/end/", apis.CourseEndApi.as_view(), name="course-end"),
    path("teams/<int:team_id>/session-settings/", apis.TeamSessionSettingsApi.as_view(), name="team-session-settings"),
]

from django.urls import path

from backend.outcomes import apis

urlpatterns = [
    path("instruments/", apis.InstrumentListApi.as_view(), name="instrument-list"),
    path("caseload-dashboard/", apis.CaseloadDashboardApi.as_view(), name="caseload-dashboard-api"),
    path("instruments/<slug:code>/", apis.InstrumentDetailApi.as_view(), name="instrument-detail"),
    path("instruments/<slug:code>/retire/", apis.InstrumentRetireApi.as_view(), name="instrument-retire"),
    path("teams/<int:team_id>/measure-schedules/", apis.ScheduleListApi.as_view(), name="measure-schedule-list"),
    path("teams/<int:team_id>/measure-schedules/<int:schedule_id>/", apis.ScheduleDetailApi.as_view(), name="measure-schedule-detail"),
    path("appointments/<int:appointment_id>/questionnaires-due/", apis.DueApi.as_view(), name="appointment-questionnaires-due"),
    path("responses/", apis.ResponseListApi.as_view(), name="response-list"),
    path("responses/<int:response_id>/", apis.ResponseDetailApi.as_view(), name="response-detail"),
    path("service-users/<int:service_user_id>/outcomes/", apis.TrajectoryApi.as_view(), name="outcome-trajectories"),
    path("courses/<int:course_id>/paired-outcome/", apis.PairedOutcomeApi.as_view(), name="course-paired-outcome"),
    path("risk-flags/", apis.RiskFlagListApi.as_view(), name="risk-flag-list"),
    path("risk-flags/<int:flag_id>/acknowledge/", apis.RiskFlagAcknowledgeApi.as_view(), name="risk-flag-acknowledge"),
    path("outcomes/imports/", apis.ImportApi.as_view(), name="outcome-import"),
]

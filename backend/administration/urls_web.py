from django.urls import path

from backend.administration import views

urlpatterns = [
    path("administration/teams/", views.teams, name="admin-teams"),
    path("administration/teams/<int:team_id>/", views.team, name="admin-team"),
    path("administration/teams/<int:team_id>/details/", views.team_update, name="admin-team-update"),
    path("administration/teams/<int:team_id>/settings/", views.team_settings, name="admin-team-settings"),
    path("administration/teams/<int:team_id>/schedules/", views.schedule_add, name="admin-schedule-add"),
    path("administration/teams/<int:team_id>/schedules/<int:schedule_id>/remove/", views.schedule_remove, name="admin-schedule-remove"),
    path("administration/teams/<int:team_id>/members/", views.team_member_add, name="admin-team-member-add"),
    path("administration/teams/<int:team_id>/members/<int:user_id>/remove/", views.team_member_remove, name="admin-team-member-remove"),
    path("administration/teams/<int:team_id>/caseload/", views.caseload_add, name="admin-caseload-add"),
    path("administration/teams/<int:team_id>/caseload/<int:user_id>/remove/", views.caseload_remove, name="admin-caseload-remove"),
    path("administration/staff/", views.staff, name="admin-staff"),
    path("administration/staff/<int:user_id>/", views.staff_member, name="admin-staff-member"),
    path("administration/staff/<int:user_id>/details/", views.staff_update, name="admin-staff-update"),
    path("administration/staff/<int:user_id>/teams/", views.staff_team_add, name="admin-staff-team-add"),
    path("administration/staff/<int:user_id>/deactivate/", views.staff_active, {"active": False}, name="admin-staff-deactivate"),
    path("administration/staff/<int:user_id>/reactivate/", views.staff_active, {"active": True}, name="admin-staff-reactivate"),
    path("administration/people/", views.people, name="admin-people"),
    path("administration/people/<int:user_id>/", views.person, name="admin-person"),
    path("administration/people/<int:user_id>/caseload/", views.person_caseload_add, name="admin-person-caseload-add"),
    path("administration/consent/", views.consent, name="admin-consent"),
    path("administration/consent/<slug:code>/", views.consent_purpose, name="admin-consent-purpose"),
    path("administration/questionnaires/", views.questionnaires, name="admin-questionnaires"),
    path("administration/questionnaires/<slug:code>/retire/", views.questionnaire_retire, name="admin-questionnaire-retire"),
    path("administration/import/", views.import_page, name="admin-import"),
    path("administration/audit/", views.audit, name="admin-audit"),
    path("administration/audit/chain-check/", views.audit_chain_check, name="admin-audit-chain-check"),
    path("administration/exports/", views.export_log, name="admin-exports"),
]

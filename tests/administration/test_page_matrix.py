"""Every admin page against every role: one table, so an admin page without a rule fails.

Admins (of the world's organisation) get the page; every other role gets the 403 page that says who it
is for; anonymous visitors are sent to log in. An admin of another organisation gets 404 for each of
the world's teams, staff and service users, so the page reveals nothing about them.
"""

import pytest

ROLES = ["anonymous", "clinician", "peer_worker", "service_user", "carer", "evaluator", "admin"]

# (url name, method): (url builder, form data builder, admin's status). POSTs with no data re-render
# the page with its problems (400) or act and redirect (302).
PAGES = {
    ("admin-teams", "get"): (lambda w: "/administration/teams/", None, 200),
    ("admin-teams", "post"): (lambda w: "/administration/teams/", lambda w: {"name": "East", "service": "Crisis", "site": "York"}, 302),
    ("admin-team", "get"): (lambda w: f"/administration/teams/{w.north.pk}/", None, 200),
    ("admin-team-update", "post"): (lambda w: f"/administration/teams/{w.north.pk}/details/",
                                    lambda w: {"name": "North", "service": "Talking therapies", "site": "Bradford"}, 302),
    ("admin-team-settings", "post"): (lambda w: f"/administration/teams/{w.north.pk}/settings/", lambda w: {"choice_cutoff_hours": "12"}, 302),
    ("admin-team-group-settings", "post"): (lambda w: f"/administration/teams/{w.north.pk}/groups/", lambda w: {"safety_check": "attendee"}, 302),
    ("admin-schedule-add", "post"): (lambda w: f"/administration/teams/{w.north.pk}/schedules/",
                                     lambda w: {"instrument": "phq9", "when": "every_session"}, 302),
    ("admin-schedule-remove", "post"): (lambda w: f"/administration/teams/{w.north.pk}/schedules/999999/remove/", None, 404),
    ("admin-team-member-add", "post"): (lambda w: f"/administration/teams/{w.north.pk}/members/", lambda w: {"person": w.other_clinician.pk}, 302),
    ("admin-team-member-remove", "post"): (lambda w: f"/administration/teams/{w.north.pk}/members/{w.peer_worker.pk}/remove/", None, 302),
    ("admin-caseload-add", "post"): (lambda w: f"/administration/teams/{w.north.pk}/caseload/", lambda w: {"person": w.other_service_user.pk}, 302),
    ("admin-caseload-remove", "post"): (lambda w: f"/administration/teams/{w.north.pk}/caseload/{w.service_user.pk}/remove/", None, 302),
    ("admin-staff", "get"): (lambda w: "/administration/staff/", None, 200),
    ("admin-staff", "post"): (lambda w: "/administration/staff/",
                              lambda w: {"full_name": "Nia New", "email": "nia.new@example.test", "role": "clinician"}, 302),
    ("admin-staff-member", "get"): (lambda w: f"/administration/staff/{w.clinician.pk}/", None, 200),
    ("admin-staff-update", "post"): (lambda w: f"/administration/staff/{w.clinician.pk}/details/",
                                     lambda w: {"full_name": "Renamed Clinician", "role": "clinician"}, 302),
    ("admin-staff-team-add", "post"): (lambda w: f"/administration/staff/{w.clinician.pk}/teams/", lambda w: {"team": w.south.pk}, 302),
    ("admin-staff-deactivate", "post"): (lambda w: f"/administration/staff/{w.other_clinician.pk}/deactivate/", None, 302),
    ("admin-staff-reactivate", "post"): (lambda w: f"/administration/staff/{w.other_clinician.pk}/reactivate/", None, 302),
    # The world's accounts have no login yet, so the invitation is sent (pytest-django's outbox).
    ("admin-staff-invite", "post"): (lambda w: f"/administration/staff/{w.clinician.pk}/invite/", lambda w: {"email": w.clinician.email}, 302),
    ("admin-person-invite", "post"): (lambda w: f"/administration/people/{w.service_user.pk}/invite/", lambda w: {"email": w.service_user.email}, 302),
    # With no app set up, the reset still answers with the staff page (nothing to remove).
    ("admin-staff-two-factor-reset", "post"): (lambda w: f"/administration/staff/{w.clinician.pk}/two-factor/reset/", None, 302),
    ("admin-people", "get"): (lambda w: "/administration/people/", None, 200),
    ("admin-people", "post"): (lambda w: "/administration/people/", lambda w: {"full_name": "Sam New", "email": "sam.new@example.test"}, 302),
    ("admin-person", "get"): (lambda w: f"/administration/people/{w.service_user.pk}/", None, 200),
    ("admin-person-caseload-add", "post"): (lambda w: f"/administration/people/{w.service_user.pk}/caseload/", lambda w: {"team": w.south.pk}, 302),
    ("admin-consent", "get"): (lambda w: "/administration/consent/", None, 200),
    ("admin-consent", "post"): (lambda w: "/administration/consent/", lambda w: {}, 400),
    ("admin-consent-purpose", "get"): (lambda w: "/administration/consent/video/", None, 200),
    ("admin-consent-purpose", "post"): (lambda w: "/administration/consent/video/", lambda w: {"text": "New words.", "effective_from": "2099-01-01"}, 302),
    ("admin-questionnaires", "get"): (lambda w: "/administration/questionnaires/", None, 200),
    ("admin-questionnaires", "post"): (lambda w: "/administration/questionnaires/", lambda w: {}, 400),
    ("admin-questionnaire-retire", "post"): (lambda w: "/administration/questionnaires/phq9/retire/", None, 404),  # published: not theirs to retire
    ("admin-import", "get"): (lambda w: "/administration/import/", None, 200),
    ("admin-import", "post"): (lambda w: "/administration/import/", lambda w: {"team": w.north.pk}, 400),  # no file
    ("admin-audit", "get"): (lambda w: "/administration/audit/", None, 200),
    ("admin-audit-chain-check", "post"): (lambda w: "/administration/audit/chain-check/", None, 302),
    ("admin-exports", "get"): (lambda w: "/administration/exports/", None, 200),
    ("admin-resources", "get"): (lambda w: "/administration/resources/", None, 200),
    ("admin-resources", "post"): (lambda w: "/administration/resources/", lambda w: {
        "name": "Park walks", "categories": ["physical_activity"], "scope": "local", "delivery": "in_person", "postcode_district": "LS6",
        "wheelchair_access": "yes", "contact_phone": "0113 496 0000", "last_checked_on": "2026-01-05"}, 302),
    ("admin-resource", "get"): (lambda w: f"/administration/resources/{_resource(w).pk}/", None, 200),
    ("admin-resource", "post"): (lambda w: f"/administration/resources/{_resource(w).pk}/", lambda w: {"is_active": "0"}, 302),
    # A team's messages (backend/administration/messages.py): sender name, banned words, wording with a preview.
    ("admin-team-messages", "get"): (lambda w: f"/administration/teams/{w.north.pk}/messages/", None, 200),
    ("admin-team-messages-settings", "post"): (lambda w: f"/administration/teams/{w.north.pk}/messages/settings/",
                                               lambda w: {"sender_name": "Leeds NHS", "reminder_days": "7, 1", "caller_number_kind": "a withheld number",
                                                          "questionnaire_days_before": "3", "nudge_hours_before": "24"}, 302),
    ("admin-banned-word-add", "post"): (lambda w: f"/administration/teams/{w.north.pk}/messages/banned-words/", lambda w: {"word": "ward 7"}, 302),
    ("admin-banned-word-remove", "post"): (lambda w: f"/administration/teams/{w.north.pk}/messages/banned-words/999999/remove/", None, 404),
    ("admin-team-message-template", "get"): (lambda w: f"/administration/teams/{w.north.pk}/messages/reminder/sms/", None, 200),
    ("admin-team-message-template", "post"): (lambda w: f"/administration/teams/{w.north.pk}/messages/reminder/sms/",
                                              lambda w: {"kind": "reminder", "channel": "sms", "body": "Your PHQ-9 {when}", "action": "save"}, 400),
    # The organisation's senders (backend/administration/messages.py): Notify, SMTP or the console per channel.
    ("admin-message-senders", "get"): (lambda w: "/administration/messages/", None, 200),
    ("admin-message-senders", "post"): (lambda w: "/administration/messages/", lambda w: {
        "sms_sender": "notify", "email_sender": "smtp", "notify_key_variable": "NOTIFY_API_KEY_NORTH",
        "notify_sms_template_id": "f33517ff-2a88-4f6e-b855-c550268ce08a", "notify_email_template_id": ""}, 302),
}


def _resource(world):
    """One entry in the world's directory (made once per world)."""
    from tests.network.helpers import resource

    return resource(world)

# Pages naming one of the world's objects: another organisation's admin gets 404 for each.
CROSS_ORGANISATION = [route for route in PAGES if any(part in PAGES[route][0].__code__.co_names for part in ("north", "clinician", "other_clinician", "peer_worker", "service_user", "_resource"))]


def test_every_admin_page_has_a_row():
    from backend.administration import urls_web

    names = {pattern.name for pattern in urls_web.urlpatterns}
    assert names == {name for name, _ in PAGES}, f"Add rows for: {sorted(names - {n for n, _ in PAGES})}"


@pytest.mark.parametrize("route", sorted(PAGES), ids=lambda r: f"{r[1].upper()} {r[0]}")
def test_each_role_against_admin_page(world, route):
    """Every role in turn (one world per page: building it is the slow part), the admin last."""
    from django.test import Client

    url, data, admin_status = PAGES[route]
    for role in ROLES:
        client, user = Client(), world.as_role(role)
        if user is not None:
            client.force_login(user)
        response = getattr(client, route[1])(url(world), data(world) if data else {})
        if role == "anonymous":
            assert response.status_code == 302 and response["Location"].startswith("/login/?next="), role
        elif role == "admin":
            assert response.status_code == admin_status, response.content.decode()[:2000]
        else:
            assert response.status_code == 403, role
            assert "This page is for administrators" in response.content.decode()


@pytest.mark.parametrize("route", sorted(CROSS_ORGANISATION), ids=lambda r: f"{r[1].upper()} {r[0]}")
def test_another_organisations_admin_gets_404(world, elsewhere, client, route):
    url, data, _ = PAGES[route]
    client.force_login(elsewhere.admin)
    response = getattr(client, route[1])(url(world), data(world) if data else {})
    assert response.status_code == 404


def test_cross_organisation_rows_cover_every_page_naming_an_object():
    assert {name for name, _ in CROSS_ORGANISATION} >= {
        "admin-team", "admin-team-update", "admin-team-settings", "admin-schedule-add", "admin-team-member-add",
        "admin-team-member-remove", "admin-caseload-add", "admin-caseload-remove", "admin-staff-member", "admin-staff-update",
        "admin-staff-team-add", "admin-staff-deactivate", "admin-staff-invite", "admin-person-invite", "admin-staff-reactivate", "admin-person", "admin-person-caseload-add",
        "admin-staff-two-factor-reset", "admin-team-group-settings",
    }

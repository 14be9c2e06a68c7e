"""Every role against every API endpoint: one table, so an endpoint without a rule fails.

The world (tests/factories.py) has two teams; the acting service user is on North's caseload, the
clinician and peer worker are in North, the carer is linked to the service user. Objects named in a
URL belong to North unless the row says otherwise, so the statuses test role rules, and
tests/accounts/test_object_access.py tests the object rules across teams, and
tests/accounts/test_organisations.py across organisations (every cross-organisation case).
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

ROLES = ["anonymous", "clinician", "peer_worker", "service_user", "carer", "evaluator", "admin"]


def _statuses(default: int, **overrides) -> dict[str, int]:
    return {"anonymous": 401, **{role: default for role in ROLES[1:]}, **overrides}


ALL_OK = _statuses(200)


def _rw(world):
    from tests.relatives.helpers import relatives_world

    return relatives_world(world)


def _cw(world):
    from tests.college.helpers import college_world

    return college_world(world)


def _run_body(w):
    from django.utils import timezone

    cw = _cw(w)
    return {"course_id": cw.course.pk, "term_id": cw.term.pk, "team_id": w.north.pk, "delivery": "online",
            "first_session_at": (timezone.now() + timezone.timedelta(days=3)).isoformat()}


ADMIN_ONLY_READ = _statuses(403, admin=200)
COLLEGE_STAFF = dict(clinician=200, peer_worker=200, admin=200)
COLLEGE_STAFF_201 = dict(clinician=201, peer_worker=201, admin=201)
# A person's connection map: themselves, their care team (shared), and a carer they share it with (reads only).
MAP_READ = _statuses(403, clinician=200, peer_worker=200, service_user=200, carer=200)
MAP_WRITE_200 = _statuses(403, clinician=200, peer_worker=200, service_user=200)
MAP_WRITE_201 = _statuses(403, clinician=201, peer_worker=201, service_user=201)

# (url name, method): (url builder, body builder, expected status per role)
MATRIX = {
    ("me", "get"): (lambda w: "/api/v1/me/", None, ALL_OK),
    ("me", "patch"): (lambda w: "/api/v1/me/", lambda w: {"preferred_name": "Sam"}, ALL_OK),
    # A link goes to the new address; the change itself is tested in test_account.py.
    ("me-email", "post"): (lambda w: "/api/v1/me/email/", lambda w: {"email": "brand.new.address@example.test"}, _statuses(202)),
    ("auth-logout", "post"): (lambda w: "/api/v1/auth/logout/", None, _statuses(204)),
    # Your own password: everyone logged in may try; a wrong current password is 400 (tests/accounts/test_invitations.py).
    ("me-password", "post"): (lambda w: "/api/v1/me/password/", lambda w: {"old_password": "wrong", "new_password": "Long-enough-pass-42"}, _statuses(400)),
    # Admins invite and reset two-factor sign-in within their organisation (other organisations: 404, test_invitations.py, test_two_factor.py).
    ("user-invitation", "post"): (lambda w: f"/api/v1/users/{w.service_user.pk}/invitation/", lambda w: {}, _statuses(403, admin=202)),
    # A person's own records: themselves, or their organisation's admin (subject access); other organisations 404 (test_records.py).
    ("service-user-records", "get"): (lambda w: f"/api/v1/service-users/{w.service_user.pk}/records/", None, _statuses(403, service_user=200, admin=200)),
    ("user-two-factor-reset", "post"): (lambda w: f"/api/v1/users/{w.clinician.pk}/two-factor/reset/", None, _statuses(403, admin=204)),
    ("user-list", "get"): (lambda w: "/api/v1/users/", None, ADMIN_ONLY_READ),
    ("user-list", "post"): (
        lambda w: "/api/v1/users/",
        lambda w: {"email": "new.person@example.test", "full_name": "New Person", "role": "clinician", "password": "Long-enough-pass-42"},
        _statuses(403, admin=201),
    ),
    ("user-detail", "get"): (lambda w: f"/api/v1/users/{w.service_user.pk}/", None, ADMIN_ONLY_READ),
    ("user-detail", "patch"): (lambda w: f"/api/v1/users/{w.service_user.pk}/", lambda w: {"preferred_name": "Jo"}, ADMIN_ONLY_READ),
    ("user-history", "get"): (lambda w: f"/api/v1/users/{w.service_user.pk}/history/", None, ADMIN_ONLY_READ),
    ("organisation-list", "get"): (lambda w: "/api/v1/organisations/", None, ADMIN_ONLY_READ),
    ("organisation-detail", "get"): (lambda w: f"/api/v1/organisations/{w.organisation.pk}/", None, ADMIN_ONLY_READ),
    ("organisation-detail", "patch"): (
        lambda w: f"/api/v1/organisations/{w.organisation.pk}/", lambda w: {"name": "Renamed Trust"}, ADMIN_ONLY_READ
    ),
    ("team-list", "get"): (lambda w: "/api/v1/teams/", None, ALL_OK),
    ("team-list", "post"): (
        lambda w: "/api/v1/teams/",
        lambda w: {"organisation_id": w.organisation.pk, "name": "East", "service": "Crisis", "site": "York"},
        _statuses(403, admin=201),
    ),
    ("team-detail", "get"): (lambda w: f"/api/v1/teams/{w.north.pk}/", None, _statuses(200, carer=404)),
    ("team-detail", "patch"): (lambda w: f"/api/v1/teams/{w.north.pk}/", lambda w: {"site": "Bradford"}, ADMIN_ONLY_READ),
    ("team-member-list", "get"): (
        lambda w: f"/api/v1/teams/{w.north.pk}/members/", None, _statuses(403, clinician=200, peer_worker=200, admin=200)
    ),
    ("team-member-list", "post"): (
        lambda w: f"/api/v1/teams/{w.north.pk}/members/", lambda w: {"user_id": w.other_clinician.pk}, _statuses(403, admin=201)
    ),
    ("team-member-detail", "delete"): (
        lambda w: f"/api/v1/teams/{w.north.pk}/members/{w.peer_worker.pk}/", None, _statuses(403, admin=204)
    ),
    ("caseload-list", "get"): (
        lambda w: f"/api/v1/teams/{w.north.pk}/caseload/", None, _statuses(403, clinician=200, peer_worker=200, admin=200)
    ),
    ("caseload-list", "post"): (
        lambda w: f"/api/v1/teams/{w.north.pk}/caseload/",
        lambda w: {"service_user_id": w.other_service_user.pk},
        _statuses(403, clinician=201, admin=201),
    ),
    ("caseload-detail", "delete"): (
        lambda w: f"/api/v1/teams/{w.north.pk}/caseload/{w.service_user.pk}/", None, _statuses(403, clinician=204, admin=204)
    ),
    ("registration-list", "get"): (lambda w: "/api/v1/registrations/", None, ADMIN_ONLY_READ),
    ("registration-list", "post"): (
        lambda w: "/api/v1/registrations/", lambda w: {"service_user_id": w.service_user.pk},
        _statuses(403, admin=409),  # already registered with the admin's organisation (tests/accounts/test_organisations.py)
    ),
    ("service-user-list", "get"): (lambda w: "/api/v1/service-users/", None, _statuses(200, carer=403, evaluator=403)),
    ("service-user-detail", "get"): (
        lambda w: f"/api/v1/service-users/{w.service_user.pk}/", None, _statuses(200, carer=403, evaluator=403)
    ),
    ("carer-link-list", "get"): (lambda w: "/api/v1/carer-links/", None, _statuses(200, evaluator=403)),
    ("carer-link-list", "post"): (
        lambda w: "/api/v1/carer-links/",
        lambda w: {"carer_email": w.unlinked_carer.email, "relationship": "friend"},
        _statuses(403, service_user=201),
    ),
    ("carer-link-accept", "post"): (
        lambda w: f"/api/v1/carer-links/{w.carer_link.pk}/accept/", None, _statuses(403, carer=409)  # accepted already in the world
    ),
    ("carer-link-decline", "post"): (
        lambda w: f"/api/v1/carer-links/{w.carer_link.pk}/decline/", None, _statuses(403, carer=409)
    ),
    ("carer-link-end", "post"): (
        lambda w: f"/api/v1/carer-links/{w.carer_link.pk}/end/", None, _statuses(403, service_user=200, carer=200, admin=200)
    ),
    # --- consent ---
    ("consent-purpose-list", "get"): (lambda w: "/api/v1/consent/purposes/", None, ALL_OK),
    ("consent-purpose-list", "post"): (
        lambda w: "/api/v1/consent/purposes/",
        lambda w: {"code": "research_contact", "name": "Being contacted about research", "description": "Plain words."},
        _statuses(403, admin=201),
    ),
    ("consent-wording-list", "get"): (lambda w: "/api/v1/consent/purposes/video/wordings/", None, ALL_OK),
    ("consent-wording-list", "post"): (
        lambda w: "/api/v1/consent/purposes/video/wordings/",
        lambda w: {"text": "New words.", "effective_from": "2099-01-01"},
        _statuses(403, admin=201),
    ),
    ("modality-reason-list", "get"): (lambda w: "/api/v1/consent/reason-codes/", None, ALL_OK),
    ("consent-state", "get"): (
        lambda w: f"/api/v1/service-users/{w.service_user.pk}/consent/", None, _statuses(403, clinician=200, peer_worker=200, service_user=200)
    ),
    ("consent-state", "post"): (
        lambda w: f"/api/v1/service-users/{w.service_user.pk}/consent/",
        lambda w: {"purpose": "evaluation", "decision": "given", "wording_version": 1, "note": "By phone today."},
        _statuses(403, clinician=201, service_user=201),
    ),
    ("consent-history", "get"): (
        lambda w: f"/api/v1/service-users/{w.service_user.pk}/consent/history/", None,
        _statuses(403, clinician=200, peer_worker=200, service_user=200),
    ),
    ("preference", "get"): (
        lambda w: f"/api/v1/service-users/{w.service_user.pk}/preference/", None, _statuses(403, clinician=200, peer_worker=200, service_user=200)
    ),
    ("preference", "post"): (
        lambda w: f"/api/v1/service-users/{w.service_user.pk}/preference/",
        lambda w: {"ranking": ["phone", "face_to_face", "video"], "reasons": ["no_private_space"], "has_suitable_device": "yes",
                   "has_enough_data": "yes", "has_private_space": "no", "confident_using": "unsure"},
        _statuses(403, clinician=201, peer_worker=201, service_user=201),
    ),
    ("preference-history", "get"): (
        lambda w: f"/api/v1/service-users/{w.service_user.pk}/preference/history/", None,
        _statuses(403, clinician=200, peer_worker=200, service_user=200),
    ),
    # --- appointments ---
    ("appointment-list", "get"): (lambda w: "/api/v1/appointments/", None, _statuses(200, evaluator=403, admin=403)),
    ("appointment-list", "post"): (
        lambda w: "/api/v1/appointments/",
        lambda w: {"service_user_id": w.service_user.pk, "team_id": w.north.pk, "starts_at": "2099-05-01T10:00:00Z",
                   "modalities_offered": ["video", "face_to_face"]},
        _statuses(403, clinician=201, peer_worker=201),
    ),
    ("appointment-series", "post"): (
        lambda w: "/api/v1/appointments/series/",
        lambda w: {"service_user_id": w.service_user.pk, "team_id": w.north.pk, "starts_at": "2099-05-01T10:00:00Z",
                   "modalities_offered": ["face_to_face"], "frequency": "weekly", "count": 2},
        _statuses(403, clinician=201, peer_worker=201),
    ),
    ("appointment-reschedule", "post"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/reschedule/",
        lambda w: {"starts_at": "2099-06-01T10:00:00Z", "reason": "The clinic room is closed."},
        _statuses(403, clinician=200, peer_worker=200),
    ),
    ("appointment-rearrange-request", "post"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/rearrange-requests/", lambda w: {"reason": "I am away that week."},
        _statuses(403, service_user=201),
    ),
    ("rearrange-request-list", "get"): (
        lambda w: "/api/v1/rearrange-requests/", None, _statuses(403, clinician=200, peer_worker=200, service_user=200)
    ),
    ("appointment-detail", "get"): (lambda w: f"/api/v1/appointments/{w.appointment.pk}/", None, _statuses(200, evaluator=403, admin=403)),
    ("appointment-history", "get"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/history/", None, _statuses(403, clinician=200, peer_worker=200, service_user=200)
    ),
    ("appointment-choice", "post"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/choice/", lambda w: {"modality": "face_to_face"}, _statuses(403, service_user=200)
    ),
    ("appointment-delivery", "post"): (
        lambda w: f"/api/v1/appointments/{w.past_appointment.pk}/delivery/",
        lambda w: {"modality": "face_to_face", "reason": "not_chosen_in_time"},
        _statuses(403, clinician=200, peer_worker=200),
    ),
    # --- running a session (object state is set up in tests/sessions; here the role rules) ---
    ("appointment-safety-checks", "get"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/safety-checks/", None, _statuses(403, clinician=200, peer_worker=200)
    ),
    ("appointment-safety-checks", "post"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/safety-checks/",
        lambda w: {"current_location": "At home, 1 High St", "is_private": True, "emergency_contact_confirmed": True, "identity_confirmed": True},
        _statuses(403, clinician=201, peer_worker=201),  # any practitioner of the team may run it (issue 13)
    ),
    ("appointment-waiting-room", "post"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/waiting-room/", None, _statuses(403, service_user=200)  # carer: not invited
    ),
    ("appointment-start", "post"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/start/", lambda w: {"modality": "face_to_face"}, _statuses(403, clinician=200, peer_worker=200)
    ),
    ("appointment-admit", "post"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/admit/", lambda w: {"modality": "face_to_face"}, _statuses(403, clinician=200, peer_worker=200)
    ),
    ("appointment-participants", "get"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/participants/", None,
        _statuses(403, clinician=200, peer_worker=200, service_user=200),
    ),
    ("appointment-participant-move", "post"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/participants/{w.service_user.pk}/move/", lambda w: {"state": "on_hold"},
        _statuses(403, clinician=409, peer_worker=409),  # the team may; nobody is in the session yet
    ),
    ("appointment-participant-remove", "post"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/participants/{w.carer.pk}/remove/", None,
        _statuses(403, clinician=409, peer_worker=409, service_user=409),  # the team or the person may; the carer was not invited
        # (the carer may only step back themselves, and was not invited: 403 as they may not join)
    ),
    ("appointment-invite", "post"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/invite/", lambda w: {"carer_id": w.carer.pk},
        _statuses(403, service_user=201, clinician=201, peer_worker=201),  # the person, or the team running it (consent holds)
    ),
    ("appointment-end", "post"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/end/", None, _statuses(403, clinician=409, peer_worker=409)  # not started yet
    ),
    ("appointment-cancel", "post"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/cancel/", lambda w: {"reason": "Unwell today."},
        _statuses(403, clinician=200, peer_worker=200, service_user=200),
    ),
    ("appointment-did-not-attend", "post"): (
        lambda w: f"/api/v1/appointments/{w.past_appointment.pk}/did-not-attend/", None, _statuses(403, clinician=200, peer_worker=200)
    ),
    ("appointment-switch", "post"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/switch/", lambda w: {"to": "phone", "reason": "video_failed"},
        _statuses(403),  # only people admitted to a running session: nobody here
    ),
    ("appointment-ice-servers", "get"): (
        # TURN credentials for the people taking part only (session_access_for "join"): the host and the
        # person; the team's peer worker and a carer who was not invited may see the appointment, not join it.
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/ice-servers/", None, _statuses(403, clinician=200, peer_worker=200, service_user=200)
    ),
    ("appointment-join-links", "post"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/join-links/", lambda w: {"user_id": w.service_user.pk},
        _statuses(403, clinician=201, peer_worker=201),
    ),
    ("appointment-phone-calls", "get"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/phone-calls/", None, _statuses(403, clinician=200, peer_worker=200)
    ),
    ("appointment-phone-calls", "post"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/phone-calls/", lambda w: {"number": "07400 123456"},
        _statuses(403, clinician=409, peer_worker=409),  # the team may, once the session runs
    ),
    ("appointment-phone-call-end", "post"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/phone-calls/end/", None, _statuses(403, clinician=409, peer_worker=409)
    ),
    ("appointment-telemetry", "post"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/telemetry/", lambda w: {"samples": []},
        # Only participants: the host and the person may join but have not yet (404); the others may not join (403).
        _statuses(403, clinician=404, peer_worker=404, service_user=404),
    ),
    ("appointment-guests", "post"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/guests/",
        lambda w: {"name": "Ana Silva", "guest_role": "interpreter", "language": "Portuguese"},
        _statuses(403, clinician=201, peer_worker=201),
    ),
    ("appointment-messages", "post"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/messages/", lambda w: {"text": "Running five minutes late."},
        _statuses(403, clinician=201, peer_worker=201),
    ),
    ("caseload-dashboard-api", "get"): (lambda w: "/api/v1/caseload-dashboard/", None, _statuses(403, clinician=200, peer_worker=200)),
    ("waiting-area", "get"): (lambda w: "/api/v1/waiting-area/", None, _statuses(403, clinician=200, peer_worker=200)),
    ("service-user-phone-number", "put"): (
        lambda w: f"/api/v1/service-users/{w.service_user.pk}/phone-number/", lambda w: {"phone_number": "07400 123456"},
        _statuses(403, clinician=200, service_user=200),
    ),
    ("appointment-connection-summary", "get"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/connection-summary/", None, _statuses(403, clinician=200, peer_worker=200)
    ),
    ("team-session-settings", "get"): (
        lambda w: f"/api/v1/teams/{w.north.pk}/session-settings/", None, _statuses(403, clinician=200, peer_worker=200, admin=200)
    ),
    ("team-session-settings", "patch"): (
        lambda w: f"/api/v1/teams/{w.north.pk}/session-settings/", lambda w: {"choice_cutoff_hours": 48}, ADMIN_ONLY_READ
    ),
    ("appointment-planned-last", "post"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/planned-last/", None, _statuses(403, clinician=200, peer_worker=200)
    ),
    ("course-list", "get"): (lambda w: "/api/v1/courses/", None, _statuses(403, clinician=200, peer_worker=200, service_user=200)),
    ("course-list", "post"): (
        lambda w: "/api/v1/courses/", lambda w: {"service_user_id": w.service_user.pk, "team_id": w.north.pk},
        _statuses(403, clinician=409, peer_worker=409),  # the world's course is already open
    ),
    ("course-detail", "get"): (
        lambda w: f"/api/v1/courses/{w.course.pk}/", None, _statuses(403, clinician=200, peer_worker=200, service_user=200)
    ),
    ("course-end", "post"): (
        lambda w: f"/api/v1/courses/{w.course.pk}/end/", lambda w: {"reason": "completed"}, _statuses(403, clinician=200, peer_worker=200)
    ),
    ("course-paired-outcome", "get"): (
        lambda w: f"/api/v1/courses/{w.course.pk}/paired-outcome/", None, _statuses(403, clinician=200, peer_worker=200)
    ),
    ("instrument-list", "get"): (lambda w: "/api/v1/instruments/", None, ALL_OK),
    ("instrument-list", "post"): (
        lambda w: "/api/v1/instruments/",
        lambda w: {"organisation_id": w.organisation.pk, "code": "local-check", "name": "Check", "title": "A local check",
                   "stem": "How was it?", "higher_is_worse": False, "options": [{"value": 0, "label": "No"}, {"value": 1, "label": "Yes"}],
                   "items": [{"number": 1, "text": "It helped"}]},
        _statuses(403, admin=201),
    ),
    ("instrument-detail", "get"): (lambda w: "/api/v1/instruments/phq9/", None, ALL_OK),
    ("instrument-retire", "post"): (lambda w: "/api/v1/instruments/wsas/retire/", None, _statuses(403, admin=200)),
    ("measure-schedule-list", "get"): (
        lambda w: f"/api/v1/teams/{w.north.pk}/measure-schedules/", None, _statuses(403, clinician=200, peer_worker=200, admin=200)
    ),
    ("measure-schedule-list", "post"): (
        lambda w: f"/api/v1/teams/{w.north.pk}/measure-schedules/", lambda w: {"instrument": "phq9", "when": "every_session"},
        _statuses(403, admin=201),
    ),
    ("measure-schedule-detail", "delete"): (
        lambda w: f"/api/v1/teams/{w.north.pk}/measure-schedules/999999/", None, _statuses(403, admin=404)
    ),
    ("appointment-questionnaires-due", "get"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/questionnaires-due/", None,
        _statuses(403, clinician=200, peer_worker=200, service_user=200),
    ),
    # What was sent: the appointment's team and the person themselves (other teams: 404, tests/messaging/test_records.py).
    ("appointment-sent-messages", "get"): (
        lambda w: f"/api/v1/appointments/{w.appointment.pk}/sent-messages/", None, _statuses(403, clinician=200, peer_worker=200, service_user=200),
    ),
    ("service-user-sent-messages", "get"): (
        lambda w: f"/api/v1/service-users/{w.service_user.pk}/sent-messages/", None, _statuses(403, clinician=200, peer_worker=200, service_user=200),
    ),
    ("response-list", "get"): (lambda w: "/api/v1/responses/", None, _statuses(403, clinician=200, peer_worker=200, service_user=200, carer=200)),
    ("response-list", "post"): (
        lambda w: "/api/v1/responses/",
        lambda w: {"instrument": "gad7", "service_user_id": w.service_user.pk, "appointment_id": w.past_appointment.pk,
                   "mode": "self_online", "answers": {str(n): 0 for n in range(1, 8)}},
        # Allowed roles get past the role check to a 400: practitioners name no mode of their own, the
        # person sends no Idempotency-Key (both tested in tests/outcomes/test_responses.py).
        _statuses(403, clinician=400, peer_worker=400, service_user=400),
    ),
    ("response-detail", "get"): (
        lambda w: "/api/v1/responses/999999/", None, _statuses(403, clinician=404, peer_worker=404, service_user=404, carer=404)
    ),
    ("outcome-trajectories", "get"): (
        lambda w: f"/api/v1/service-users/{w.service_user.pk}/outcomes/", None,
        _statuses(403, clinician=200, peer_worker=200, service_user=200, carer=404),  # the person shares no scores with the carer
    ),
    ("risk-flag-list", "get"): (lambda w: "/api/v1/risk-flags/", None, _statuses(403, clinician=200)),
    ("risk-flag-acknowledge", "post"): (
        lambda w: "/api/v1/risk-flags/999999/acknowledge/", lambda w: {"action_taken": "Called"}, _statuses(403, clinician=404)
    ),
    ("outcome-import", "post"): (
        lambda w: "/api/v1/outcomes/imports/", lambda w: {"team_id": w.north.pk}, _statuses(403, admin=415)  # a CSV upload, not JSON
    ),
    # --- evaluation: evaluators only (docs/evaluation.md says why) ---
    ("evaluation-dataset-list", "get"): (lambda w: "/api/v1/evaluation/datasets/", None, _statuses(403, evaluator=200)),
    ("evaluation-export", "post"): (
        lambda w: "/api/v1/evaluation/exports/", lambda w: {"dataset": "sessions", "format": "csv"},
        _statuses(403, evaluator=409),  # nobody in the world consents to evaluation: too few people, nothing exported
    ),
    ("evaluation-report", "get"): (lambda w: "/api/v1/evaluation/report/", None, _statuses(403, evaluator=200)),
    ("evaluation-report-by-role-and-site", "get"): (lambda w: "/api/v1/evaluation/report/by-role-and-site/", None, _statuses(403, evaluator=200)),
    # --- peer work (tests/peerwork): the supervision log is the supervisor's and the peer worker's only; a
    # supervisor cannot name themselves (404); ratings come from the three informants only (403 not_an_informant) ---
    ("peerwork-supervision-list", "get"): (lambda w: "/api/v1/peer-work/supervision/", None, _statuses(403, clinician=200, peer_worker=200)),
    ("peerwork-supervision-list", "post"): (
        lambda w: "/api/v1/peer-work/supervision/",
        lambda w: {"peer_worker_id": w.peer_worker.pk, "team_id": w.north.pk, "held_on": "2026-11-02", "topics": ["boundaries"], "actions": "None"},
        _statuses(403, clinician=201, peer_worker=404),
    ),
    ("peerwork-supervision-detail", "get"): (
        lambda w: f"/api/v1/peer-work/supervision/{_supervision(w).pk}/", None, _statuses(403, clinician=200, peer_worker=200),
    ),
    ("peerwork-questionnaire-list", "get"): (lambda w: "/api/v1/peer-work/fidelity-questionnaires/", None, ADMIN_ONLY_READ),
    ("peerwork-questionnaire-list", "post"): (
        lambda w: "/api/v1/peer-work/fidelity-questionnaires/", lambda w: _questionnaire_body(w), _statuses(403, admin=201),
    ),
    ("peerwork-rating-list", "get"): (
        lambda w: "/api/v1/peer-work/fidelity-ratings/", None, _statuses(403, clinician=200, peer_worker=200, service_user=200),
    ),
    ("peerwork-rating-list", "post"): (
        lambda w: "/api/v1/peer-work/fidelity-ratings/", lambda w: _rating_body(w), _statuses(403, peer_worker=201),
    ),
    # --- connection maps, directory, signposts (tests/network: a clinician of another team, a carer the
    # person does not share with and another organisation all get 404) ---
    ("network-map-api", "get"): (lambda w: f"/api/v1/service-users/{_map(w).service_user_id}/network/", None, MAP_READ),
    ("network-map-api", "post"): (
        lambda w: f"/api/v1/service-users/{w.service_user.pk}/network/", lambda w: {"care_team": True}, MAP_WRITE_201,
    ),
    ("network-sharing-api", "post"): (
        lambda w: f"/api/v1/service-users/{_map(w).service_user_id}/network/sharing/", lambda w: {"care_team": False},
        _statuses(403, service_user=201),  # the person only: their map, their choice
    ),
    ("network-interests-api", "post"): (
        lambda w: f"/api/v1/service-users/{_map(w).service_user_id}/network/interests/",
        lambda w: {"interests": ["arts_music"], "needs": []}, MAP_WRITE_200,
    ),
    ("network-member-list", "post"): (
        lambda w: f"/api/v1/service-users/{_map(w).service_user_id}/network/members/",
        lambda w: {"kind": "place", "label": "The library", "circle": 2, "contact_frequency": "weekly"}, MAP_WRITE_201,
    ),
    ("network-member-detail", "patch"): (
        lambda w: f"/api/v1/service-users/{w.service_user.pk}/network/members/{_member(w).pk}/", lambda w: {"circle": 2}, MAP_WRITE_200,
    ),
    ("network-member-detail", "delete"): (
        lambda w: f"/api/v1/service-users/{w.service_user.pk}/network/members/{_member(w).pk}/", None, _statuses(403, clinician=204, peer_worker=204, service_user=204),
    ),
    ("network-snapshot-list", "get"): (lambda w: f"/api/v1/service-users/{_map(w).service_user_id}/network/snapshots/", None, MAP_READ),
    ("network-snapshot-list", "post"): (
        lambda w: f"/api/v1/service-users/{_map(w).service_user_id}/network/snapshots/", lambda w: {"setting": "in_session"}, MAP_WRITE_201,
    ),
    ("network-snapshot-detail", "get"): (
        lambda w: f"/api/v1/service-users/{w.service_user.pk}/network/snapshots/{_snapshot(w).pk}/", None, MAP_READ,
    ),
    ("network-suggestion-list", "get"): (
        lambda w: f"/api/v1/service-users/{_map(w).service_user_id}/network/suggestions/", None, MAP_WRITE_200,
    ),
    ("signpost-list", "get"): (lambda w: f"/api/v1/service-users/{_map(w).service_user_id}/signposts/", None, MAP_WRITE_200),
    ("signpost-list", "post"): (
        lambda w: f"/api/v1/service-users/{_map(w).service_user_id}/signposts/",
        lambda w: {"resource_id": _resource(w).pk, "follow_up_on": "2099-01-01"}, MAP_WRITE_201,
    ),
    ("signpost-follow-up-list", "post"): (
        lambda w: f"/api/v1/service-users/{w.service_user.pk}/signposts/{_signpost(w).pk}/follow-ups/",
        lambda w: {"outcome": "not_yet", "happened_on": str(_signpost(w).offered_on)}, MAP_WRITE_201,
    ),
    ("resource-list", "get"): (lambda w: "/api/v1/resources/", None, _statuses(403, clinician=200, peer_worker=200, service_user=200, admin=200)),
    ("resource-list", "post"): (
        lambda w: "/api/v1/resources/",
        lambda w: {"name": "Money advice line", "categories": ["money"], "scope": "national", "delivery": "online",
                   "contact_phone": "0800 000 0000", "last_checked_on": "2026-01-05"},
        _statuses(403, admin=201),
    ),
    ("resource-detail", "get"): (
        lambda w: f"/api/v1/resources/{_resource(w).pk}/", None, _statuses(403, clinician=200, peer_worker=200, service_user=200, admin=200),
    ),
    ("resource-detail", "patch"): (lambda w: f"/api/v1/resources/{_resource(w).pk}/", lambda w: {"opening_times": "Daily"}, ADMIN_ONLY_READ),
    ("network-category-list", "get"): (lambda w: "/api/v1/network/categories/", None, ALL_OK),
    # --- the relatives' space (tests/relatives): the world's carer is a relative invited from their carer
    # link, the peer worker a supporter (tests/relatives/helpers.py); nobody else is in the space.
    ("relatives-module-list", "get"): (lambda w: _rw(w) and "/api/v1/relatives/modules/", None, _statuses(403, carer=200, peer_worker=200)),
    ("relatives-module-detail", "get"): (
        lambda w: f"/api/v1/relatives/modules/{_rw(w).modules[0].module_id}/", None, _statuses(403, carer=200, peer_worker=200)
    ),
    ("relatives-page-open", "post"): (lambda w: f"/api/v1/relatives/pages/{_rw(w).page.pk}/open/", None, _statuses(403, carer=201, peer_worker=201)),
    ("relatives-thread-list", "get"): (lambda w: _rw(w) and "/api/v1/relatives/threads/", None, _statuses(403, carer=200, peer_worker=200)),
    # Only relatives start conversations: a supporter (or anyone else) writing one is refused.
    ("relatives-thread-list", "post"): (
        lambda w: _rw(w) and "/api/v1/relatives/threads/", lambda w: {"subject": "A question", "body": "How do others cope?"},
        _statuses(403, carer=201),
    ),
    ("relatives-thread-detail", "get"): (
        lambda w: f"/api/v1/relatives/threads/{_rw(w).thread.pk}/", None, _statuses(403, carer=200, peer_worker=200)
    ),
    ("relatives-thread-messages", "post"): (
        lambda w: f"/api/v1/relatives/threads/{_rw(w).thread.pk}/messages/", lambda w: {"body": "Thank you for writing."},
        _statuses(403, carer=201, peer_worker=201),
    ),
    ("relatives-post-list", "get"): (lambda w: _rw(w) and "/api/v1/relatives/forum/posts/", None, _statuses(403, carer=200, peer_worker=200)),
    ("relatives-post-list", "post"): (
        lambda w: _rw(w) and "/api/v1/relatives/forum/posts/", lambda w: {"title": "Evenings", "body": "What helps you in the evenings?"},
        _statuses(403, carer=201, peer_worker=201),
    ),
    ("relatives-post-report-api", "post"): (
        lambda w: f"/api/v1/relatives/forum/posts/{_rw(w).published_post.pk}/report/", lambda w: {"reason": "Please check this."},
        _statuses(403, carer=201, peer_worker=201),
    ),
    ("relatives-post-moderation", "post"): (
        lambda w: f"/api/v1/relatives/forum/posts/{_rw(w).held_post.pk}/moderation/", lambda w: {"decision": "publish"},
        _statuses(403, peer_worker=200),
    ),
    ("relatives-safety-flag-list", "get"): (lambda w: _rw(w) and "/api/v1/relatives/safety-flags/", None, _statuses(403, peer_worker=200)),
    ("relatives-invitation", "post"): (
        lambda w: "/api/v1/relatives/invitations/", lambda w: {"email": "new.relative@example.test", "full_name": "Pat Relative"},
        _statuses(403, clinician=201, peer_worker=201, admin=201),
    ),
    ("relatives-usage", "get"): (lambda w: "/api/v1/relatives/usage/", None, ADMIN_ONLY_READ),
    # Group sessions (backend/groups): practitioners run them; booked people see their own; without Janus
    # configured (as here) starting answers 409 groups_unavailable; the Janus paths are in tests/groups/.
    ("group-list", "get"): (lambda w: "/api/v1/groups/", None, _statuses(200, evaluator=403, admin=403)),
    ("group-list", "post"): (
        lambda w: "/api/v1/groups/",
        lambda w: {"team_id": w.north.pk, "title": "Carers' course", "starts_at": "2030-01-07T10:00:00Z", "people": [w.service_user.pk]},
        _statuses(403, clinician=201, peer_worker=201),
    ),
    ("group-detail", "get"): (lambda w: f"/api/v1/groups/{_group(w).pk}/", None, _statuses(403, clinician=200, peer_worker=200, service_user=200, carer=404)),
    ("group-start", "post"): (lambda w: f"/api/v1/groups/{_group(w).pk}/start/", None, _statuses(403, clinician=409, peer_worker=409)),
    ("group-mute-all", "post"): (lambda w: f"/api/v1/groups/{_group(w).pk}/mute-all/", None, _statuses(403, clinician=409, peer_worker=409)),
    ("group-end", "post"): (lambda w: f"/api/v1/groups/{_group(w).pk}/end/", None, _statuses(403, clinician=409, peer_worker=409)),
    ("group-media", "post"): (lambda w: f"/api/v1/groups/{_group(w).pk}/media/", None, _statuses(403, clinician=409, peer_worker=409, service_user=409, carer=404)),
    ("group-attendee-admit", "post"): (lambda w: _attendee_url(w, "admit"), None, _statuses(403, clinician=409, peer_worker=409)),
    ("group-attendee-remove", "post"): (lambda w: _attendee_url(w, "remove"), lambda w: {"hold": True}, _statuses(403, clinician=200, peer_worker=200)),
    ("group-attendee-attendance", "patch"): (lambda w: _attendee_url(w, "attendance"), lambda w: {"attendance": "dna"}, _statuses(403, clinician=200, peer_worker=200)),
    ("group-people-add", "post"): (lambda w: f"/api/v1/groups/{_group(w).pk}/people/", lambda w: {"people": [w.service_user.pk]},
                                   _statuses(403, clinician=200, peer_worker=200)),
    ("group-cancel", "post"): (lambda w: f"/api/v1/groups/{_group(w).pk}/cancel/", lambda w: {"reason": "Room not available"},
                               _statuses(403, clinician=200, peer_worker=200)),
    ("group-attendee-unbook", "post"): (lambda w: _attendee_url(w, "unbook"), lambda w: {}, _statuses(403, clinician=204, peer_worker=204)),
    # --- the Recovery College (tests/college/helpers.py): the world's carer is a carer peer trainer co-facilitating
    # the published run with the clinician; the service user is enrolled; college staff are the organisation's
    # admins, clinicians and peer workers. Learning plans, feedback and certificates are the student's alone (404).
    ("college-run-list", "get"): (lambda w: _cw(w) and "/api/v1/college/runs/", None, _statuses(200)),
    ("college-run-list", "post"): (lambda w: "/api/v1/college/runs/", _run_body, _statuses(403, **COLLEGE_STAFF_201)),
    ("college-run-detail", "get"): (lambda w: f"/api/v1/college/runs/{_cw(w).run.pk}/", None, _statuses(200)),
    ("college-run-facilitators", "post"): (
        lambda w: f"/api/v1/college/runs/{_cw(w).draft.pk}/facilitators/", lambda w: {"trainer_id": _cw(w).peer.pk}, _statuses(403, **COLLEGE_STAFF_201)
    ),
    # The draft has one facilitator: publishing is refused (400 co_facilitation) for college staff.
    ("college-run-publish", "post"): (
        lambda w: f"/api/v1/college/runs/{_cw(w).draft.pk}/publish/", None, _statuses(403, clinician=400, peer_worker=400, admin=400)
    ),
    ("college-run-enrolments", "get"): (lambda w: f"/api/v1/college/runs/{_cw(w).run.pk}/enrolments/", None, _statuses(403, carer=200, **COLLEGE_STAFF)),
    # Anyone may enrol themselves on a course for anyone; the service user already is (409).
    ("college-run-enrolments", "post"): (lambda w: f"/api/v1/college/runs/{_cw(w).run.pk}/enrolments/", lambda w: {}, _statuses(201, service_user=409)),
    ("college-register", "post"): (
        lambda w: f"/api/v1/college/runs/{_cw(w).run.pk}/sessions/1/register/", lambda w: {"marks": {str(_cw(w).enrolment.pk): "attended"}},
        _statuses(403, carer=409, clinician=409, peer_worker=409, admin=409),  # not started yet
    ),
    ("college-enrolment-list", "get"): (lambda w: _cw(w) and "/api/v1/college/enrolments/", None, _statuses(200)),
    ("college-enrolment-withdraw", "post"): (
        lambda w: f"/api/v1/college/enrolments/{_cw(w).enrolment.pk}/withdraw/", None,
        _statuses(404, service_user=200, carer=403, **COLLEGE_STAFF),  # the carer trainer sees it but does not withdraw students
    ),
    ("college-learning-plan", "get"): (lambda w: f"/api/v1/college/enrolments/{_cw(w).enrolment.pk}/plan/", None, _statuses(404, service_user=200)),
    ("college-learning-plan", "put"): (
        lambda w: f"/api/v1/college/enrolments/{_cw(w).enrolment.pk}/plan/", lambda w: {"goals": "Sleep better."}, _statuses(404, service_user=200)
    ),
    ("college-feedback", "post"): (
        lambda w: f"/api/v1/college/enrolments/{_cw(w).enrolment.pk}/feedback/",
        lambda w: {"answers": {"welcome": "agree", "useful": "agree", "lived_experience": "agree", "recommend": "agree"}}, _statuses(404, service_user=201),
    ),
    ("college-feedback-form", "get"): (lambda w: "/api/v1/college/feedback-form/", None, _statuses(200)),
    ("college-course-list", "get"): (lambda w: "/api/v1/college/courses/", None, _statuses(403, **COLLEGE_STAFF)),
    ("college-course-list", "post"): (
        lambda w: "/api/v1/college/courses/",
        lambda w: {"title": "Sleep", "description": "Sleeping well.", "audience": "anyone", "delivery": "online", "sessions": 3, "capacity": 12},
        _statuses(403, **COLLEGE_STAFF_201),
    ),
    ("college-term-list", "get"): (lambda w: "/api/v1/college/terms/", None, _statuses(403, **COLLEGE_STAFF)),
    ("college-term-list", "post"): (
        lambda w: "/api/v1/college/terms/", lambda w: {"name": "Autumn", "starts_on": "2027-09-01", "ends_on": "2027-12-15"}, _statuses(403, **COLLEGE_STAFF_201)
    ),
    ("college-trainer-list", "get"): (lambda w: _cw(w) and "/api/v1/college/trainers/", None, _statuses(200)),
    ("college-trainer-list", "post"): (
        lambda w: "/api/v1/college/trainers/",
        lambda w: {"user_id": w.other_clinician.pk, "kind": "professional", "training_completed": "Facilitation", "training_completed_on": "2026-01-05"},
        _statuses(403, **COLLEGE_STAFF_201),
    ),
}


def _map(w):
    from tests.network.helpers import started_map

    return started_map(w)


def _member(w):
    from tests.network.helpers import member

    return member(w)


def _snapshot(w):
    from tests.network.helpers import snapshot

    return snapshot(w)


def _signpost(w):
    from tests.network.helpers import signpost

    return signpost(w)


def _resource(w):
    from tests.network.helpers import resource

    return resource(w)

def _supervision(w):
    from tests.peerwork.helpers import supervise

    return supervise(w)


def _questionnaire_body(w):
    from backend.audit.actor import Actor
    from backend.outcomes.services import instrument_create

    instrument_create(actor=Actor(w.admin, via="test"), organisation=w.organisation, code="matrix-fidelity", name="Placeholder",
                      title="Placeholder", stem="Placeholder.", higher_is_worse=False, options=[{"value": 0, "label": "No"}, {"value": 1, "label": "Yes"}],
                      items=[{"number": n, "text": f"Placeholder {n}"} for n in range(1, 5)], bands=[])
    return {"instrument": "matrix-fidelity", "informant": "peer_worker", "licence": "Test", "source": "Test",
            "item_domains": {"1": "trust_lived_experience", "2": "reciprocity_mutuality", "3": "leadership_choice_control", "4": "strengths_community"}}


def _rating_body(w):
    from tests.peerwork.helpers import load_all

    load_all(w)
    return {"peer_worker_id": w.peer_worker.pk, "team_id": w.north.pk, "rated_on": "2026-11-20", "answers": {"1": 3}}


# Reachable without logging in, tested in test_auth.py.
def _group(world):
    from tests.factories import book_group

    return book_group(world)


def _attendee_url(world, action: str) -> str:
    group = _group(world)
    return f"/api/v1/groups/{group.pk}/attendees/{group.attendees.get().pk}/{action}/"


PUBLIC = {("auth-login", "post"), ("auth-login-otp", "post"), ("auth-password-reset", "post"), ("auth-set-password", "post"), ("auth-email-confirm", "post")}


def _api_routes() -> set[tuple[str, str]]:
    """Every (url name, method) the API serves under /api/v1/."""
    routes = set()

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and (prefix + str(pattern.pattern)).startswith("api/v1/"):
                view = pattern.callback.view_class
                for method in ("get", "post", "put", "patch", "delete"):
                    if hasattr(view, method):
                        routes.add((pattern.name, method))

    walk(get_resolver().url_patterns)
    return routes


def test_every_api_route_has_a_rule_for_every_role():
    routes = _api_routes()
    missing = routes - set(MATRIX) - PUBLIC
    assert not missing, f"Add these endpoints to the permission matrix: {sorted(missing)}"
    stale = set(MATRIX) - routes
    assert not stale, f"The matrix names endpoints that no longer exist: {sorted(stale)}"
    assert all(set(expected) == set(ROLES) for _, _, expected in MATRIX.values())


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[1].upper()} {r[0]}")
def test_role_against_endpoint(world, api, route, role):
    url, body, expected = MATRIX[route]
    client = api(world.as_role(role))
    response = getattr(client, route[1])(url(world), body(world) if body else None, format="json")
    assert response.status_code == expected[role], response.content
    if response.status_code >= 400:
        error = response.json()
        assert error["status"] == response.status_code and error["detail"] and isinstance(error["errors"], list)

"""Every identifiable read leaves an audit event naming what was read, and every refused request for an
identifiable object leaves a denial event (docs/architecture.md, "Audit trail").

One table beside the permission matrix (tests/accounts/test_permission_matrix.py, whose URL builders
and expected statuses it reuses): every GET route of the API says what its read is audited as, so a
new GET route without an audit rule fails `test_every_get_route_says_how_its_read_is_audited`. The
same for every page whose URL names an identifiable object.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from backend.audit.models import AuditEvent
from backend.audit.reads import identified_objects
from tests.accounts.test_permission_matrix import MATRIX, ROLES, _api_routes

OBJECT = "the object its URL names"


def _list(object_type: str) -> tuple[str, str]:
    return ("list", object_type)


def _none(reason: str) -> tuple[str, str]:
    return ("none", reason)


# url name -> how a GET of it is audited: OBJECT (an event naming the URL's object), a LIST event of
# a kind (lists: the ids shown), or nothing, with the reason the route shows no identifiable record.
NOT_PERSONAL = "describes the service, not a person"
READ_AUDIT = {
    "me": ("self", "accounts.user"),
    "user-list": _list("accounts.user"),
    "user-detail": OBJECT,
    "user-history": OBJECT,
    "registration-list": _list("accounts.user"),
    "organisation-list": _none(NOT_PERSONAL),
    "organisation-detail": _none(NOT_PERSONAL),
    "team-list": _none(NOT_PERSONAL),
    "team-detail": _none(NOT_PERSONAL),
    "team-member-list": _list("accounts.user"),
    "caseload-list": _list("accounts.user"),
    "service-user-list": _list("accounts.user"),
    "service-user-detail": OBJECT,
    "service-user-records": OBJECT,
    "carer-link-list": _list("accounts.carerlink"),
    "consent-purpose-list": _none(NOT_PERSONAL),
    "modality-reason-list": _none(NOT_PERSONAL),
    "consent-wording-list": _none(NOT_PERSONAL),
    "consent-state": OBJECT,
    "consent-history": OBJECT,
    "preference": OBJECT,
    "preference-history": OBJECT,
    "appointment-list": _list("telesessions.appointment"),
    "appointment-detail": OBJECT,
    "appointment-history": OBJECT,
    "appointment-safety-checks": OBJECT,
    "appointment-participants": OBJECT,
    "appointment-ice-servers": OBJECT,
    "appointment-phone-calls": OBJECT,
    "appointment-connection-summary": OBJECT,
    "appointment-questionnaires-due": OBJECT,
    "appointment-sent-messages": OBJECT,
    "service-user-sent-messages": OBJECT,
    "team-session-settings": _none(NOT_PERSONAL),
    "waiting-area": _list("telesessions.participant"),
    "caseload-dashboard-api": _list("accounts.user"),
    "course-list": _list("telesessions.courseofcare"),
    "rearrange-request-list": _list("telesessions.rearrangerequest"),
    "course-detail": OBJECT,
    "course-paired-outcome": OBJECT,
    "instrument-list": _none(NOT_PERSONAL),
    "instrument-detail": _none(NOT_PERSONAL),
    "measure-schedule-list": _none(NOT_PERSONAL),
    "response-list": _list("outcomes.response"),
    "response-detail": OBJECT,
    "outcome-trajectories": OBJECT,
    "risk-flag-list": _list("outcomes.riskflag"),
    "relatives-module-list": _none("the library's modules, and the asker's own progress"),
    "relatives-module-detail": _none(NOT_PERSONAL),
    "relatives-thread-list": _list("relatives.thread"),
    "relatives-thread-detail": OBJECT,
    "relatives-post-list": _list("relatives.forumpost"),
    "relatives-safety-flag-list": _list("relatives.safetyflag"),
    "relatives-usage": _none("counts per module and in total, never who read or wrote what"),
    "group-list": _list("groups.groupsession"),
    "group-detail": OBJECT,
    "evaluation-dataset-list": _none("names the datasets; exports of pseudonymised data are audited when made"),
    "evaluation-report": _none("aggregate figures over the consenting people, no person's record"),
    "network-map-api": OBJECT,
    "network-snapshot-list": OBJECT,
    "network-snapshot-detail": OBJECT,
    "network-suggestion-list": OBJECT,
    "signpost-list": OBJECT,
    "resource-list": _none(NOT_PERSONAL),
    "resource-detail": _none(NOT_PERSONAL),
    "network-category-list": _none(NOT_PERSONAL),
    "evaluation-report-by-role-and-site": _none("aggregate figures over the consenting people, no person's record"),
    "college-course-list": _none(NOT_PERSONAL),
    "college-term-list": _none(NOT_PERSONAL),
    "college-feedback-form": _none(NOT_PERSONAL),
    "college-run-list": _none("the prospectus: runs with counts of places, no person named"),
    "college-run-detail": _none("a run as the prospectus shows it, with its trainers as they teach it; no student's record"),
    "college-run-enrolments": _list("college.enrolment"),
    "college-enrolment-list": _list("college.enrolment"),
    "college-learning-plan": OBJECT,
    "college-trainer-list": _list("college.trainerrecord"),
    "peerwork-supervision-list": _list("peerwork.supervisionentry"),
    "peerwork-supervision-detail": OBJECT,
    "peerwork-questionnaire-list": _list("peerwork.fidelityquestionnaire"),
    "peerwork-rating-list": _list("peerwork.fidelityrating"),
}

# Where the matrix's URL names no real object (it tests role rules only), a URL that does, with a role
# that may read it and one that may not.
URL_OVERRIDES = {
    "response-detail": (lambda w: f"/api/v1/responses/{_response(w).pk}/", "clinician", "evaluator"),
}


def _response(world):
    from backend.audit.actor import Actor
    from backend.outcomes import services
    from backend.outcomes.selectors import instrument_by_code

    submission = services.Submission(
        instrument=instrument_by_code("gad7"), service_user=world.service_user, course=world.course,
        appointment=world.past_appointment, mode="self_online", answers={n: 0 for n in range(1, 8)},
        completed_at=world.past_appointment.starts_at,
    )
    return services.response_submit(actor=Actor(world.service_user), submission=submission, idempotency_key="read-audit")[0]


GET_ROUTES = sorted(name for name, method in MATRIX if method == "get")


def test_every_get_route_says_how_its_read_is_audited():
    gets = {name for name, method in _api_routes() if method == "get"}
    missing = gets - set(READ_AUDIT)
    assert not missing, f"Say how a GET of these routes is audited (READ_AUDIT): {sorted(missing)}"
    assert not set(READ_AUDIT) - gets, f"READ_AUDIT names routes that no longer exist: {sorted(set(READ_AUDIT) - gets)}"


def _url(world, name):
    return (URL_OVERRIDES[name][0] if name in URL_OVERRIDES else MATRIX[(name, "get")][0])(world)


def _events_during(request):
    before = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
    response = request()
    return response, list(AuditEvent.objects.filter(sequence__gt=before))


def _roles(name, wanted) -> list[str]:
    expected = MATRIX[(name, "get")][2]
    return [role for role in ROLES if role != "anonymous" and expected[role] in wanted]


@pytest.mark.parametrize("name", [n for n in GET_ROUTES if READ_AUDIT.get(n, OBJECT)[0] != "none"])
def test_an_allowed_get_leaves_an_event_naming_what_was_read(world, api, name):
    rule = READ_AUDIT[name]
    allowed = _roles(name, {200}) if name not in URL_OVERRIDES else [URL_OVERRIDES[name][1]]
    assert allowed, f"no role may GET {name}: nothing to audit"
    role = allowed[0]
    url = _url(world, name)
    client = api(world.as_role(role))
    response, events = _events_during(lambda: client.get(url))
    assert response.status_code == 200, (role, response.content)
    mine = [e for e in events if e.actor == world.as_role(role)]
    if rule == OBJECT:
        object_type, object_id = identified_objects(resolve(url).kwargs)[-1]
        assert any(e.object_id == object_id and e.action in ("read", "list") for e in mine), (
            f"GET {url} as {role} left no event naming {object_type} {object_id}: {[str(e) for e in mine]}"
        )
    elif rule[0] == "self":
        assert any((e.object_type, e.object_id) == (rule[1], str(world.as_role(role).pk)) for e in mine), [str(e) for e in mine]
    else:
        assert any(e.action == "list" and e.object_type == rule[1] for e in mine), [str(e) for e in mine]


REFUSABLE = [n for n in GET_ROUTES if READ_AUDIT.get(n) == OBJECT and _roles(n, {403, 404})]


@pytest.mark.parametrize("name", REFUSABLE)
def test_a_refused_get_leaves_a_denial_event_naming_the_object(world, api, name):
    role = _roles(name, {403, 404})[0] if name not in URL_OVERRIDES else URL_OVERRIDES[name][2]
    url = _url(world, name)
    client = api(world.as_role(role))
    response, events = _events_during(lambda: client.get(url))
    assert response.status_code in (403, 404)
    object_type, object_id = identified_objects(resolve(url).kwargs)[-1]
    denied = [e for e in events if e.action == "denied" and e.actor == world.as_role(role)]
    assert [(e.object_type, e.object_id, e.detail["status"]) for e in denied] == [(object_type, object_id, response.status_code)]
    assert not any(e.action == "read" for e in events)


def test_probing_an_id_outside_your_view_is_recorded_as_a_denial(world, api):
    """An object outside the asker's view answers 404 (no existence leak), and the probe is on record."""
    client = api(world.clinician)
    response, events = _events_during(lambda: client.get(f"/api/v1/service-users/{world.other_service_user.pk}/"))
    assert response.status_code == 404
    assert [(e.action, e.object_type, e.object_id, e.actor) for e in events] == [
        ("denied", "accounts.user", str(world.other_service_user.pk), world.clinician)
    ]
    assert events[0].detail == {"route": "service-user-detail", "method": "GET", "status": 404}


def test_a_read_the_view_records_itself_is_not_recorded_twice(world, api):
    client = api(world.clinician)
    response, events = _events_during(lambda: client.get(f"/api/v1/appointments/{world.appointment.pk}/"))
    assert response.status_code == 200
    assert [(e.action, e.object_id) for e in events] == [("read", str(world.appointment.pk))]


def test_the_missing_reads_of_the_finding_are_now_on_record(world, api):
    """Participants, connection summary, questionnaires due and paired outcome were read with no event."""
    client = api(world.clinician)
    for url, route in [
        (f"/api/v1/appointments/{world.appointment.pk}/participants/", "appointment-participants"),
        (f"/api/v1/appointments/{world.appointment.pk}/connection-summary/", "appointment-connection-summary"),
        (f"/api/v1/appointments/{world.appointment.pk}/questionnaires-due/", "appointment-questionnaires-due"),
        (f"/api/v1/courses/{world.course.pk}/paired-outcome/", "course-paired-outcome"),
    ]:
        response, events = _events_during(lambda url=url: client.get(url))
        assert response.status_code == 200
        assert [(e.action, e.detail.get("route")) for e in events] == [("read", route)]


# --- Pages -------------------------------------------------------------------------------------------
# Every page whose URL names an identifiable object: (url builder, a role that may see it, a role that
# may not), or POST_ONLY (an action, not a read; a GET answers 405).
POST_ONLY = "post only"
PAGES = {
    "person-outcomes": (lambda w: f"/outcomes/people/{w.service_user.pk}/", "clinician", "evaluator"),
    "person-page": (lambda w: f"/people/{w.service_user.pk}/", "clinician", "carer"),
    "session-call": (lambda w: f"/sessions/{w.appointment.pk}/", "service_user", "evaluator"),
    "questionnaire": (lambda w: f"/outcomes/appointments/{w.appointment.pk}/questionnaires/phq9/", "service_user", "carer"),
    "appointment-page": (lambda w: f"/appointments/{w.appointment.pk}/", "clinician", "carer"),
    "person-contact": (lambda w: f"/people/{w.service_user.pk}/contact/", "clinician", "carer"),
    "appointment-calendar": (lambda w: f"/appointments/{w.appointment.pk}/calendar.ics", "service_user", "clinician"),
    "appointment-messages-page": (lambda w: f"/appointments/{w.appointment.pk}/sent-messages/", "clinician", "service_user"),
    "person-messages-page": (lambda w: f"/people/{w.service_user.pk}/sent-messages/", "peer_worker", "carer"),
    "appointment-reschedule-web": POST_ONLY,
    "appointment-cancel-web": POST_ONLY,
    "appointment-join-link-web": POST_ONLY,
    "appointment-rearrange-web": POST_ONLY,
    "session-people": (lambda w: f"/sessions/{w.appointment.pk}/people/", "peer_worker", "evaluator"),
    "session-phone": (lambda w: f"/sessions/{w.appointment.pk}/phone/", "clinician", "service_user"),
    "session-step-back": POST_ONLY,
    "waiting-area-admit": POST_ONLY,
    "waiting-area-hold": POST_ONLY,
    "waiting-area-message": POST_ONLY,
    "phone-number-update": POST_ONLY,
    "course-start": POST_ONLY,
    "course-end-web": POST_ONLY,
    "risk-flag-acknowledge-web": POST_ONLY,
    "appointment-choose-web": POST_ONLY,
    "carer-link-end-web": POST_ONLY,
    "carer-link-accept-web": POST_ONLY,
    "carer-link-decline-web": POST_ONLY,
    # A person's records for a subject access request (admins), and the admin pages about one account.
    "records-admin": (lambda w: f"/people/{w.service_user.pk}/records/", "admin", "clinician"),
    "records-json-admin": (lambda w: f"/people/{w.service_user.pk}/records.json", "admin", "clinician"),
    "admin-person": (lambda w: f"/administration/people/{w.service_user.pk}/", "admin", "clinician"),
    "admin-staff-member": (lambda w: f"/administration/staff/{w.clinician.pk}/", "admin", "clinician"),
    "admin-caseload-remove": POST_ONLY,
    "admin-person-caseload-add": POST_ONLY,
    "admin-person-invite": POST_ONLY,
    "admin-staff-deactivate": POST_ONLY,
    "admin-staff-invite": POST_ONLY,
    "admin-staff-reactivate": POST_ONLY,
    "admin-staff-team-add": POST_ONLY,
    "admin-staff-two-factor-reset": POST_ONLY,
    "admin-staff-update": POST_ONLY,
    "admin-team-member-remove": POST_ONLY,
    # A person's connection map, suggestions and signposts (tests/network for every rule).
    "network-map": (lambda w: f"/network/people/{w.service_user.pk}/", "service_user", "evaluator"),
    "network-start": POST_ONLY,
    "network-member-add": POST_ONLY,
    "network-member-edit": (lambda w: f"/network/people/{w.service_user.pk}/members/{_map_member(w).pk}/", "clinician", "carer"),
    "network-member-remove": POST_ONLY,
    "network-interests": (lambda w: f"/network/people/{_map_started(w)}/interests/", "service_user", "carer"),
    "network-sharing": POST_ONLY,
    "network-snapshots": (lambda w: f"/network/people/{_map_started(w)}/snapshots/", "carer", "admin"),
    "network-suggestions": (lambda w: f"/network/people/{_map_started(w)}/suggestions/", "peer_worker", "carer"),
    "network-signposts": (lambda w: f"/network/people/{_map_started(w)}/signposts/", "clinician", "evaluator"),
    "network-follow-up": POST_ONLY,
    # The relatives' space (tests/relatives/helpers.py builds it in the world).
    "relatives-thread": (lambda w: f"/relatives/messages/{_rw(w).thread.pk}/", "carer", "clinician"),
    "relatives-post": (lambda w: f"/relatives/forum/{_rw(w).published_post.pk}/", "carer", "service_user"),
    "relatives-post-report": POST_ONLY,
    "relatives-post-moderate": POST_ONLY,
    "relatives-flag-review": POST_ONLY,
    "relatives-invite-from-link": POST_ONLY,
}


def _map_started(world) -> int:
    from tests.network.helpers import started_map

    return started_map(world).service_user_id


def _map_member(world):
    from tests.network.helpers import member

    return member(world)


def _rw(world):
    from tests.relatives.helpers import relatives_world

    return relatives_world(world)


def _identifiable_pages() -> set[str]:
    found = set()

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and not (prefix + str(pattern.pattern)).startswith("api/"):
                if set(pattern.pattern.converters) & {"service_user_id", "user_id", "link_id", "appointment_id", "course_id",
                                                      "response_id", "flag_id", "member_id", "snapshot_id", "signpost_id",
                                                      "thread_id", "post_id", "safety_flag_id"}:
                    found.add(pattern.name)

    walk(get_resolver().url_patterns)
    return found


def test_every_page_naming_an_identifiable_object_is_in_the_table():
    pages = _identifiable_pages()
    assert pages == set(PAGES), f"Add to PAGES: {sorted(pages - set(PAGES))}; stale: {sorted(set(PAGES) - pages)}"


@pytest.mark.parametrize("name", sorted(PAGES))
def test_a_page_read_is_audited_and_a_refused_one_is_a_denial(world, client, name):
    if PAGES[name] == POST_ONLY:
        from django.urls import reverse

        url = reverse(name, kwargs=dict.fromkeys(get_resolver().reverse_dict[name][0][0][1], 1))
        statuses = set()
        for role in ROLES[1:]:  # those the page is for get 405; the others its 403
            client.force_login(world.as_role(role))
            statuses.add(client.get(url).status_code)
        assert 405 in statuses and statuses <= {403, 405}
        return
    build, allowed, refused = PAGES[name]
    url = build(world)
    object_type, object_id = identified_objects(resolve(url).kwargs)[-1]
    client.force_login(world.as_role(allowed))
    response, events = _events_during(lambda: client.get(url))
    assert response.status_code == 200
    assert any(e.object_id == object_id and e.action in ("read", "list") and e.via == "web" for e in events), [str(e) for e in events]
    client.force_login(world.as_role(refused))
    response, events = _events_during(lambda: client.get(url))
    assert response.status_code in (403, 404)
    assert [(e.action, e.object_type, e.object_id) for e in events] == [("denied", object_type, object_id)]


def test_risk_flags_and_paired_outcomes_on_the_outcome_pages_are_on_record(world, client):
    from tests.outcomes.test_risk_flags import PHQ9_ITEM9, submit

    flag = submit(world, PHQ9_ITEM9).risk_flags.get()
    client.force_login(world.clinician)
    for url, page in [("/outcomes/", "outcomes"), (f"/outcomes/people/{world.service_user.pk}/", "person-outcomes")]:
        response, events = _events_during(lambda url=url: client.get(url))
        assert response.status_code == 200
        flags = [e for e in events if e.object_type == "outcomes.riskflag" and e.action == "list"]
        assert [(e.detail["ids"], e.detail["page"]) for e in flags] == [([str(flag.pk)], page)]
    courses = [e for e in events if e.object_type == "telesessions.courseofcare"]
    assert [e.detail["ids"] for e in courses] == [[str(world.course.pk)]] and courses[0].detail["paired_outcomes"]


def test_a_refused_write_to_an_identifiable_object_is_a_denial_too(world, api):
    client = api(world.carer)
    response, events = _events_during(lambda: client.post(f"/api/v1/courses/{world.course.pk}/end/", {"reason": "completed"}, format="json"))
    assert response.status_code == 403
    assert [(e.action, e.object_type, e.object_id, e.detail["method"]) for e in events] == [
        ("denied", "telesessions.courseofcare", str(world.course.pk), "POST")
    ]

"""Every identifiable read, and every refused request for an identifiable object, leaves an event.

One middleware, so no view can skip it (a new GET route is covered the day it is added):

- A successful GET (or HEAD) of a URL that names an identifiable object (`IDENTIFIABLE_URL_KWARGS`)
  records a READ of that object, naming the route, unless the view already recorded an event naming
  it itself (views record richer events: a list's ids, the page shown).
- A request for such a URL that is refused (403, or 404: an object outside the asker's view answers
  404, so as not to reveal that it exists) records a DENIED event naming the object, so probing for
  ids is seen. Only for someone logged in (or admitted by a join link): anonymous requests are
  refused before any object is looked up.

Reads that are not requests (the risk-flag socket) record their events in their own code.
"""

from __future__ import annotations

from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_objects_named, audit_record

# URL keyword -> the kind of identifiable record it names. Teams, organisations, schedules and
# questionnaires are not records about a person, so reading them is not audited as such.
IDENTIFIABLE_URL_KWARGS = {
    "service_user_id": "accounts.user",
    "user_id": "accounts.user",
    "link_id": "accounts.carerlink",
    "appointment_id": "telesessions.appointment",
    "course_id": "telesessions.courseofcare",
    "group_id": "groups.groupsession",
    "attendee_id": "groups.groupattendee",
    "response_id": "outcomes.response",
    "flag_id": "outcomes.riskflag",
    "member_id": "network.mapmember",
    "snapshot_id": "network.mapsnapshot",
    "signpost_id": "network.signpost",
    "thread_id": "relatives.thread",
    "post_id": "relatives.forumpost",
    "safety_flag_id": "relatives.safetyflag",
    "enrolment_id": "college.enrolment",
    "entry_id": "peerwork.supervisionentry",
}
REFUSED = (403, 404)
READS = ("GET", "HEAD")


def identified_objects(kwargs: dict) -> list[tuple[str, str]]:
    """The identifiable objects a URL's keywords name, outermost first (the last is what the URL is about)."""
    return [(IDENTIFIABLE_URL_KWARGS[name], str(value)) for name, value in kwargs.items() if name in IDENTIFIABLE_URL_KWARGS]


class AuditReadsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with audit_objects_named() as named:
            response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        objects = identified_objects(match.kwargs) if match is not None else []
        if not objects:
            return response
        object_type, object_id = objects[-1]
        user = getattr(request, "user", None)
        route = {"route": match.url_name, "method": request.method}
        if len(objects) > 1:
            route["within"] = [f"{kind}:{pk}" for kind, pk in objects[:-1]]
        if response.status_code in REFUSED and getattr(user, "is_authenticated", False):
            audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.DENIED, object_type=object_type,
                         object_id=object_id, detail={**route, "status": response.status_code})
        elif request.method in READS and 200 <= response.status_code < 300 and not any(pk == object_id for _, pk in named):
            audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.READ, object_type=object_type,
                         object_id=object_id, detail=route)
        return response

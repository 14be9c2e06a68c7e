"""Who may see a person's map and signposts, and the directory: the rules, written once.

A map belongs to the person. One access rule (`network_person_for`), asked by every REST view and page:

- the person themselves, always;
- a clinician or peer worker who has the person on one of their teams' caseloads (of their own
  organisation), only while the person's latest sharing choice includes their care team; a
  practitioner of another team, or of another organisation, never;
- a carer only while the person's latest sharing choice names them, their link is in effect and the
  person's consent to involve them holds (`sharing_carer_links`); they read the map, nothing else;
- admins and evaluators never (evaluators get pseudonymised measures in the evaluation datasets).

Anyone else gets NotFound, as for an id that does not exist.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.db.models import JSONField

from backend.accounts import selectors as access
from backend.accounts.models import PRACTITIONER_ROLES, Role, User
from backend.core.errors import Forbidden, NotFound
from backend.network.models import Category, MapSharing, Resource, Signpost, SocialMap
from backend.network.places import postcode_area

CATEGORY_LABELS = dict(Category.choices)


def sharing_latest(service_user: User) -> MapSharing | None:
    return MapSharing.objects.filter(service_user=service_user).order_by("-id").first()


def _latest_sharing(field: str, output_field=None) -> Subquery:
    rows = MapSharing.objects.filter(service_user=OuterRef("pk")).order_by("-id").values(field)[:1]
    return Subquery(rows, output_field=output_field) if output_field is not None else Subquery(rows)


def network_people_visible_to(user: User) -> QuerySet[User]:
    """Service users whose map and signposts `user` may see (see the module docstring)."""
    people = User.objects.filter(role=Role.SERVICE_USER, is_active=True)
    if user.role == Role.SERVICE_USER:
        return people.filter(pk=user.pk)
    if user.role in PRACTITIONER_ROLES:
        return access.service_users_visible_to(user).annotate(shares_with_team=_latest_sharing("care_team")).filter(shares_with_team=True)
    if user.role == Role.CARER:
        # The people who link this carer are few: their latest sharing choices are read in one query
        # and checked here (JSON containment is PostgreSQL's; the demo also runs on SQLite).
        linked = access.sharing_carer_links().filter(carer=user).values("service_user_id")
        choices = people.filter(pk__in=linked).annotate(shared_carers=_latest_sharing("carers", JSONField())).values_list("pk", "shared_carers")
        return people.filter(pk__in=[pk for pk, carers in choices if carers and user.pk in carers])
    return people.none()


def network_person_for(user: User, service_user_id: int, *, write: bool = False) -> User:
    """The person whose map `user` may see (and, with `write`, change): the one access rule."""
    if user.role not in (Role.SERVICE_USER, Role.CARER, *PRACTITIONER_ROLES):
        raise Forbidden("Only the person, their care team (if the person shares it) and carers they share it with see a map.")
    person = network_people_visible_to(user).filter(pk=service_user_id).first()
    if person is None:
        raise NotFound(f"No map of service user {service_user_id} that you can see.", field="service_user_id")
    if write and user.role == Role.CARER:
        raise Forbidden("A carer the person shares their map with can read it; the person and their care team change it.")
    return person


def map_of(person: User) -> SocialMap | None:
    return SocialMap.objects.filter(service_user=person).first()


def members_of(social_map: SocialMap | None):
    return list(social_map.members.all()) if social_map is not None else []


def snapshots_of(social_map: SocialMap | None) -> QuerySet:
    from backend.network.models import MapSnapshot

    if social_map is None:
        return MapSnapshot.objects.none()
    return social_map.snapshots.select_related("taken_by").order_by("-id")


def carers_to_share_with(person: User) -> list[User]:
    """The carers the person could share their map with (or add as a member): links in effect."""
    return [link.carer for link in access.sharing_carer_links().filter(service_user=person).select_related("carer").order_by("carer__full_name")]


def linked_carers(person: User) -> QuerySet[User]:
    """Carers whose link with the person is accepted and unended (a member may be one of them)."""
    from backend.accounts.models import CarerLink

    return User.objects.filter(pk__in=CarerLink.objects.in_effect().filter(service_user=person).values("carer_id"))


# --- The directory ----------------------------------------------------------------------------------
def resources_visible_to(user: User) -> QuerySet[Resource]:
    """An organisation's admins and practitioners see its directory (admins retired entries too);
    a service user sees the active entries of the organisations they are registered with."""
    resources = Resource.objects.select_related("organisation")
    if user.role == Role.ADMIN:
        return resources.filter(organisation_id=access.organisation_of(user))
    if user.role in PRACTITIONER_ROLES:
        return resources.filter(organisation_id=access.organisation_of(user), is_active=True)
    if user.role == Role.SERVICE_USER:
        return resources.filter(organisation__registrations__service_user=user, is_active=True).distinct()
    raise Forbidden("The resource directory is for the organisation's staff and the people it cares for.")


def resource_for(user: User, resource_id: int) -> Resource:
    from backend.core.errors import one_visible

    return one_visible(resources_visible_to(user), resource_id, noun="resource", field="resource_id")


def directory_for_person(person: User) -> QuerySet[Resource]:
    """The active entries of the directories of the organisations the person is registered with."""
    return Resource.objects.filter(organisation__registrations__service_user=person, is_active=True).distinct()


def suggestions(person: User, social_map: SocialMap | None) -> list[dict]:
    """Resources matching the person's interests and needs, best first: the more categories in common
    the better; then those near them (same postcode district, then area) or reachable online; then
    the most recently checked. In-person local resources in another area are left out when the person
    gave their district."""
    if social_map is None:
        return []
    wanted = set(social_map.interests) | set(social_map.needs)
    if not wanted:
        return []
    district = social_map.postcode_district
    area = postcode_area(district)
    found = []
    # An organisation's directory is short: its entries are matched here, not with JSON containment
    # (PostgreSQL's only; the demo also runs on SQLite).
    for resource in directory_for_person(person):
        if not wanted.intersection(resource.categories):
            continue
        remote = resource.delivery != Resource.Delivery.IN_PERSON or resource.scope == Resource.Scope.NATIONAL
        near = 2 if district and resource.postcode_district == district else 1 if area and postcode_area(resource.postcode_district) == area else 0
        if district and not remote and near == 0:
            continue
        matched = [c for c in resource.categories if c in wanted]
        found.append({"resource": resource, "matched": matched, "matched_labels": [CATEGORY_LABELS[c] for c in matched],
                      "near": near, "remote": remote})
    found.sort(key=lambda s: (-len(s["matched"]), -s["near"], -s["resource"].last_checked_on.toordinal(), s["resource"].name))
    return found


# --- Signposts --------------------------------------------------------------------------------------
def signposts_of(person: User) -> QuerySet[Signpost]:
    from django.db.models import Prefetch

    from backend.network.models import SignpostFollowUp

    return Signpost.objects.filter(service_user=person).select_related("resource", "offered_by").prefetch_related(
        Prefetch("follow_ups", queryset=SignpostFollowUp.objects.select_related("recorded_by").order_by("id"))).order_by("-offered_on", "-id")


def signpost_for(person: User, signpost_id: int) -> Signpost:
    from backend.core.errors import one_visible

    return one_visible(signposts_of(person), signpost_id, noun="signpost", field="signpost_id")


def latest_follow_up(signpost: Signpost):
    follow_ups = list(signpost.follow_ups.all())
    return follow_ups[-1] if follow_ups else None


def people_with_shared_maps(user: User) -> QuerySet[User]:
    """For the landing page of a practitioner or a carer: whose maps they may open."""
    return network_people_visible_to(user).order_by("full_name", "id")


def caseload_without_map_access(user: User) -> QuerySet[User]:
    """A practitioner's caseload people who have made no sharing choice yet: a map can be started with them."""
    if user.role not in PRACTITIONER_ROLES:
        return User.objects.none()
    return access.service_users_visible_to(user).exclude(Exists(MapSharing.objects.filter(service_user=OuterRef("pk")))).order_by("full_name", "id")

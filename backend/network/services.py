"""Changing maps, the directory and signposts. Each action is one transaction that checks who is
acting (through the one access rule in selectors.py) and writes its own audit event."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from backend.accounts import selectors as access
from backend.accounts.models import PRACTITIONER_ROLES, Role, User
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_record
from backend.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.network import selectors
from backend.network.measures import measures, member_facts
from backend.network.models import Category, MapMember, MapSharing, MapSnapshot, Resource, Signpost, SignpostFollowUp, SocialMap
from backend.network.places import postcode_district as district_checked

A = AuditEvent.Action
MAX_MEMBERS = 100  # a map is drawn on one page: more than this is a list, not a map


def _user(actor: Actor) -> User:
    if actor.user is None:
        raise Forbidden("Only someone logged in can change a map.")
    return actor.user


def _categories(codes: list[str], field: str) -> list[str]:
    unknown = [c for c in codes if c not in Category.values]
    if unknown:
        raise InvalidInput(f"'{unknown[0]}' is not one of the categories.", field=field, code="unknown_category")
    return sorted(set(codes))


# --- Starting a map, and who it is shared with --------------------------------------------------
def map_start(*, actor: Actor, service_user: User, care_team: bool, carer_ids: list[int] = (), postcode_district: str = "") -> SocialMap:
    """Start the person's map with their first sharing choice. The person starts it themselves, or a
    clinician or peer worker on their team starts it with them; then the person must agree to share
    it with their care team (otherwise the practitioner could not see what they build together)."""
    user = _user(actor)
    if service_user.role != Role.SERVICE_USER:
        raise InvalidInput("A map is made for a service user.", field="service_user_id", code="wrong_role")
    if user.role in PRACTITIONER_ROLES:
        if not access.service_users_visible_to(user).filter(pk=service_user.pk).exists():
            raise NotFound(f"No service user {service_user.pk} that you can see.", field="service_user_id")
        if not care_team:
            raise InvalidInput("To build the map together, the person must agree that their care team can see it. "
                               "Otherwise they can start it on their own.", field="care_team", code="required")
        if carer_ids:
            raise InvalidInput("Only the person chooses which carers see their map.", field="carer_ids", code="person_only")
    elif user.pk != service_user.pk:
        raise Forbidden("Only the person, or their care team with them, can start their map.")
    district = district_checked(postcode_district)
    carers = _shareable_carers(service_user, carer_ids)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=service_user.pk).first()
        if SocialMap.objects.filter(service_user=service_user).exists() or MapSharing.objects.filter(service_user=service_user).exists():
            raise Conflict("This person's map is already started.", field="service_user_id", code="already_started")
        social_map = SocialMap.objects.create(service_user=service_user, created_by=user, postcode_district=district)
        sharing = MapSharing.objects.create(service_user=service_user, care_team=care_team, carers=carers, recorded_by=user)
        audit_record(actor=actor, action=A.CREATE, obj=social_map, detail={"service_user": service_user.pk})
        audit_record(actor=actor, action=A.CREATE, obj=sharing, detail={"service_user": service_user.pk, "care_team": care_team, "carers": carers})
    return social_map


def _shareable_carers(service_user: User, carer_ids) -> list[int]:
    allowed = {c.pk for c in selectors.carers_to_share_with(service_user)}
    for carer_id in carer_ids:
        if carer_id not in allowed:
            raise InvalidInput("You can share only with a carer you involve (linked, and agreed to involve).", field="carer_ids", code="not_linked")
    return sorted(set(carer_ids))


def sharing_set(*, actor: Actor, service_user: User, care_team: bool, carer_ids: list[int]) -> MapSharing:
    """The person changes who sees their map. Only the person: their map, their choice."""
    user = _user(actor)
    if user.pk != service_user.pk:
        raise Forbidden("Only the person chooses who sees their map.")
    carers = _shareable_carers(service_user, carer_ids)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=service_user.pk).first()
        if not SocialMap.objects.filter(service_user=service_user).exists():
            raise Conflict("Start your map first.", field="service_user_id", code="no_map")
        sharing = MapSharing.objects.create(service_user=service_user, care_team=care_team, carers=carers, recorded_by=user)
        audit_record(actor=actor, action=A.CREATE, obj=sharing, detail={"service_user": service_user.pk, "care_team": care_team, "carers": carers})
    return sharing


def _writable_map(actor: Actor, service_user: User) -> SocialMap:
    selectors.network_person_for(_user(actor), service_user.pk, write=True)
    social_map = selectors.map_of(service_user)
    if social_map is None:
        raise Conflict("This person's map is not started yet.", field="service_user_id", code="no_map")
    return social_map


def _touch(social_map: SocialMap) -> None:
    social_map.updated_at = timezone.now()
    social_map.save(update_fields=["updated_at"])


# --- Members ------------------------------------------------------------------------------------
def _member_fields(service_user: User, fields: dict) -> dict:
    if "circle" in fields and fields["circle"] not in (1, 2, 3):
        raise InvalidInput("Put them on circle 1 (closest), 2 or 3.", field="circle", code="circle_out_of_range")
    if "label" in fields:
        fields["label"] = fields["label"].strip()
        if not fields["label"]:
            raise InvalidInput("Give a name or a word for them: a first name, a nickname or 'Mum' is enough.", field="label", code="required")
    if fields.get("carer_id") is not None:
        if not selectors.linked_carers(service_user).filter(pk=fields["carer_id"]).exists():
            raise InvalidInput("This is not a carer you have linked in Rapport.", field="carer_id", code="not_linked")
    return fields


def member_add(*, actor: Actor, service_user: User, kind: str, label: str, circle: int, contact_frequency: str,
               relationship: str = "", illness_support: bool = False, everyday_support: bool = False,
               emotional_support: bool = False, carer_id: int | None = None) -> MapMember:
    fields = _member_fields(service_user, {
        "kind": kind, "label": label, "circle": circle, "contact_frequency": contact_frequency, "relationship": relationship,
        "illness_support": illness_support, "everyday_support": everyday_support, "emotional_support": emotional_support,
        "carer_id": carer_id,
    })
    if carer_id is not None and kind != MapMember.Kind.PERSON:
        raise InvalidInput("A linked carer is a person: choose 'A person'.", field="kind", code="carer_is_a_person")
    with transaction.atomic():
        social_map = _writable_map(actor, service_user)
        SocialMap.objects.select_for_update().filter(pk=social_map.pk).first()
        if social_map.members.count() >= MAX_MEMBERS:
            raise Conflict(f"A map holds up to {MAX_MEMBERS} members.", field="label", code="too_many_members")
        member = MapMember.objects.create(map=social_map, **fields)
        _touch(social_map)
        audit_record(actor=actor, action=A.CREATE, obj=member, detail={"service_user": service_user.pk, "circle": circle, "kind": kind})
    return member


def member_update(*, actor: Actor, service_user: User, member_id: int, **changes) -> MapMember:
    changes = _member_fields(service_user, changes)
    with transaction.atomic():
        social_map = _writable_map(actor, service_user)
        member = social_map.members.select_for_update().filter(pk=member_id).first()
        if member is None:
            raise NotFound(f"No member {member_id} on this map.", field="member_id")
        for name, value in changes.items():
            setattr(member, name, value)
        if member.carer_id is not None and member.kind != MapMember.Kind.PERSON:
            raise InvalidInput("A linked carer is a person: choose 'A person'.", field="kind", code="carer_is_a_person")
        member.save(update_fields=list(changes) or None)
        _touch(social_map)
        audit_record(actor=actor, action=A.UPDATE, obj=member, detail={"service_user": service_user.pk, "fields": sorted(changes)})
    return member


def member_remove(*, actor: Actor, service_user: User, member_id: int) -> None:
    with transaction.atomic():
        social_map = _writable_map(actor, service_user)
        member = social_map.members.filter(pk=member_id).first()
        if member is None:
            raise NotFound(f"No member {member_id} on this map.", field="member_id")
        member.delete()
        _touch(social_map)
        audit_record(actor=actor, action=A.END, object_type="network.mapmember", object_id=member_id, detail={"service_user": service_user.pk})


def interests_set(*, actor: Actor, service_user: User, interests: list[str], needs: list[str], postcode_district: str | None = None) -> SocialMap:
    interests, needs = _categories(interests, "interests"), _categories(needs, "needs")
    with transaction.atomic():
        social_map = _writable_map(actor, service_user)
        social_map.interests, social_map.needs = interests, needs
        fields = ["interests", "needs", "updated_at"]
        if postcode_district is not None:
            social_map.postcode_district = district_checked(postcode_district)
            fields.append("postcode_district")
        social_map.updated_at = timezone.now()
        social_map.save(update_fields=fields)
        audit_record(actor=actor, action=A.UPDATE, obj=social_map, detail={"service_user": service_user.pk, "interests": interests, "needs": needs})
    return social_map


def snapshot_take(*, actor: Actor, service_user: User, setting: str, note: str = "") -> MapSnapshot:
    """Freeze the map as it is today, to compare with later ones."""
    user = _user(actor)
    if setting not in MapSnapshot.Setting.values:
        raise InvalidInput("Say where the map was made: in a session, with a practitioner, or on your own.", field="setting", code="invalid_choice")
    if user.role in PRACTITIONER_ROLES and setting == MapSnapshot.Setting.ON_OWN:
        raise InvalidInput("You are making it with the person, so it is not 'on their own'.", field="setting", code="not_on_own")
    with transaction.atomic():
        social_map = _writable_map(actor, service_user)
        members = [member_facts(m) for m in social_map.members.all()]
        snapshot = MapSnapshot.objects.create(
            map=social_map, setting=setting, members=members, interests=social_map.interests, needs=social_map.needs,
            measures=measures(members), note=note.strip(), taken_by=user,
        )
        audit_record(actor=actor, action=A.CREATE, obj=snapshot, detail={"service_user": service_user.pk, "size": len(members)})
    return snapshot


# --- The directory (admins) -----------------------------------------------------------------------
RESOURCE_FIELDS = ("name", "description", "categories", "scope", "delivery", "postcode_district", "address", "wheelchair_access",
                   "transport_links", "opening_times", "contact_phone", "contact_email", "contact_website", "last_checked_on", "is_active")


def _resource_checked(values: dict) -> dict:
    """The whole resource's fields, checked together (a partial change is checked as the result)."""
    if not (values.get("name") or "").strip():
        raise InvalidInput("Give the resource's name.", field="name", code="required")
    values["name"] = values["name"].strip()
    if not any((values.get(f) or "").strip() for f in ("contact_phone", "contact_email", "contact_website")):
        raise InvalidInput("Give at least one way to get in touch: a phone number, an email address or a website.",
                           field="contact_phone", code="contact_required")
    if not values.get("categories"):
        raise InvalidInput("Choose at least one category, so it can be suggested to people.", field="categories", code="required")
    values["categories"] = _categories(values["categories"], "categories")
    values["postcode_district"] = district_checked(values.get("postcode_district") or "")
    if values.get("scope") == Resource.Scope.LOCAL and values.get("delivery") != Resource.Delivery.ONLINE and not values["postcode_district"]:
        raise InvalidInput("A local resource that meets in person needs its postcode district, for example LS6.",
                           field="postcode_district", code="required")
    checked_on = values.get("last_checked_on")
    if checked_on is None:
        raise InvalidInput("Say when these details were last checked.", field="last_checked_on", code="required")
    if checked_on > timezone.localdate():
        raise InvalidInput("The date last checked cannot be in the future.", field="last_checked_on", code="in_the_future")
    return values


def _admin(actor: Actor) -> User:
    user = _user(actor)
    if user.role != Role.ADMIN or user.organisation_id is None:
        raise Forbidden("Only an organisation's administrators manage its resource directory.")
    return user


def resource_create(*, actor: Actor, **fields) -> Resource:
    admin = _admin(actor)
    values = _resource_checked({name: fields.get(name) for name in RESOURCE_FIELDS if name in fields})
    with transaction.atomic():
        resource = Resource.objects.create(organisation_id=admin.organisation_id, **values)
        audit_record(actor=actor, action=A.CREATE, obj=resource, detail={"name": resource.name})
    return resource


def resource_update(*, actor: Actor, resource: Resource, **changes) -> Resource:
    admin = _admin(actor)
    if resource.organisation_id != admin.organisation_id:
        raise NotFound(f"No resource {resource.pk} that you can see.", field="resource_id")
    values = {name: getattr(resource, name) for name in RESOURCE_FIELDS}
    values.update({name: value for name, value in changes.items() if name in RESOURCE_FIELDS})
    values = _resource_checked(values)
    with transaction.atomic():
        for name in RESOURCE_FIELDS:
            setattr(resource, name, values[name])
        resource.save(update_fields=list(RESOURCE_FIELDS))
        audit_record(actor=actor, action=A.UPDATE, obj=resource, detail={"fields": sorted(changes)})
    return resource


# --- Signposting ----------------------------------------------------------------------------------
def signpost_offer(*, actor: Actor, service_user: User, resource_id: int, follow_up_on: date, note: str = "",
                   from_suggestions: bool = True) -> Signpost:
    """Record that a resource was offered to the person, and when to ask how it went."""
    user = _user(actor)
    selectors.network_person_for(user, service_user.pk, write=True)
    resource = selectors.directory_for_person(service_user).filter(pk=resource_id).first()
    if resource is None:
        raise InvalidInput("That resource is not in the directory of the person's services.", field="resource_id", code="not_in_directory")
    today = timezone.localdate()
    if follow_up_on < today:
        raise InvalidInput("The follow-up date cannot be before today.", field="follow_up_on", code="before_signpost")
    with transaction.atomic():
        signpost = Signpost.objects.create(service_user=service_user, resource=resource, follow_up_on=follow_up_on, note=note.strip(),
                                           from_suggestions=from_suggestions, offered_on=today, offered_by=user)
        audit_record(actor=actor, action=A.CREATE, obj=signpost, detail={"service_user": service_user.pk, "resource": resource.pk})
    return signpost


def follow_up_record(*, actor: Actor, service_user: User, signpost: Signpost, outcome: str, happened_on: date, reason: str = "",
                     note: str = "") -> SignpostFollowUp:
    """What happened: went, did not go (and why), or not yet. Never dated before the signpost."""
    user = _user(actor)
    selectors.network_person_for(user, service_user.pk, write=True)
    if signpost.service_user_id != service_user.pk:
        raise NotFound(f"No signpost {signpost.pk} for this person.", field="signpost_id")
    if outcome not in SignpostFollowUp.Outcome.values:
        raise InvalidInput("Say whether they went, did not go, or not yet.", field="outcome", code="invalid_choice")
    if happened_on < signpost.offered_on:
        raise InvalidInput(f"The outcome cannot be before the signpost ({signpost.offered_on:%d %B %Y}).", field="happened_on",
                           code="before_signpost")
    if happened_on > timezone.localdate():
        raise InvalidInput("The outcome cannot be dated in the future.", field="happened_on", code="in_the_future")
    if outcome == SignpostFollowUp.Outcome.DID_NOT_GO:
        if reason not in SignpostFollowUp.Reason.values:
            raise InvalidInput("Say why they did not go.", field="reason", code="required")
        if reason == SignpostFollowUp.Reason.OTHER and not note.strip():
            raise InvalidInput("Say a little about the other reason.", field="note", code="required")
    elif reason:
        raise InvalidInput("A reason is only for 'did not go'.", field="reason", code="not_applicable")
    with transaction.atomic():
        follow_up = SignpostFollowUp.objects.create(signpost=signpost, outcome=outcome, reason=reason, note=note.strip(),
                                                    happened_on=happened_on, recorded_by=user)
        audit_record(actor=actor, action=A.CREATE, obj=follow_up, detail={"service_user": service_user.pk, "signpost": signpost.pk, "outcome": outcome})
    return follow_up

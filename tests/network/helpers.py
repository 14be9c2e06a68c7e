"""Maps, directory entries and signposts for tests, made through the network services."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from backend.audit.actor import Actor
from backend.network import services
from backend.network.models import Resource, Signpost, SocialMap

RESOURCE = {
    "name": "Hyde Park walking group", "description": "A friendly walk every week.", "categories": ["physical_activity", "social_groups"],
    "scope": "local", "delivery": "in_person", "postcode_district": "LS6", "address": "Meets at the park gates",
    "wheelchair_access": "yes", "transport_links": "Buses 1 and 6", "opening_times": "Saturdays, 10am",
    "contact_phone": "0113 496 0000", "last_checked_on": date(2026, 1, 5),
}


def resource(world, **changes) -> Resource:
    """The world's directory entry (one per world unless `changes` asks for another)."""
    if not changes and getattr(world, "_resource", None) is not None:
        return world._resource
    made = services.resource_create(actor=Actor(world.admin, via="test"), **{**RESOURCE, **changes})
    if not changes:
        world._resource = made
    return made


def started_map(world, *, share_with_carer: bool = True) -> SocialMap:
    """The world's service user's map, shared with their care team (and their carer), with two members
    and interests that match the world's resource. Made once per world."""
    if getattr(world, "_map", None) is not None:
        return world._map
    person = world.service_user
    me = Actor(person, via="test")
    social_map = services.map_start(actor=me, service_user=person, care_team=True,
                                    carer_ids=[world.carer.pk] if share_with_carer else [], postcode_district="LS6")
    services.member_add(actor=me, service_user=person, kind="person", label="Mum", circle=1, contact_frequency="daily",
                        relationship="family", emotional_support=True, everyday_support=True, carer_id=world.carer.pk)
    services.member_add(actor=me, service_user=person, kind="group", label="Choir", circle=3, contact_frequency="weekly")
    services.interests_set(actor=me, service_user=person, interests=["physical_activity"], needs=["money"])
    world._map = social_map
    return social_map


def member(world):
    return started_map(world).members.order_by("id").first()


def snapshot(world):
    started_map(world)
    if getattr(world, "_snapshot", None) is None:
        world._snapshot = services.snapshot_take(actor=Actor(world.service_user, via="test"), service_user=world.service_user, setting="on_own")
    return world._snapshot


def signpost(world) -> Signpost:
    started_map(world)
    if getattr(world, "_signpost", None) is None:
        world._signpost = services.signpost_offer(actor=Actor(world.clinician, via="test"), service_user=world.service_user,
                                                  resource_id=resource(world).pk, follow_up_on=timezone.localdate() + timedelta(days=14))
    return world._signpost

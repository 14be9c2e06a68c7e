"""The map, suggestions and signposting pages, for the person, their care team and carers they share
with. Thin: each page asks the one access rule (`network_person_for`), calls one service, renders."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from backend.accounts import selectors as access
from backend.accounts.models import PRACTITIONER_ROLES, Role
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_list, audit_record
from backend.core.errors import DomainError, Forbidden, NotFound
from backend.network import forms as f
from backend.network import selectors, services
from backend.network.drawing import SHAPE_KEYS, map_svg
from backend.network.measures import SUPPORT_LABELS, measures, member_facts
from backend.network.models import Category, MapMember

CATEGORY_LABELS = dict(Category.choices)
NETWORK_ROLES = frozenset({Role.SERVICE_USER, Role.CARER, *PRACTITIONER_ROLES})


def network_page(view):
    """Pages for the person, their care team and carers: a 403 page for other roles; an object outside
    the asker's view is a 404 page (so its existence is not revealed)."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if request.user.role not in NETWORK_ROLES:
            return render(request, "consent/not_for_you.html", {"who": "people receiving care, their care teams and carers they share with"},
                          status=403)
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.detail) from error
        except Forbidden:
            return render(request, "consent/not_for_you.html", {"who": "the person and their care team"}, status=403)

    return wrapped


def _actor(request) -> Actor:
    return Actor.from_request(request)


def _is_self(request, person) -> bool:
    return request.user.pk == person.pk


KIND_LABELS, RELATIONSHIP_LABELS, FREQUENCY_LABELS = (dict(MapMember.Kind.choices), dict(MapMember.Relationship.choices),
                                                     dict(MapMember.Frequency.choices))


def _labelled(members: list[dict]) -> list[dict]:
    """Members' codes in words, for the table (a snapshot keeps codes only)."""
    return [{**m, "kind_label": KIND_LABELS.get(m["kind"], m["kind"]), "relationship_label": RELATIONSHIP_LABELS.get(m["relationship"], ""),
             "frequency_label": FREQUENCY_LABELS.get(m["contact_frequency"], m["contact_frequency"])} for m in members]


def _drawn(members: list[dict], ident: str, title: str) -> dict:
    members = _labelled(members)
    facts = measures(members)
    return {
        "svg": map_svg(members, ident=ident, title=title),
        "members": members,
        "measures": facts,
        "support": [(SUPPORT_LABELS[t], facts["support_counts"][t]) for t in SUPPORT_LABELS],
        "missing_support": [SUPPORT_LABELS[t] for t in SUPPORT_LABELS if t not in facts["support_types_covered"]],
    }


# --- Landing page -------------------------------------------------------------------------------
@network_page
@require_http_methods(["GET", "HEAD"])
def home(request):
    user = request.user
    if user.role == Role.SERVICE_USER:
        return redirect("network-map", service_user_id=user.pk)
    shared = list(selectors.people_with_shared_maps(user))
    not_started = list(selectors.caseload_without_map_access(user))
    audit_list(actor=_actor(request), object_type="accounts.user", ids=[p.pk for p in shared + not_started], detail={"page": "network-home"})
    return render(request, "network/home.html", {"shared": shared, "not_started": not_started})


# --- The map ------------------------------------------------------------------------------------
def _map_page(request, person, *, status: int = 200, **bound):
    user = request.user
    social_map = selectors.map_of(person)
    can_change = user.role != Role.CARER
    members = selectors.members_of(social_map)
    facts = [{**member_facts(m), "id": m.pk} for m in members]
    carers = selectors.carers_to_share_with(person)
    sharing = selectors.sharing_latest(person)
    context = {
        "person": person, "is_self": _is_self(request, person), "social_map": social_map, "can_change": can_change,
        "drawn": _drawn(facts, "map-now", f"{'Your' if _is_self(request, person) else person.display_name + chr(8217) + 's'} connection map"),
        "shape_labels": SHAPE_KEYS,
        "interests": [CATEGORY_LABELS[c] for c in (social_map.interests if social_map else [])],
        "needs": [CATEGORY_LABELS[c] for c in (social_map.needs if social_map else [])],
        "sharing": sharing if user.role != Role.CARER else None,
        "shared_carers": [c for c in carers if sharing and c.pk in sharing.carers],
        "snapshots": list(selectors.snapshots_of(social_map)[:20]),
        "member_form": bound.get("member_form") or f.MemberForm(carers=list(selectors.linked_carers(person)) if can_change else (), auto_id="id_member_%s"),
        "snapshot_form": bound.get("snapshot_form") or f.SnapshotForm(auto_id="id_snapshot_%s",
                                                                      initial={"setting": "on_own" if _is_self(request, person) else "in_session"}),
        "sharing_form": bound.get("sharing_form") or f.SharingForm(carers=carers, auto_id="id_sharing_%s", initial={
            "care_team": sharing.care_team if sharing else True, "carer_ids": sharing.carers if sharing else []}),
        "start_form": bound.get("start_form") or (f.OwnStartForm(auto_id="id_start_%s") if _is_self(request, person) else f.StartForm(auto_id="id_start_%s")),
    }
    audit_record(actor=_actor(request), action=AuditEvent.Action.READ, object_type="network.socialmap", object_id=person.pk,
                 detail={"page": "network-map", "members": [m.pk for m in members]})
    return render(request, "network/map.html", context, status=status)


def _person(request, service_user_id: int, *, write: bool = False, start: bool = False):
    """The person whose map this is, by the one access rule. Starting a map is the one thing a
    practitioner may do before the person has shared it: they must have them on their caseload."""
    if start and request.user.role in PRACTITIONER_ROLES:
        return access.service_user_for(request.user, service_user_id)
    return selectors.network_person_for(request.user, service_user_id, write=write)


@network_page
@require_http_methods(["GET", "HEAD"])
def map_page(request, service_user_id: int):
    user = request.user
    if user.role in PRACTITIONER_ROLES and selectors.sharing_latest(access.service_user_for(user, service_user_id)) is None:
        person = access.service_user_for(user, service_user_id)  # not started: offer to start it with them
    else:
        person = selectors.network_person_for(user, service_user_id)
    return _map_page(request, person)


@network_page
@require_POST
def start(request, service_user_id: int):
    person = _person(request, service_user_id, start=True)
    form = (f.OwnStartForm if _is_self(request, person) else f.StartForm)(request.POST, auto_id="id_start_%s")
    if form.is_valid():
        try:
            services.map_start(actor=_actor(request), service_user=person, care_team=form.cleaned_data["care_team"])
        except DomainError as error:
            f.show_error(form, error)
        else:
            messages.success(request, "Done. The map is started. Add the people, groups, activities and places in "
                             f"{'your' if _is_self(request, person) else 'their'} life below.")
            return redirect("network-map", service_user_id=person.pk)
    return _map_page(request, person, status=400, start_form=form)


def _member_data(form) -> dict:
    data = dict(form.cleaned_data)
    data.setdefault("carer_id", None)
    return data


@network_page
@require_POST
def member_add(request, service_user_id: int):
    person = _person(request, service_user_id, write=True)
    form = f.MemberForm(request.POST, carers=list(selectors.linked_carers(person)), auto_id="id_member_%s")
    if form.is_valid():
        try:
            member = services.member_add(actor=_actor(request), service_user=person, **_member_data(form))
        except DomainError as error:
            f.show_error(form, error)
        else:
            messages.success(request, f"Done. {member.label} is on circle {member.circle}.")
            return redirect(reverse("network-map", args=[person.pk]) + "#members")
    return _map_page(request, person, status=400, member_form=form)


@network_page
@require_http_methods(["GET", "HEAD", "POST"])
def member_edit(request, service_user_id: int, member_id: int):
    person = _person(request, service_user_id, write=True)
    social_map = selectors.map_of(person)
    member = social_map.members.filter(pk=member_id).first() if social_map else None
    if member is None:
        raise Http404("No such member on this map.")
    carers = list(selectors.linked_carers(person))
    if request.method == "POST":
        form = f.MemberForm(request.POST, carers=carers)
        if form.is_valid():
            try:
                services.member_update(actor=_actor(request), service_user=person, member_id=member.pk, **_member_data(form))
            except DomainError as error:
                f.show_error(form, error)
            else:
                messages.success(request, f"Done. {form.cleaned_data['label']} is saved.")
                return redirect("network-map", service_user_id=person.pk)
    else:
        form = f.MemberForm(carers=carers, initial={
            "label": member.label, "kind": member.kind, "circle": member.circle, "relationship": member.relationship,
            "contact_frequency": member.contact_frequency, "illness_support": member.illness_support,
            "everyday_support": member.everyday_support, "emotional_support": member.emotional_support, "carer_id": member.carer_id})
    audit_record(actor=_actor(request), action=AuditEvent.Action.READ, obj=member, detail={"page": "network-member-edit", "service_user": person.pk})
    return render(request, "network/member.html", {"person": person, "member": member, "form": form, "is_self": _is_self(request, person)},
                  status=400 if form.is_bound and form.errors else 200)


@network_page
@require_POST
def member_remove(request, service_user_id: int, member_id: int):
    person = _person(request, service_user_id, write=True)
    try:
        services.member_remove(actor=_actor(request), service_user=person, member_id=member_id)
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, "Done. They are no longer on the map. Earlier snapshots still show them.")
    return redirect("network-map", service_user_id=person.pk)


@network_page
@require_http_methods(["GET", "HEAD", "POST"])
def interests(request, service_user_id: int):
    person = _person(request, service_user_id, write=True)
    social_map = selectors.map_of(person)
    if social_map is None:
        messages.error(request, "Start the map first.")
        return redirect("network-map", service_user_id=person.pk)
    if request.method == "POST":
        form = f.InterestsForm(request.POST)
        if form.is_valid():
            try:
                services.interests_set(actor=_actor(request), service_user=person, **form.cleaned_data)
            except DomainError as error:
                f.show_error(form, error)
            else:
                messages.success(request, "Done. Here are services and groups that match.")
                return redirect("network-suggestions", service_user_id=person.pk)
    else:
        form = f.InterestsForm(initial={"interests": social_map.interests, "needs": social_map.needs,
                                        "postcode_district": social_map.postcode_district})
    audit_record(actor=_actor(request), action=AuditEvent.Action.READ, object_type="network.socialmap", object_id=person.pk,
                 detail={"page": "network-interests"})
    return render(request, "network/interests.html", {"person": person, "form": form, "is_self": _is_self(request, person)},
                  status=400 if form.is_bound and form.errors else 200)


@network_page
@require_POST
def sharing(request, service_user_id: int):
    person = _person(request, service_user_id, write=True)
    form = f.SharingForm(request.POST, carers=selectors.carers_to_share_with(person), auto_id="id_sharing_%s")
    if form.is_valid():
        try:
            services.sharing_set(actor=_actor(request), service_user=person, care_team=form.cleaned_data["care_team"],
                                 carer_ids=form.cleaned_data.get("carer_ids") or [])
        except DomainError as error:
            f.show_error(form, error)
        else:
            messages.success(request, "Done. Who can see your map has changed, straight away.")
            return redirect("network-map", service_user_id=person.pk)
    return _map_page(request, person, status=400, sharing_form=form)


# --- Snapshots ----------------------------------------------------------------------------------
@network_page
@require_http_methods(["GET", "HEAD", "POST"])
def snapshots(request, service_user_id: int):
    if request.method == "POST":
        person = _person(request, service_user_id, write=True)
        form = f.SnapshotForm(request.POST, auto_id="id_snapshot_%s")
        if form.is_valid():
            try:
                services.snapshot_take(actor=_actor(request), service_user=person, **form.cleaned_data)
            except DomainError as error:
                f.show_error(form, error)
            else:
                messages.success(request, "Done. The map is saved as it is today. Compare it with earlier ones below.")
                return redirect("network-snapshots", service_user_id=person.pk)
        return _map_page(request, person, status=400, snapshot_form=form)
    person = _person(request, service_user_id)
    all_snapshots = list(selectors.snapshots_of(selectors.map_of(person)))
    by_id = {s.pk: s for s in all_snapshots}

    def chosen(name: str, default):
        value = request.GET.get(name, "")
        return by_id.get(int(value)) if value.isascii() and value.isdigit() and len(value) < 12 else default

    left = chosen("before", all_snapshots[1] if len(all_snapshots) > 1 else None)
    right = chosen("after", all_snapshots[0] if all_snapshots else None)
    shown = [s for s in (left, right) if s is not None]
    columns = [{"snapshot": s, "drawn": _drawn(s.members, f"snapshot-{s.pk}-{i}", f"Map on {s.taken_at:%d %B %Y}"),
                "setting": s.get_setting_display()} for i, s in enumerate(shown)]
    changes = _changes(left.members, right.members) if left and right and left.pk != right.pk else None
    audit_list(actor=_actor(request), object_type="network.mapsnapshot", ids=[s.pk for s in shown],
               detail={"page": "network-snapshots", "service_user": person.pk})
    return render(request, "network/snapshots.html", {
        "person": person, "is_self": _is_self(request, person), "snapshots": all_snapshots, "columns": columns, "changes": changes,
        "left": left, "right": right, "shape_labels": SHAPE_KEYS,
    })


def _changes(before: list[dict], after: list[dict]) -> list[str]:
    """What changed between two snapshots, in words (members matched by their label)."""
    old = {m["label"]: m for m in before}
    new = {m["label"]: m for m in after}
    lines = [f"{label} joined, on circle {new[label]['circle']}." for label in new if label not in old]
    lines += [f"{label} is no longer on the map." for label in old if label not in new]
    for label in new:
        if label in old and old[label]["circle"] != new[label]["circle"]:
            closer = "closer" if new[label]["circle"] < old[label]["circle"] else "further out"
            lines.append(f"{label} moved {closer}, from circle {old[label]['circle']} to circle {new[label]['circle']}.")
    return lines


# --- Suggestions and signposting ----------------------------------------------------------------
@network_page
@require_http_methods(["GET", "HEAD", "POST"])
def suggestions(request, service_user_id: int):
    person = _person(request, service_user_id, write=True)
    social_map = selectors.map_of(person)
    failed = None
    if request.method == "POST":
        failed = f.SignpostForm(request.POST, auto_id=f"id_offer_{request.POST.get('resource_id', '')[:12]}_%s")
        if failed.is_valid():
            try:
                services.signpost_offer(actor=_actor(request), service_user=person, **failed.cleaned_data)
            except DomainError as error:
                f.show_error(failed, error)
            else:
                messages.success(request, "Done. This is saved, with the date to follow up. Record how it went on this page.")
                return redirect("network-signposts", service_user_id=person.pk)
    found = selectors.suggestions(person, social_map)[:50]
    for item in found:
        resource = item["resource"]
        bound = failed if failed is not None and str(failed.data.get("resource_id")) == str(resource.pk) else None
        item["form"] = bound or f.SignpostForm(auto_id=f"id_offer_{resource.pk}_%s", initial={"resource_id": resource.pk})
        item["categories"] = [CATEGORY_LABELS[c] for c in resource.categories]
    audit_record(actor=_actor(request), action=AuditEvent.Action.READ, object_type="network.socialmap", object_id=person.pk,
                 detail={"page": "network-suggestions", "suggestions": [x["resource"].pk for x in found]})
    return render(request, "network/suggestions.html", {
        "person": person, "is_self": _is_self(request, person), "social_map": social_map, "suggestions": found,
        "interests": [CATEGORY_LABELS[c] for c in (social_map.interests if social_map else [])],
        "needs": [CATEGORY_LABELS[c] for c in (social_map.needs if social_map else [])],
    }, status=400 if failed is not None and failed.errors else 200)


def _signposts_page(request, person, *, status: int = 200, bound=None):
    items = list(selectors.signposts_of(person))
    rows = []
    for signpost in items:
        latest = selectors.latest_follow_up(signpost)
        form = bound[1] if bound and bound[0] == signpost.pk else f.FollowUpForm(auto_id=f"id_follow_{signpost.pk}_%s")
        rows.append({"signpost": signpost, "latest": latest, "form": form})
    audit_list(actor=_actor(request), object_type="network.signpost", ids=[s.pk for s in items],
               detail={"page": "network-signposts", "service_user": person.pk})
    return render(request, "network/signposts.html", {"person": person, "is_self": _is_self(request, person), "rows": rows}, status=status)


@network_page
@require_http_methods(["GET", "HEAD"])
def signposts(request, service_user_id: int):
    return _signposts_page(request, _person(request, service_user_id, write=True))


@network_page
@require_POST
def follow_up(request, service_user_id: int, signpost_id: int):
    person = _person(request, service_user_id, write=True)
    signpost = selectors.signpost_for(person, signpost_id)
    form = f.FollowUpForm(request.POST, auto_id=f"id_follow_{signpost.pk}_%s")
    if form.is_valid():
        try:
            services.follow_up_record(actor=_actor(request), service_user=person, signpost=signpost, **form.cleaned_data)
        except DomainError as error:
            f.show_error(form, error)
        else:
            messages.success(request, f"Done. How it went with {signpost.resource.name} is saved.")
            return redirect("network-signposts", service_user_id=person.pk)
    return _signposts_page(request, person, status=400, bound=(signpost.pk, form))

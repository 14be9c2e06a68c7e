"""Issue 18's leftovers for the relatives' space: ending a membership (the relative leaving, or an admin) at
once, the supporters' live count of flags, reordering a draft's pages, and the `relatives` evaluation dataset
governed by each relative's own consent. Real services and PostgreSQL, through the pages and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.audit.actor import Actor
from backend.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.evaluation.dictionary import RELATIVES
from backend.evaluation.pseudonyms import relative_ref
from backend.relatives import selectors, services
from backend.relatives.models import ForumPost, ModulePage, PageOpen, RelativeEvaluationConsent, Supporter
from tests.evaluation.test_exports import csv_rows, unzip
from tests.relatives.helpers import relatives_world

pytestmark = pytest.mark.django_db
RISKY = "Some nights I want to die."


def _relative(world, n: int):
    return services.relative_invite(actor=Actor(world.admin, via="test"), email=f"relative{n}@example.test", full_name=f"Relative Number{n}",
                                    notify=False)


def _consent(relative, given=True):
    return services.relative_evaluation_consent_record(actor=Actor(relative.user, via="test"), given=given)


# --- Ending a membership -------------------------------------------------------------------------------------
def test_a_relative_leaves_from_the_page_and_every_open_page_and_call_is_refused_at_once(world, client, api):
    rw = relatives_world(world)
    client.force_login(world.carer)
    assert client.get("/relatives/leave/").status_code == 200
    thread_url = f"/relatives/messages/{rw.thread.pk}/"
    assert client.get(thread_url).status_code == 200  # an open page...
    response = client.post("/relatives/leave/")
    assert response.status_code == 302 and response["Location"] == "/"
    rw.relative.refresh_from_db()
    assert rw.relative.ended_at is not None
    # ...whose next request, in the same browser session or through the API, is refused.
    assert client.post(thread_url, {"body": "One more thing"}).status_code == 403
    assert client.get("/relatives/").status_code == 403 and client.get("/relatives/forum/").status_code == 403
    assert api(world.carer).get("/api/v1/relatives/threads/").status_code == 403
    assert rw.thread.messages.count() == 1  # nothing written after leaving
    # The carer link, and the carer's home, are untouched; their say over the evaluation stays open.
    assert client.get("/").status_code == 200 and client.get("/relatives/evaluation/").status_code == 200
    with pytest.raises(Conflict):
        services.relative_end(actor=Actor(world.carer, via="test"), relative=rw.relative)


def test_leaving_can_take_the_relative_out_of_the_evaluation_too(world, client):
    rw = relatives_world(world)
    _consent(rw.relative)
    client.force_login(world.carer)
    assert b"Also stop counting" in client.get("/relatives/leave/").content
    client.post("/relatives/leave/", {"stop_evaluation": "1"})
    assert selectors.evaluation_decision_of(rw.relative).decision == RelativeEvaluationConsent.Decision.WITHDRAWN
    assert not selectors.relatives_in_evaluation(world.organisation.pk).exists()


def test_an_admin_ends_a_membership_from_the_staff_page_and_a_trained_supporter_stops_supporting(world, client):
    rw = relatives_world(world)
    other = _relative(world, 1)
    services.supporter_add(actor=Actor(world.admin, via="test"), user=other.user)  # a trained relative
    url = f"/relatives/staff/relatives/{other.pk}/end/"
    client.force_login(world.admin)
    assert f"End {other.user.full_name}".encode() in client.get("/relatives/staff/").content
    # Denials first: a clinician, a relative, and an id from nowhere; a GET is not an action.
    for who in (world.clinician, world.carer):
        client.force_login(who)
        assert client.post(url).status_code == 403
    client.force_login(world.admin)
    assert client.get(url).status_code == 405
    assert client.post("/relatives/staff/relatives/999999/end/").status_code == 404
    other.refresh_from_db()
    assert other.ended_at is None
    client.force_login(other.user)
    assert client.get("/relatives/flags/waiting/").status_code == 200  # supporting, page open
    client.force_login(world.admin)
    assert client.post(url).status_code == 302
    other.refresh_from_db()
    assert other.ended_at is not None
    assert not Supporter.objects.filter(user=other.user, ended_at__isnull=True).exists()
    client.force_login(other.user)
    assert client.get("/relatives/").status_code == 403
    waiting = client.get("/relatives/flags/waiting/")
    assert waiting.status_code == 403 and "no longer" in waiting.json()["detail"]
    client.force_login(world.admin)
    assert client.post(url).status_code == 404  # already ended
    with pytest.raises(Forbidden):  # one relative cannot end another's membership
        services.relative_end(actor=Actor(world.carer, via="test"), relative=_relative(world, 2))
    assert rw.relative.ended_at is None


# --- The supporters' live count ----------------------------------------------------------------------------------
def test_the_live_count_of_flags_grows_for_supporters_only(world, client):
    rw = relatives_world(world)
    client.force_login(world.peer_worker)
    assert client.get("/relatives/flags/waiting/").json() == {"open": 0}
    page = client.get("/relatives/flags/").content.decode()
    assert 'data-relatives-flags="/relatives/flags/waiting/"' in page and "rapport/relatives-flags." in page
    services.message_send(actor=Actor(world.carer, via="test"), thread=rw.thread, body=RISKY)
    response = client.get("/relatives/flags/waiting/")
    assert response.json() == {"open": 1} and response["Cache-Control"] == "no-store"
    services.safety_flag_review(actor=Actor(world.peer_worker, via="test"), flag=selectors.flags_visible_to(world.peer_worker).get())
    assert client.get("/relatives/flags/waiting/").json() == {"open": 0}
    for who in (world.carer, world.clinician, world.admin, world.service_user):
        client.force_login(who)
        assert client.get("/relatives/flags/waiting/").status_code == 403
    client.logout()
    assert client.get("/relatives/flags/waiting/").status_code == 403
    services.supporter_end(actor=Actor(world.admin, via="test"), supporter=rw.supporter)
    client.force_login(world.peer_worker)
    assert client.get("/relatives/flags/waiting/").status_code == 403


# --- Reordering a draft's pages --------------------------------------------------------------------------------
def _draft_with_pages(world):
    admin = Actor(world.admin, via="test")
    version = services.module_create(actor=admin, title="Sleep")
    section = services.section_add(actor=admin, version=version, title="Nights")
    pages = [services.page_add(actor=admin, section=section, title=t, body="Words.") for t in ("One", "Two", "Three")]
    return version, section, pages


def _titles(section):
    return list(ModulePage.objects.filter(section=section).order_by("position", "id").values_list("title", flat=True))


def test_the_admin_reorders_a_drafts_pages_and_a_published_version_never_changes(world, client):
    version, section, (one, two, three) = _draft_with_pages(world)
    url = f"/relatives/staff/modules/{version.module_id}/"
    client.force_login(world.admin)
    assert b"Move &ldquo;Three&rdquo; up" in client.get(url).content
    assert client.post(url, {"action": "move_page", "page_id": three.pk, "direction": "up"}).status_code == 302
    assert _titles(section) == ["One", "Three", "Two"]
    client.post(url, {"action": "move_page", "page_id": one.pk, "direction": "down"})
    assert _titles(section) == ["Three", "One", "Two"]
    client.post(url, {"action": "move_page", "page_id": three.pk, "direction": "up"})  # already first: stays
    assert _titles(section) == ["Three", "One", "Two"]
    for bad in ({"page_id": one.pk, "direction": "sideways"}, {"page_id": "x", "direction": "up"}, {"page_id": 999999, "direction": "up"}):
        assert client.post(url, {"action": "move_page", **bad}).status_code == 400
    assert _titles(section) == ["Three", "One", "Two"]
    for who in (world.clinician, world.carer):
        client.force_login(who)
        assert client.post(url, {"action": "move_page", "page_id": one.pk, "direction": "up"}).status_code == 403
    assert _titles(section) == ["Three", "One", "Two"]
    services.version_publish(actor=Actor(world.admin, via="test"), version=version)
    with pytest.raises(Conflict):
        services.page_move(actor=Actor(world.admin, via="test"), page=one, direction="up")
    with pytest.raises(InvalidInput):
        services.page_move(actor=Actor(world.admin, via="test"), page=one, direction="left")
    # Relatives read the published order.
    client.force_login(world.admin)
    assert client.post(url, {"action": "move_page", "page_id": one.pk, "direction": "up"}).status_code == 400
    assert _titles(section) == ["Three", "One", "Two"]


def test_another_organisations_admin_cannot_move_a_page(world):
    from backend.accounts import services as accounts
    from backend.accounts.models import Role
    from tests.factories import SYSTEM, make_user

    elsewhere = accounts.organisation_create(actor=SYSTEM, name="Elsewhere Trust", staff_two_factor_required=False)
    stranger = make_user(Role.ADMIN, organisation=elsewhere)
    _, section, (one, *_) = _draft_with_pages(world)
    with pytest.raises(NotFound):
        services.page_move(actor=Actor(stranger, via="test"), page=one, direction="down")
    assert _titles(section) == ["One", "Two", "Three"]


# --- The relatives evaluation dataset --------------------------------------------------------------------------
def _export(api, world, **body):
    return api(world.evaluator).post("/api/v1/evaluation/exports/", {"dataset": "relatives", "format": "csv", "dates": "exact", **body},
                                     format="json")


def test_relatives_who_agree_are_counted_pseudonymised_and_nobody_else(world, api, client):
    """Worked by hand. The world's carer (from the carer link) and five relatives invited on their own agree;
    a sixth never answers and a seventh says no. The carer: opens three pages (the first read for 120 s), starts a
    conversation with a risky word (1 conversation, 1 message, 1 flag) that a supporter answers (1 reply),
    already has a held post (helpers), replies to the published welcome (held: the forum's mode) with a risky
    word (1 more flag), reports the welcome (1 report), and a supporter removes their first post. Relative 1
    leaves (still counted, with the day they left)."""
    rw = relatives_world(world)
    others = [_relative(world, n) for n in range(1, 8)]
    for relative in [rw.relative, *others[:5]]:
        _consent(relative)
    _consent(others[6], given=False)
    carer = Actor(world.carer, via="test")
    pages = list(ModulePage.objects.filter(section__version=rw.modules[0]).order_by("section__position", "position"))[:3]
    services.page_open_record(actor=carer, page=pages[0])
    PageOpen.objects.filter(relative=rw.relative).update(opened_at=timezone.now() - timedelta(seconds=120))
    services.page_open_record(actor=carer, page=pages[1])
    services.page_open_record(actor=carer, page=pages[2])
    thread, flag = services.thread_start(actor=carer, subject="Nights", body=RISKY)
    assert flag is not None
    services.message_send(actor=Actor(world.peer_worker, via="test"), thread=thread, body="Thank you for telling us. Here is what may help.")
    reply, flag = services.forum_post_create(actor=carer, body=f"Me too. {RISKY}", parent=rw.published_post)
    assert flag is not None and reply.state == ForumPost.State.HELD
    services.forum_post_report(actor=carer, post=rw.published_post, reason="Please check the wording.")
    services.forum_post_moderate(actor=Actor(world.peer_worker, via="test"), post=rw.held_post, decision="remove")
    services.relative_end(actor=Actor(others[0].user, via="test"), relative=others[0])

    rows = {r["relative"]: r for r in csv_rows(unzip(_export(api, world))["relatives.csv"])}
    assert list(next(iter(rows.values()))) == RELATIVES.names
    assert set(rows) == {relative_ref(r.user_id) for r in [rw.relative, *others[:5]]}  # not the silent one, nor the one who said no
    mine = rows[relative_ref(world.carer.pk)]
    assert {k: mine[k] for k in RELATIVES.names[3:]} == {
        "linked_to_care": "true", "trained_supporter": "false", "modules_opened": "1", "pages_opened": "3", "reading_minutes": "2",
        "conversations": "2", "messages_written": "2", "supporter_replies": "1", "forum_posts": "1", "forum_replies": "1",
        "posts_held": "2", "posts_removed": "1", "reports_made": "1", "safety_flags": "2",
    }  # the helpers' conversation ("Feeling tired") counts too: two conversations, two messages
    assert mine["joined"] == timezone.localdate().isoformat() and mine["left"] == ""
    gone = rows[relative_ref(others[0].user_id)]
    assert gone["left"] == timezone.localdate().isoformat() and gone["linked_to_care"] == "false" and gone["pages_opened"] == "0"
    everything = b"".join(unzip(_export(api, world)).values()).decode()
    for secret in (RISKY, "Nights", "Feeling tired", world.carer.full_name, world.carer.email, world.service_user.full_name,
                   *(r.user.email for r in others)):
        assert secret not in everything
    # Dates narrow the activity counted, not who agreed: from tomorrow, every count is 0.
    tomorrow = {r["relative"]: r for r in csv_rows(unzip(_export(api, world, filters={
        "date_from": (timezone.localdate() + timedelta(days=1)).isoformat()}))["relatives.csv"])}
    assert relative_ref(others[0].user_id) not in tomorrow  # left today
    assert tomorrow[relative_ref(world.carer.pk)]["pages_opened"] == "0" and tomorrow[relative_ref(world.carer.pk)]["safety_flags"] == "0"
    # A withdrawal, made on the evaluation page, leaves them out of the next export; then too few: refused.
    client.force_login(others[1].user)
    assert client.post("/relatives/evaluation/", {"decision": "withdrawn"}).status_code == 302
    assert relative_ref(others[1].user_id) not in {r["relative"] for r in csv_rows(unzip(_export(api, world))["relatives.csv"])}
    services.relative_evaluation_consent_record(actor=Actor(others[2].user, via="test"), given=False)  # four left
    assert _export(api, world).status_code == 409


def test_only_relatives_decide_and_the_filters_are_dates_only(world, api, client):
    relatives_world(world)
    for who in (world.clinician, world.peer_worker, world.service_user):
        with pytest.raises(Forbidden):
            services.relative_evaluation_consent_record(actor=Actor(who, via="test"), given=True)
        client.force_login(who)
        assert client.post("/relatives/evaluation/", {"decision": "given"}).status_code == 403
    assert RelativeEvaluationConsent.objects.count() == 0
    client.force_login(world.carer)
    assert client.post("/relatives/evaluation/", {"decision": "maybe"}).status_code == 302
    assert RelativeEvaluationConsent.objects.count() == 0
    response = _export(api, world, filters={"team": world.north.pk})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "filters.team"
    assert api(world.admin).post("/api/v1/evaluation/exports/", {"dataset": "relatives", "format": "csv"}, format="json").status_code == 403

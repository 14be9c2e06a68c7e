"""The relatives' space against real PostgreSQL (and the loopback SMTP server for email): invitations,
the versioned library and progress, messages with supporters, the forum's checks, safety flags, and the
rule that a relative reaches no clinical record unless the person's carer-sharing consent allows it."""

import pytest

from backend.accounts.models import Role
from backend.audit.actor import Actor
from backend.core.errors import Conflict, NotFound
from backend.relatives import selectors, services
from backend.relatives.models import ForumPost, ModulePage, PageOpen, Relative, SafetyFlag, ThreadMessage
from tests.factories import give_consent, withdraw_consent
from tests.relatives.helpers import relatives_world

pytestmark = pytest.mark.django_db


def actor(user):
    return Actor(user, via="test")


# --- Invitations -------------------------------------------------------------------------------------------------
def test_a_relative_linked_to_nobody_is_invited_and_sets_a_password_from_the_email(world, api, mail_server):
    response = api(world.clinician).post("/api/v1/relatives/invitations/", {"email": "Robin.Relative@Example.test", "full_name": "Robin Relative"},
                                         format="json")
    assert response.status_code == 201, response.content
    relative = Relative.objects.get(pk=response.json()["relative_id"])
    assert relative.carer_link is None and relative.user.role == "carer" and not relative.user.has_usable_password()
    [sent] = mail_server.messages
    assert sent.envelope_to == ["robin.relative@example.test"] and "relatives' space" in sent.body
    assert "/set-password/invitation/" in sent.link()  # followed end to end in tests/browser/test_relatives_pages.py


def test_a_carer_who_already_logs_in_is_told_the_space_is_open_not_sent_a_password_link(world, mail_server):
    world.carer.set_password("Long-enough-pass-42")
    world.carer.save(update_fields=["password"])
    services.relative_invite_from_link(actor=actor(world.clinician), link=world.carer_link, request_base_url="http://127.0.0.1:9/")
    [sent] = mail_server.messages
    assert sent.link() == "http://127.0.0.1:9/relatives/" and "set-password" not in sent.body


def test_the_carer_of_an_accepted_link_is_invited_in_one_click_and_told_by_email(world, client, mail_server):
    client.force_login(world.clinician)
    person_page = client.get(f"/people/{world.service_user.pk}/")
    assert f"/relatives/staff/invite/{world.carer_link.pk}/" in person_page.content.decode()
    response = client.post(f"/relatives/staff/invite/{world.carer_link.pk}/")
    assert response.status_code == 302
    relative = Relative.objects.get(user=world.carer)
    assert relative.carer_link == world.carer_link and relative.organisation == world.organisation
    [sent] = mail_server.messages
    # The world's carer has no password yet, so the email is the set-password invitation (reused from accounts).
    assert sent.envelope_to == [world.carer.email] and "/set-password/invitation/" in sent.link()
    assert "In the relatives' space." in client.get(f"/people/{world.service_user.pk}/").content.decode()
    with pytest.raises(Conflict):
        services.relative_invite_from_link(actor=actor(world.clinician), link=world.carer_link)


def test_a_clinician_of_another_team_cannot_invite_from_a_link_they_cannot_see(world):
    with pytest.raises(NotFound):
        services.relative_invite_from_link(actor=actor(world.other_clinician), link=world.carer_link)
    assert not Relative.objects.exists()


def test_an_invitation_to_a_staff_address_is_refused_naming_the_field_and_nothing_is_saved(world, api):
    response = api(world.admin).post("/api/v1/relatives/invitations/", {"email": world.clinician.email, "full_name": "X"}, format="json")
    assert response.status_code == 409 and response.json()["errors"][0]["field"] == "email"
    assert not Relative.objects.exists()
    both = api(world.admin).post("/api/v1/relatives/invitations/", {"carer_link_id": world.carer_link.pk, "email": "a@example.test"}, format="json")
    assert both.status_code == 400 and both.json()["errors"][0]["field"] == "carer_link_id"


# --- The library: versions and progress --------------------------------------------------------------------------------
def test_a_published_version_never_changes_and_an_edit_is_a_new_version(world):
    rw = relatives_world(world)
    admin = actor(world.admin)
    version = rw.modules[0]
    with pytest.raises(Conflict):
        services.page_update(actor=admin, page=rw.page, title="Changed", body="Changed")
    draft = services.draft_start(actor=admin, module=version.module)
    assert draft.number == 2 and not draft.is_published
    new_page = ModulePage.objects.get(section__version=draft, title=rw.page.title)
    services.page_update(actor=admin, page=new_page, title="Why you matter", body="New words.")
    # Relatives still read version 1 until version 2 is published.
    assert selectors.module_for_reader(world.carer, version.module_id).number == 1
    services.version_publish(actor=admin, version=draft)
    assert selectors.module_for_reader(world.carer, version.module_id).number == 2
    rw.page.refresh_from_db()
    assert rw.page.title != "Why you matter"  # version 1's page is as it was
    with pytest.raises(NotFound):
        selectors.page_for_reader(world.carer, rw.page.pk)  # the old version's page is no longer read


def test_progress_counts_pages_and_time_for_the_relative_and_only_counts_for_staff(world, api):
    rw = relatives_world(world)
    pages = list(ModulePage.objects.filter(section__version=rw.modules[0]).order_by("section__position", "position"))
    client = api(world.carer)
    for page in pages[:2]:
        assert client.post(f"/api/v1/relatives/pages/{page.pk}/open/").status_code == 201
    first = PageOpen.objects.order_by("opened_at", "id").first()
    assert first.seconds is not None  # closed by opening the next page
    mine = {row["module_id"]: row for row in client.get("/api/v1/relatives/modules/").json()}
    assert mine[rw.modules[0].module_id]["pages_opened"] == 2
    usage = api(world.admin).get("/api/v1/relatives/usage/").json()
    row = next(m for m in usage["modules"] if m["module_id"] == rw.modules[0].module_id)
    assert row == {"module_id": rw.modules[0].module_id, "title": rw.modules[0].title, "relatives": 1, "page_opens": 2}
    assert "carer" not in str(usage) and str(world.carer.pk) not in [str(v) for v in usage.values() if not isinstance(v, list)]


# --- Messages -------------------------------------------------------------------------------------------------------------
def test_a_supporter_replies_and_the_relative_gets_an_email_that_a_reply_is_waiting(world, api, mail_server, django_capture_on_commit_callbacks):
    rw = relatives_world(world)
    mail_server.clear()  # the invitation the world's relative was sent
    with django_capture_on_commit_callbacks(execute=True):
        response = api(world.peer_worker).post(f"/api/v1/relatives/threads/{rw.thread.pk}/messages/", {"body": "Thank you for writing."},
                                               format="json")
    assert response.status_code == 201 and not response.json()["flagged"]
    [sent] = mail_server.messages
    assert sent.envelope_to == [world.carer.email] and sent.subject == "A reply is waiting for you in Rapport"
    assert "Thank you for writing" not in sent.body and f"/relatives/messages/{rw.thread.pk}/" in sent.body
    detail = api(world.carer).get(f"/api/v1/relatives/threads/{rw.thread.pk}/").json()
    assert detail["notice"] == "Information, not advice" and detail["reply_waiting"] is True
    assert api(world.carer).get(f"/api/v1/relatives/threads/{rw.thread.pk}/").json()["reply_waiting"] is False


def test_a_message_to_a_supporter_from_someone_not_a_relative_is_refused_naming_the_field(world, api):
    relatives_world(world)
    before = ThreadMessage.objects.count()
    response = api(world.peer_worker).post("/api/v1/relatives/threads/", {"subject": "Hi", "body": "Hello"}, format="json")
    assert response.status_code == 403 and response.json()["errors"][0]["field"] == "author"
    for user in (world.unlinked_carer, world.service_user, world.clinician):
        assert api(user).post("/api/v1/relatives/threads/", {"subject": "Hi", "body": "Hello"}, format="json").status_code == 403
    assert ThreadMessage.objects.count() == before


def test_a_supporter_of_another_organisation_sees_no_thread(world, elsewhere, api):
    rw = relatives_world(world)
    services.supporter_add(actor=actor(elsewhere.admin), user=elsewhere.clinician)
    assert api(elsewhere.clinician).get(f"/api/v1/relatives/threads/{rw.thread.pk}/").status_code == 404
    assert api(elsewhere.clinician).get("/api/v1/relatives/threads/").json()["results"] == []


# --- The forum's checks -----------------------------------------------------------------------------------------------------
def test_a_post_over_the_size_limit_is_refused_naming_the_field_and_nothing_is_saved(world, api):
    relatives_world(world)
    before = ForumPost.objects.count()
    response = api(world.carer).post("/api/v1/relatives/forum/posts/", {"title": "Long", "body": "a " * 1500}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0] == {
        "field": "body", "code": "too_long", "message": response.json()["errors"][0]["message"]}
    assert "the most is 2000" in response.json()["detail"]
    assert ForumPost.objects.count() == before


@pytest.mark.parametrize("which", ["first", "last"])
def test_a_post_naming_someone_on_the_caseload_is_refused_and_can_be_sent_to_a_supporter_instead(world, api, which):
    from backend.accounts import services as accounts
    from tests.factories import make_user

    relatives_world(world)
    person = make_user(Role.SERVICE_USER, organisation=world.organisation, full_name="Jordan Okafor")
    accounts.caseload_add(actor=actor(world.admin), team=world.south, service_user=person)  # not the writer's person
    name = ("Jordan" if which == "first" else "Okafor").upper()
    before = ForumPost.objects.count()
    body = {"title": "Worried", "body": f"I saw {name}'s mum at the clinic today."}
    refused = api(world.carer).post("/api/v1/relatives/forum/posts/", body, format="json")
    assert refused.status_code == 400
    error = refused.json()["errors"][0]
    assert (error["field"], error["code"]) == ("body", "names_a_person") and name.lower() not in error["message"].lower()
    assert ForumPost.objects.count() == before
    held = api(world.carer).post("/api/v1/relatives/forum/posts/", {**body, "ask_supporter_to_check": True}, format="json")
    assert held.status_code == 201 and held.json()["state"] == "held"
    assert ForumPost.objects.get(pk=held.json()["id"]).held_reason == "name_check"


def test_names_are_matched_as_whole_words_only(world):
    from backend.relatives.safety import names_in

    assert names_in("Sam's brother", {"sam"}) and names_in("SAM", {"sam"})
    assert not names_in("Samuel and sesame", {"sam"})


def test_report_and_remove_when_the_forum_publishes_at_once(world, api):
    relatives_world(world)
    services.settings_update(actor=actor(world.admin), forum_mode="published", max_post_characters=500, risk_words="")
    posted = api(world.carer).post("/api/v1/relatives/forum/posts/", {"title": "Evenings", "body": "What helps?"}, format="json").json()
    assert posted["state"] == "published"
    assert api(world.peer_worker).post(f"/api/v1/relatives/forum/posts/{posted['id']}/report/", {"reason": "Off topic"}, format="json").status_code == 201
    assert posted["id"] in [p.pk for p in selectors.held_posts(world.peer_worker)]
    removed = api(world.peer_worker).post(f"/api/v1/relatives/forum/posts/{posted['id']}/moderation/", {"decision": "remove"}, format="json")
    assert removed.status_code == 200 and removed.json()["state"] == "removed"
    assert posted["id"] not in [p["id"] for p in api(world.carer).get("/api/v1/relatives/forum/posts/").json()["results"]]
    too_long = api(world.carer).post("/api/v1/relatives/forum/posts/", {"title": "x", "body": "b" * 501}, format="json")
    assert too_long.status_code == 400 and too_long.json()["errors"][0]["field"] == "body"


# --- Safety ------------------------------------------------------------------------------------------------------------------
def test_risk_words_flag_a_message_to_the_supporters_at_once_and_the_writer_gets_the_crisis_numbers(world, api):
    rw = relatives_world(world)
    response = api(world.carer).post(f"/api/v1/relatives/threads/{rw.thread.pk}/messages/",
                                     {"body": "He said he wants to END IT ALL tonight."}, format="json")
    assert response.status_code == 201 and response.json()["flagged"]
    assert "999" in response.json()["help_now"] and "111" in response.json()["help_now"]
    flags = api(world.peer_worker).get("/api/v1/relatives/safety-flags/").json()["results"]
    assert [(f["kind"], f["thread_id"], f["words"]) for f in flags] == [("message", rw.thread.pk, ["end it all"])]
    assert api(world.carer).get("/api/v1/relatives/safety-flags/").status_code == 403


def test_the_risk_list_is_the_organisations_own_when_set(world, api):
    relatives_world(world)
    services.settings_update(actor=actor(world.admin), forum_mode="held", max_post_characters=2000, risk_words="crisis team\n")
    posted = api(world.carer).post("/api/v1/relatives/forum/posts/", {"title": "Help", "body": "Should I call the crisis team?"}, format="json")
    assert posted.json()["flagged"] and SafetyFlag.objects.get().post_id == posted.json()["id"]
    plain = api(world.carer).post("/api/v1/relatives/forum/posts/", {"title": "Suicide prevention day", "body": "Anyone going?"}, format="json")
    assert not plain.json()["flagged"]  # the default list no longer applies


# --- Clinical records: only through the carer link and consent ---------------------------------------------------------------
def _trajectories(api, user, person):
    return api(user).get(f"/api/v1/service-users/{person.pk}/outcomes/").status_code


def test_a_relative_reaches_no_clinical_record_without_the_persons_carer_sharing_consent(world, api):
    relatives_world(world)
    unlinked = services.relative_invite(actor=actor(world.admin), email="unlinked.relative@example.test", full_name="Uma Unlinked").user
    # Being in the relatives' space grants nothing: the linked carer sees no scores (not shared), the unlinked relative nothing.
    assert _trajectories(api, world.carer, world.service_user) == 404
    assert _trajectories(api, unlinked, world.service_user) == 404
    assert api(unlinked).get("/api/v1/responses/").json()["results"] == []
    assert api(unlinked).get(f"/api/v1/service-users/{world.service_user.pk}/").status_code == 403
    # The person shares scores with their carer: then, and only then, the carer sees them.
    give_consent(world.service_user, "carer_involvement", carer=world.carer, share_outcomes=True)
    assert _trajectories(api, world.carer, world.service_user) == 200
    assert _trajectories(api, unlinked, world.service_user) == 404
    withdraw_consent(world.service_user, "carer_involvement", carer=world.carer)
    assert _trajectories(api, world.carer, world.service_user) == 404

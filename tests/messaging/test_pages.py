"""The messaging pages: the person's "How we contact you", the team's view, the template editor."""

from backend.messaging.models import ContactPreference, Message, MessageTemplate
from tests.factories import build_elsewhere


def _form(**overrides):
    return {"mobile_number": "07400 123456", "email": "", "channel_confirmation": "sms", "channel_reminder": "both",
            "channel_change": "sms", "channel_join": "email", "channel_questionnaire": "email", **overrides}


def test_a_person_sets_how_they_are_contacted_on_their_page(world, client):
    client.force_login(world.service_user)
    page = client.get("/contact/")
    assert page.status_code == 200 and b"How we contact you" in page.content
    assert b"Do not send these" in page.content
    saved = client.post("/contact/", _form())
    assert saved.status_code == 302
    row = ContactPreference.objects.get(person=world.service_user)
    assert row.mobile_number == "+447400123456" and row.channels["reminder"] == "both"


def test_a_landline_for_texts_is_refused_beside_the_field(world, client):
    client.force_login(world.service_user)
    refused = client.post("/contact/", _form(mobile_number="0113 496 0000"))
    assert refused.status_code == 400 and b"not a mobile number" in refused.content
    assert not ContactPreference.objects.filter(person=world.service_user).exists()
    off = client.post("/contact/", _form(channel_change="off"))
    assert off.status_code == 400  # not a choice offered for changes and cancellations


def test_the_contact_page_is_for_the_people_messages_go_to(world, client):
    for who, status in ((world.carer, 200), (world.clinician, 403), (world.admin, 403), (world.evaluator, 403)):
        client.force_login(who)
        assert client.get("/contact/").status_code == status
    client.logout()
    assert client.get("/contact/").status_code == 302


def test_the_team_sees_a_persons_choice_and_messages_that_could_not_go(world, client):
    from tests.factories import book

    book(world.clinician, world.service_user, world.north, in_hours=100)  # the team has no sender name: recorded as failed
    client.force_login(world.clinician)
    page = client.get(f"/people/{world.service_user.pk}/contact/")
    assert page.status_code == 200 and b"sender name" in page.content
    assert b"By email" in page.content


def test_the_team_view_is_refused_to_another_team_the_person_and_another_organisation(world, client):
    url = f"/people/{world.service_user.pk}/contact/"
    other = build_elsewhere()
    for who, status in ((world.other_clinician, 404), (other.clinician, 404), (world.service_user, 403), (world.carer, 403)):
        client.force_login(who)
        assert client.get(url).status_code == status, who


def test_the_template_editor_previews_saves_and_refuses_a_banned_word_naming_the_field(world, client):
    client.force_login(world.admin)
    url = f"/administration/teams/{world.north.pk}/messages/reminder/email/"
    page = client.get(url)
    assert page.status_code == 200 and b"Preview" in page.content and b"Sam" in page.content
    refused = client.post(url, {"kind": "reminder", "channel": "email", "subject": "Your CORE-10 reminder",
                                "body": "Hello {name}", "action": "save"})
    assert refused.status_code == 400 and "“core-10”".encode() in refused.content and b"email subject line" in refused.content
    unknown = client.post(url, {"kind": "reminder", "channel": "email", "subject": "Reminder", "body": "Hello {firstname}", "action": "save"})
    assert unknown.status_code == 400 and b"{firstname} is not a placeholder" in unknown.content
    preview = client.post(url, {"kind": "reminder", "channel": "email", "subject": "See you soon", "body": "Hello {name}, {when}.",
                                "action": "preview"})
    assert preview.status_code == 200 and b"Hello Sam, " in preview.content and not MessageTemplate.objects.exists()
    saved = client.post(url, {"kind": "reminder", "channel": "email", "modality": "phone", "subject": "See you soon",
                              "body": "Hello {name}, {when}.", "action": "save"})
    assert saved.status_code == 302
    assert MessageTemplate.objects.get().modality == "phone"


def test_a_team_without_messages_shows_that_it_needs_a_sender_name(world, client):
    client.force_login(world.admin)
    page = client.get(f"/administration/teams/{world.north.pk}/messages/")
    assert page.status_code == 200 and b"No messages are sent yet" in page.content
    assert Message.objects.filter(team=world.north).exclude(status="failed").count() == 0

"""The relatives' space pages against every role, and the admin's module editing through the pages."""

import pytest

from backend.relatives.models import ForumPost, ModuleVersion
from tests.relatives.helpers import relatives_world

pytestmark = pytest.mark.django_db

ROLES = ["clinician", "peer_worker", "service_user", "carer", "evaluator", "admin"]
SPACE = {"carer": 200, "peer_worker": 200}  # the world's relative and supporter; everyone else 403
SUPPORTERS = {"peer_worker": 200}
STAFF = {"clinician": 200, "peer_worker": 200, "admin": 200}
ADMINS = {"admin": 200}

PAGES = {
    "/relatives/": SPACE,
    "module": SPACE,
    "page": SPACE,
    "/relatives/messages/": SPACE,
    "thread": SPACE,
    "/relatives/forum/": SPACE,
    "/relatives/help-now/": SPACE,
    "/relatives/moderation/": SUPPORTERS,
    "/relatives/flags/": SUPPORTERS,
    "/relatives/staff/": STAFF,
    "/relatives/staff/modules/": ADMINS,
    "admin-module": ADMINS,
    "/relatives/leave/": {"carer": 200},  # relatives only: the staff supporter is not a member to leave
    "/relatives/evaluation/": {"carer": 200},  # anyone who has been a relative
}


def _url(world, key):
    rw = relatives_world(world)
    return {"module": f"/relatives/modules/{rw.modules[0].module_id}/", "page": f"/relatives/pages/{rw.page.pk}/",
            "thread": f"/relatives/messages/{rw.thread.pk}/", "admin-module": f"/relatives/staff/modules/{rw.modules[0].module_id}/"}.get(key, key)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("key", sorted(PAGES))
def test_each_page_for_each_role(world, client, key, role):
    url = _url(world, key)
    client.force_login(world.as_role(role))
    response = client.get(url)
    assert response.status_code == PAGES[key].get(role, 403), (url, role)
    if response.status_code == 403:
        assert b"for" in response.content  # the page says who it is for (or how to join)
    client.logout()
    assert client.get(url).status_code == 302  # anonymous: to log in


def test_a_forum_post_naming_someone_is_shown_beside_the_field_and_nothing_is_saved(world, client):
    relatives_world(world)
    from backend.accounts import services as accounts
    from backend.accounts.models import Role
    from backend.audit.actor import Actor
    from tests.factories import make_user

    person = make_user(Role.SERVICE_USER, organisation=world.organisation, full_name="Rowan Achebe")
    accounts.caseload_add(actor=Actor(world.admin, via="test"), team=world.north, service_user=person)
    before = ForumPost.objects.count()
    client.force_login(world.carer)
    response = client.post("/relatives/forum/", {"title": "A week", "body": "rowan had a good week."})
    assert response.status_code == 400
    assert response.context["form"].errors["body"][0].startswith("Your post seems to include the name")
    assert ForumPost.objects.count() == before
    too_long = client.post("/relatives/forum/", {"title": "Long", "body": "x" * 2001})
    assert too_long.status_code == 400 and "the most is 2000" in too_long.context["form"].errors["body"][0]
    assert ForumPost.objects.count() == before


def test_the_admin_writes_publishes_and_revises_a_module_through_the_pages(world, client):
    relatives_world(world)
    client.force_login(world.admin)
    assert client.post("/relatives/staff/modules/", {"title": ""}).status_code == 400
    response = client.post("/relatives/staff/modules/", {"title": "Money and benefits", "summary": "Where to ask."})
    module_url = response["Location"]
    refused = client.post(module_url, {"action": "publish"})  # no pages yet: refused, said on the page
    assert refused.status_code == 400 and b"needs at least one page" in refused.content
    assert not ModuleVersion.objects.filter(title="Money and benefits", published_at__isnull=False).exists()
    client.post(module_url, {"action": "section", "title": "Getting started"})
    draft = ModuleVersion.objects.get(title="Money and benefits")
    section = draft.sections.get()
    assert client.post(module_url, {"action": "page", "section": section.pk, "title": "Who to ask", "body": ""}).status_code == 400
    client.post(module_url, {"action": "page", "section": section.pk, "title": "Who to ask", "body": "Your council can help."})
    client.post(module_url, {"action": "resource", "title": "Citizens Advice", "url": "https://www.citizensadvice.org.uk/", "description": ""})
    client.post(module_url, {"action": "publish"})
    draft.refresh_from_db()
    assert draft.is_published and draft.resources.count() == 1
    page = draft.sections.get().pages.get()
    refused = client.post(f"/relatives/staff/pages/{page.pk}/", {"title": "Changed", "body": "Changed"})
    assert refused.status_code == 400 and "never changes" in str(refused.context["form"].errors)
    client.post(module_url, {"action": "new_version"})
    assert ModuleVersion.objects.filter(module=draft.module, number=2, published_at__isnull=True).exists()
    client.force_login(world.carer)
    assert b"Money and benefits" in client.get("/relatives/").content

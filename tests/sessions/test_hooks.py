"""The waiting-room hook: a higher layer adds a panel to the waiting room without sessions importing it."""

from django.template import Context, Template

from backend.sessions import hooks


def test_registered_panels_render_in_the_waiting_room(world, monkeypatch, tmp_path, settings):
    (tmp_path / "due.html").write_text("<p>Questionnaires due for {{ name }}: {{ count }}</p>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}]
    seen = []

    def provider(user, appointment):
        seen.append((user, appointment))
        return hooks.Panel("due.html", {"name": user.display_name, "count": 2}) if user == world.service_user else None

    monkeypatch.setattr(hooks, "WAITING_ROOM_PANELS", [provider])
    page = Template("{% load session_hooks %}{% waiting_room_panels appointment person %}")
    html = page.render(Context({"appointment": world.appointment, "person": world.service_user}))
    assert html == f"<p>Questionnaires due for {world.service_user.display_name}: 2</p>"
    assert page.render(Context({"appointment": world.appointment, "person": world.carer})) == ""
    assert seen == [(world.service_user, world.appointment), (world.carer, world.appointment)]

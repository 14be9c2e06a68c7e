"""History of mutable records (backend/audit/history.py): where a row can change, its old values are
kept with who changed it and through what, and the history itself cannot be rewritten."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from backend.accounts.models import CaseloadEntry, Team
from backend.accounts.services import team_update
from backend.audit.actor import Actor
from backend.audit.append_only import AppendOnlyModel, AppendOnlyViolation
from backend.audit.history import HistoryEvent, history_by, history_of
from backend.audit.models import AuditEvent
from backend.outcomes.models import MeasureSchedule
from backend.sessions.models import TeamSessionSettings

ROOT = Path(__file__).resolve().parent.parent.parent
RAPPORT_APPS = ["accounts", "audit", "consent", "telesessions", "groups", "outcomes", "network", "relatives", "college", "peerwork", "messaging",
                "evaluation", "demo"]

# Concrete models that are neither append-only nor tracked, and why. A new model must be one of the three.
NOT_TRACKED = {
    "accounts.ServiceUserReference": "written once when a reference is first seen; nothing changes or deletes it",
    "consent.ConsentPurpose": "a catalogue entry nothing changes once created; the wording agreed to is ConsentWording",
    "outcomes.InstrumentOption": "part of an instrument, created with it; instruments never change (a new version is new)",
    "outcomes.InstrumentItem": "part of an instrument, created with it; instruments never change",
    "outcomes.InstrumentBand": "part of an instrument, created with it; instruments never change",
    "telesessions.ConnectionSample": "call telemetry, written once and never changed",
    "telesessions.IceStateChange": "call telemetry, written once and never changed",
    "relatives.PageOpen": "reading progress: written when a page opens; its minutes are filled in once, when the next page opens",
    "relatives.ThreadMessage": "a message as written to or by a supporter; nothing edits or deletes it",
    "relatives.ForumReport": "a report of a forum post, written once; the post's own moderation state is tracked",
}


def _snapshots(obj, *fields):
    return [(row.pgh_label, *(getattr(row, f) for f in fields)) for row in history_of(obj)]


def test_every_mutable_model_keeps_its_history():
    tracked = {m.pgh_tracked_model for m in apps.get_models() if issubclass(m, HistoryEvent)}
    undecided = []
    for label in RAPPORT_APPS:
        for model in apps.get_app_config(label).get_models():
            name = f"{model._meta.app_label}.{model.__name__}"
            if issubclass(model, AppendOnlyModel) or model in tracked or name in NOT_TRACKED:
                continue
            undecided.append(name)
    assert undecided == [], "Track these with backend.audit.history.track, make them append-only, or say in NOT_TRACKED why not"
    for name in ("accounts.User", "accounts.Team", "accounts.Organisation", "accounts.CaseloadEntry", "accounts.CarerLink",
                 "accounts.TeamMembership", "telesessions.TeamSessionSettings", "telesessions.Appointment",
                 "telesessions.CourseOfCare", "outcomes.MeasureSchedule", "outcomes.Instrument"):
        assert apps.get_model(name) in tracked


def test_renaming_a_team_keeps_the_old_name_and_who_renamed_it(world, api):
    old_name = world.north.name
    body = {"name": "North East", "site": "Wakefield"}
    response = api(world.admin).patch(f"/api/v1/teams/{world.north.pk}/", body, format="json")
    assert response.status_code == 200
    history = list(history_of(world.north))
    assert [(row.pgh_label, row.name) for row in history] == [("insert", old_name), ("update", "North East")]
    assert history[0].site != "Wakefield" and history[1].site == "Wakefield"
    assert history[1].pgh_context == {"user": world.admin.pk, "via": "api"}


def test_a_users_phone_and_active_state_keep_their_earlier_values(world, api):
    person = world.service_user
    before = (person.phone_number, person.is_active)
    admin = api(world.admin)
    assert admin.patch(f"/api/v1/users/{person.pk}/", {"phone_number": "0113 496 0123"}, format="json").status_code == 200
    assert admin.patch(f"/api/v1/users/{person.pk}/", {"is_active": False}, format="json").status_code == 200
    assert _snapshots(person, "phone_number", "is_active") == [
        ("insert", *before), ("update", "+441134960123", True), ("update", "+441134960123", False),
    ]
    assert {row.pgh_context["user"] for row in history_of(person)[1:]} == {world.admin.pk}


def test_logins_and_passwords_leave_no_history_and_the_hash_is_never_copied(world):
    person = world.clinician
    count = history_of(person).count()
    person.last_login = timezone.now()
    person.set_password("Another-long-pass-77")
    person.save(update_fields=["last_login", "password"])
    assert history_of(person).count() == count
    history_model = apps.get_model("accounts", "UserHistory")
    assert {"password", "last_login"}.isdisjoint(f.name for f in history_model._meta.fields)


def test_session_settings_keep_the_earlier_cut_off(world, api):
    url = f"/api/v1/teams/{world.north.pk}/session-settings/"
    assert api(world.admin).patch(url, {"choice_cutoff_hours": 12}, format="json").status_code == 200
    body = {"choice_cutoff_hours": 48, "safety_check_required": False}
    assert api(world.admin).patch(url, body, format="json").status_code == 200
    row = TeamSessionSettings.objects.get(team=world.north)
    assert _snapshots(row, "choice_cutoff_hours", "safety_check_required")[-2:] == [("update", 12, True), ("update", 48, False)]
    assert history_of(row).last().pgh_context == {"user": world.admin.pk, "via": "api"}


def test_a_changed_and_then_removed_measure_schedule_keeps_every_value(world, api):
    admin = api(world.admin)
    url = f"/api/v1/teams/{world.north.pk}/measure-schedules/"
    assert admin.post(url, {"instrument": "gad7", "when": "every_session"}, format="json").status_code == 201
    assert admin.post(url, {"instrument": "gad7", "when": "first_and_last"}, format="json").status_code == 201
    schedule = MeasureSchedule.objects.get(team=world.north, instrument__code="gad7")
    assert admin.delete(f"{url}{schedule.pk}/").status_code == 204
    assert not MeasureSchedule.objects.filter(pk=schedule.pk).exists()
    assert _snapshots(schedule, "when") == [
        ("insert", "every_session"), ("update", "first_and_last"), ("delete", "first_and_last"),
    ]
    assert all(row.pgh_context == {"user": world.admin.pk, "via": "api"} for row in history_of(schedule))


def test_taking_someone_off_a_caseload_keeps_the_deleted_entry(world, api):
    entry = CaseloadEntry.objects.get(team=world.north, service_user=world.service_user)
    response = api(world.admin).delete(f"/api/v1/teams/{world.north.pk}/caseload/{world.service_user.pk}/")
    assert response.status_code == 204
    deleted = history_of(entry).last()
    assert (deleted.pgh_label, deleted.team_id, deleted.service_user_id, deleted.added_at) == (
        "delete", world.north.pk, world.service_user.pk, entry.added_at,
    )
    assert deleted.pgh_context == {"user": world.admin.pk, "via": "api"}


def test_a_page_request_names_itself_as_web(world, client):
    client.force_login(world.service_user)
    response = client.post("/carers/add/", {"carer_email": world.unlinked_carer.email, "relationship": "friend"})
    assert response.status_code in (200, 302)
    link = world.service_user.carer_links.get(carer=world.unlinked_carer)
    assert history_of(link).get().pgh_context == {"user": world.service_user.pk, "via": "web"}


def test_work_outside_a_request_is_named_by_history_by(world):
    # Without a context (a console, say) the change is still kept, with no one named.
    Team.objects.filter(pk=world.south.pk).update(site="Hull")
    last = history_of(world.south).last()
    assert (last.site, last.pgh_context) == ("Hull", None)
    with history_by(Actor(world.admin, via="command")):
        team_update(actor=Actor(world.admin, via="command"), team=world.south, service="Crisis")
    last = history_of(world.south).last()
    assert (last.service, last.site, last.pgh_context) == ("Crisis", "Hull", {"user": world.admin.pk, "via": "command"})


def test_rows_that_exist_when_history_starts_get_a_baseline_snapshot(world):
    """The `00NN_history` migrations run `snapshot_existing` so the first change to an old row still
    has the values before it."""
    from types import SimpleNamespace

    from backend.audit.history import snapshot_existing

    Team.objects.filter(pk=world.north.pk).update(site="Before history")
    operation = snapshot_existing("accounts", "Team")
    operation.code(apps, SimpleNamespace(connection=connection))
    baseline = history_of(world.north).filter(pgh_label="baseline").get()
    assert (baseline.name, baseline.site, baseline.pgh_obj_id) == (world.north.name, "Before history", world.north.pk)
    assert apps.get_model("accounts", "TeamHistory").objects.filter(pgh_label="baseline").count() == Team.objects.count()


def test_history_rows_cannot_be_changed_through_the_orm(world):
    row = history_of(world.north).first()
    row.name = "Rewritten"
    with pytest.raises(AppendOnlyViolation):
        row.save()
    with pytest.raises(AppendOnlyViolation):
        row.delete()
    with pytest.raises(AppendOnlyViolation):
        history_of(world.north).update(name="Rewritten")
    with pytest.raises(AppendOnlyViolation):
        history_of(world.north).delete()


@pytest.mark.parametrize("statement", ["UPDATE accounts_teamhistory SET name = 'Rewritten'", "DELETE FROM accounts_teamhistory"])
def test_postgresql_itself_refuses_to_change_history_rows(world, statement):
    with pytest.raises(DatabaseError, match="Cannot update or delete"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)


def test_on_sqlite_migrations_and_changes_work_without_history(tmp_path):
    """The embedded default (`make run` with no environment) is SQLite: history tables are created but
    no triggers, and the history context is never set, so requests still work."""
    script = (
        "import django; django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0)\n"
        "from django.test import Client\n"
        "from backend.accounts.models import Role\n"
        "from backend.accounts.services import organisation_create, team_create, user_create\n"
        "from backend.audit.actor import Actor\n"
        "system = Actor.system()\n"
        "organisation = organisation_create(actor=system, name='T')\n"
        "admin = user_create(actor=system, email='a@example.test', full_name='A', role=Role.ADMIN,\n"
        "                    password='Long-enough-pass-42', organisation=organisation)\n"
        "team = team_create(actor=system, organisation=organisation, name='N', service='S', site='L')\n"
        "client = Client(HTTP_HOST='localhost'); client.force_login(admin)\n"
        "r = client.patch(f'/api/v1/teams/{team.pk}/', {'name': 'M'}, content_type='application/json')\n"
        "assert r.status_code == 200, r.content\n"
        "team.refresh_from_db(); assert team.name == 'M' and team.history.count() == 0\n"
        "print('ok')\n"
    )
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "backend.settings", "DEBUG": "1",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'rapport.sqlite3'}"}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")


def test_an_admin_reads_an_accounts_history_with_who_changed_it(world, api):
    person = world.service_user
    admin = api(world.admin)
    assert admin.patch(f"/api/v1/users/{person.pk}/", {"phone_number": "0113 496 0456"}, format="json").status_code == 200
    response = admin.get(f"/api/v1/users/{person.pk}/history/")
    assert response.status_code == 200
    rows = response.json()["results"]
    last = rows[-1]
    assert (last["change"], last["phone_number"]) == ("update", "+441134960456")
    assert (last["changed_by"], last["via"]) == (world.admin.pk, "api")
    assert rows[0]["change"] == "insert" and rows[0]["phone_number"] == person.phone_number
    assert "password" not in rows[0]
    event = AuditEvent.objects.filter(action="read", object_type="accounts.user", object_id=str(person.pk)).last()
    assert event is not None and event.detail == {"history": True}
    assert api(world.clinician).get(f"/api/v1/users/{person.pk}/history/").status_code == 403
    assert admin.get("/api/v1/users/999999/history/").status_code == 404


@pytest.mark.django_db(transaction=True)
async def test_through_the_asgi_application_the_token_user_is_named():
    """Under ASGI the request runs in a worker thread and DRF authenticates the token inside the view:
    the history still names the token's user."""
    from channels.db import database_sync_to_async as sync_to_async
    from channels.testing import HttpCommunicator

    from backend.accounts.models import Role
    from backend.accounts.services import api_token_issue
    from backend.asgi import application
    from tests.factories import make_team, make_user

    team = await sync_to_async(make_team)()
    admin = await sync_to_async(make_user)(Role.ADMIN, organisation=team.organisation)
    token, _ = await sync_to_async(api_token_issue)(actor=Actor(admin, via="test"), user=admin)
    body = b'{"site": "Leeds Central"}'
    communicator = HttpCommunicator(
        application, "PATCH", f"/api/v1/teams/{team.pk}/", body=body,
        headers=[(b"host", b"127.0.0.1"), (b"authorization", f"Token {token}".encode()), (b"content-type", b"application/json"),
                 (b"content-length", str(len(body)).encode())],
    )
    response = await communicator.get_response(timeout=20)
    assert response["status"] == 200, response["body"]
    last = await sync_to_async(lambda: history_of(team).last())()
    assert (last.site, last.pgh_context) == ("Leeds Central", {"user": admin.pk, "via": "api"})


def test_the_history_models_and_triggers_match_the_models(db):
    """A field added to a tracked model changes its history model and its triggers: without the
    migration the triggers would not copy the field. `makemigrations` writes it."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
    except SystemExit:
        pytest.fail(f"Run `python manage.py makemigrations`: models and migrations differ.\n{out.getvalue()}")

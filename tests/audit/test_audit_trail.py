"""The audit trail: every read and change is recorded, rows cannot be changed, and tampering is found."""

import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from backend.audit.actor import Actor
from backend.audit.append_only import AppendOnlyViolation
from backend.audit.models import AuditEvent
from backend.audit.selectors import audit_chain_verify
from backend.audit.services import audit_record


def test_reads_of_identifiable_records_are_audited_with_who_what_and_where(world, api):
    client = api(world.clinician)
    client.get(f"/api/v1/service-users/{world.service_user.pk}/", HTTP_USER_AGENT="Clinic PC", REMOTE_ADDR="10.1.2.3")
    event = AuditEvent.objects.filter(action="read").latest("sequence")
    assert (event.actor, event.actor_email, event.actor_role) == (world.clinician, world.clinician.email, "clinician")
    assert (event.object_type, event.object_id) == ("accounts.user", str(world.service_user.pk))
    assert (event.ip_address, event.user_agent, event.via) == ("10.1.2.3", "Clinic PC", "api")
    assert event.occurred_at is not None


def test_list_reads_name_every_record_shown(world, api):
    api(world.clinician).get("/api/v1/service-users/")
    event = AuditEvent.objects.filter(action="list").latest("sequence")
    assert event.detail["ids"] == [str(world.service_user.pk)]


def test_pages_are_audited_too(world, client):
    client.force_login(world.clinician)
    assert client.get("/").status_code == 200
    event = AuditEvent.objects.filter(action="list", via="web").latest("sequence")
    assert event.actor == world.clinician and event.detail["ids"] == [str(world.service_user.pk)]


def test_a_refused_read_leaves_no_read_event(world, api):
    before = AuditEvent.objects.filter(action="read").count()
    assert api(world.clinician).get(f"/api/v1/service-users/{world.other_service_user.pk}/").status_code == 404
    assert AuditEvent.objects.filter(action="read").count() == before


def test_events_form_an_unbroken_chain(world, api):
    api(world.clinician).get("/api/v1/service-users/")
    report = audit_chain_verify()
    assert report.intact and report.events_checked == AuditEvent.objects.count() > 10
    sequences = list(AuditEvent.objects.values_list("sequence", flat=True))
    assert sequences == list(range(1, len(sequences) + 1))


def test_the_orm_refuses_updates_and_deletes(world):
    event = AuditEvent.objects.first()
    event.action = "read"
    with pytest.raises(AppendOnlyViolation):
        event.save()
    with pytest.raises(AppendOnlyViolation):
        event.delete()
    with pytest.raises(AppendOnlyViolation):
        AuditEvent.objects.filter(pk=event.pk).update(action="read")
    with pytest.raises(AppendOnlyViolation):
        AuditEvent.objects.all().delete()


@pytest.mark.parametrize("statement", ["UPDATE audit_auditevent SET action = 'read'", "DELETE FROM audit_auditevent"])
def test_postgresql_itself_refuses_updates_and_deletes(world, statement):
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert audit_chain_verify().intact


def _tamper(sql: str, params=()) -> None:
    """Change rows behind the application's back, as a database superuser could: in replica mode
    PostgreSQL fires no ordinary triggers, so the append-only trigger does not stop it."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = origin")


def test_verify_audit_finds_a_row_edited_in_the_database(world, capsys):
    call_command("verify_audit")
    assert "intact" in capsys.readouterr().out
    target = AuditEvent.objects.order_by("sequence")[4]
    _tamper("UPDATE audit_auditevent SET actor_email = 'someone.else@example.test' WHERE id = %s", [target.pk])
    report = audit_chain_verify()
    assert (report.broken_at, report.events_checked) == (target.sequence, 4)
    assert "changed" in report.reason
    with pytest.raises(CommandError, match=f"BROKEN at event #{target.sequence}"):
        call_command("verify_audit")


def test_verify_audit_finds_a_deleted_row(world):
    target = AuditEvent.objects.order_by("sequence")[3]
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [target.pk])
    report = audit_chain_verify()
    assert report.broken_at == target.sequence and "missing" in report.reason


def test_verify_audit_finds_a_rewritten_row_with_a_recomputed_hash(world):
    """Recomputing the edited row's own hash is not enough: the next event's link breaks."""
    from backend.audit.chain import hash_of

    target = AuditEvent.objects.order_by("sequence")[2]
    target.detail = {"forged": True}
    forged_hash = hash_of(target)
    _tamper("UPDATE audit_auditevent SET detail = %s, hash = %s WHERE id = %s", ['{"forged": true}', forged_hash, target.pk])
    report = audit_chain_verify()
    assert report.broken_at == target.sequence + 1 and "previous-hash" in report.reason


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_the_chain_whole():
    """Eight threads appending at once on PostgreSQL still make one unbroken chain (advisory lock)."""
    errors = []

    def append(n):
        try:
            for i in range(5):
                audit_record(actor=Actor.system(via="test"), action="read", object_type="test.thing", object_id=f"{n}-{i}")
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=append, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    report = audit_chain_verify()
    assert report.intact and report.events_checked == 40

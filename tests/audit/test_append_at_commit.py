"""Audit events are appended when their transaction commits, all of a transaction's events in one
statement under the chain's lock: a long transaction (an import) never makes other requests wait.

These tests commit for real (`transaction=True`): in the suite's usual test transaction nothing ever
commits, so events are appended at once there (see backend/audit/services.py)."""

import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.selectors import audit_chain_verify
from backend.audit.services import audit_record
from tests.outcomes.test_import import GOOD

SYSTEM = Actor.system(via="test")


def _inserts(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith('INSERT INTO "audit_auditevent"')]


@pytest.mark.django_db(transaction=True)
def test_a_transactions_events_are_appended_at_commit_in_one_statement():
    with CaptureQueriesContext(connection) as queries:
        with transaction.atomic():
            for n in range(3):
                audit_record(actor=SYSTEM, action="read", object_type="test.thing", object_id=n)
            assert not AuditEvent.objects.filter(object_type="test.thing").exists()  # not yet: at commit
    assert len(_inserts(queries)) == 1
    assert list(AuditEvent.objects.filter(object_type="test.thing").values_list("object_id", flat=True)) == ["0", "1", "2"]
    assert audit_chain_verify().intact


@pytest.mark.django_db(transaction=True)
def test_events_of_a_rolled_back_change_are_never_written():
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=SYSTEM, action="create", object_type="test.thing", object_id="gone")
        raise RuntimeError("the change fails")
    with transaction.atomic():
        audit_record(actor=SYSTEM, action="create", object_type="test.thing", object_id="kept")
        try:
            with transaction.atomic():  # a savepoint that rolls back: its event goes with it
                audit_record(actor=SYSTEM, action="create", object_type="test.thing", object_id="savepoint")
                raise RuntimeError("the inner change fails")
        except RuntimeError:
            pass
        audit_record(actor=SYSTEM, action="create", object_type="test.thing", object_id="after")
    assert list(AuditEvent.objects.filter(object_type="test.thing").values_list("object_id", flat=True)) == ["kept", "after"]
    assert audit_chain_verify().intact


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_an_event_is_appended_at_once():
    audit_record(actor=SYSTEM, action="read", object_type="test.thing", object_id=1)
    assert AuditEvent.objects.filter(object_type="test.thing", object_id="1").exists()


@pytest.mark.django_db(transaction=True)
def test_an_audited_read_completes_while_an_import_transaction_is_still_open(world, api):
    """Before: the import took the chain's lock with its first event and kept it until it committed,
    so every other audited request waited for the whole import."""
    from backend.outcomes.imports import import_csv

    imported, release, failures = threading.Event(), threading.Event(), []

    def long_import():
        try:
            with transaction.atomic():
                import_csv(actor=Actor(world.admin, via="test"), team=world.north, text=GOOD)
                imported.set()
                release.wait(timeout=20)  # the rest of a long import
        except Exception as error:  # noqa: BLE001 - asserted below
            failures.append(error)
            imported.set()
        finally:
            connection.close()

    client = api(world.clinician)
    importer = threading.Thread(target=long_import)
    importer.start()
    try:
        assert imported.wait(timeout=30)
        started = time.monotonic()
        answer = client.get(f"/api/v1/service-users/{world.service_user.pk}/")
        elapsed = time.monotonic() - started
        still_open = not release.is_set() and importer.is_alive()
    finally:
        release.set()
        importer.join()
    assert not failures
    assert answer.status_code == 200 and still_open
    assert elapsed < 5, f"the read waited {elapsed:.1f} s for the import's transaction"
    read = AuditEvent.objects.filter(action="read", actor=world.clinician, object_id=str(world.service_user.pk)).get()
    summary = AuditEvent.objects.get(object_type="outcomes.import")
    assert read.sequence < summary.sequence  # the import's events joined the chain when it committed, after the read
    assert audit_chain_verify().intact


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_with_transactions_keep_the_chain_whole():
    errors = []

    def write(n):
        try:
            for i in range(4):
                with transaction.atomic():
                    audit_record(actor=SYSTEM, action="update", object_type="test.thing", object_id=f"{n}-{i}-a")
                    audit_record(actor=SYSTEM, action="update", object_type="test.thing", object_id=f"{n}-{i}-b")
                audit_record(actor=SYSTEM, action="read", object_type="test.thing", object_id=f"{n}-{i}-c")
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    report = audit_chain_verify()
    assert report.intact and AuditEvent.objects.filter(object_type="test.thing").count() == 48
    call_command("verify_audit")  # raises CommandError on a broken chain
    # A transaction's two events sit next to each other in the chain: appended together.
    for n in range(4):
        for i in range(4):
            a, b = (AuditEvent.objects.get(object_id=f"{n}-{i}-{x}").sequence for x in "ab")
            assert b == a + 1

"""manage.py first_admin_create: an organisation's first admin, only when it has no active admin."""

import io

import pytest
from django.core.management import CommandError, call_command

from backend.accounts.models import Role, User
from backend.accounts.services import organisation_create, user_update
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system(via="test")


def test_creates_the_first_admin_then_refuses_a_second():
    trust = organisation_create(actor=SYSTEM, name="Harbour Trust")
    out = io.StringIO()
    call_command("first_admin_create", "harbour trust", "--email", "Ada@Harbour.test", "--name", "Ada Admin", stdout=out)
    ada = User.objects.get(email="ada@harbour.test")
    assert (ada.role, ada.organisation_id, ada.has_usable_password()) == (Role.ADMIN, trust.pk, False)
    assert "/set-password/invitation/" in out.getvalue()  # a one-time link to set a password, no shell step
    assert AuditEvent.objects.filter(object_type="accounts.user", object_id=str(ada.pk), detail__first_admin=True).exists()
    assert AuditEvent.objects.filter(object_type="accounts.user", object_id=str(ada.pk), action="create", via="command").exists()

    with pytest.raises(CommandError, match="already has an admin \\(ada@harbour.test\\)"):
        call_command("first_admin_create", str(trust.pk), "--email", "bob@harbour.test")
    assert not User.objects.filter(email="bob@harbour.test").exists()

    # With its only admin deactivated, the organisation can be given a first admin again.
    user_update(actor=SYSTEM, user=ada, is_active=False)
    call_command("first_admin_create", str(trust.pk), "--email", "bob@harbour.test", stdout=io.StringIO())
    assert User.objects.get(email="bob@harbour.test").organisation_id == trust.pk


def test_refuses_an_unknown_organisation_and_a_taken_email():
    with pytest.raises(CommandError, match="No organisation named 'Nowhere'"):
        call_command("first_admin_create", "Nowhere", "--email", "x@example.test")
    organisation_create(actor=SYSTEM, name="Quay Trust")
    other = organisation_create(actor=SYSTEM, name="Pier Trust")
    call_command("first_admin_create", "Pier Trust", "--email", "taken@example.test", stdout=io.StringIO())
    with pytest.raises(CommandError, match="An account with this email address already exists."):
        call_command("first_admin_create", "Quay Trust", "--email", "taken@example.test")
    assert User.objects.filter(email="taken@example.test").get().organisation_id == other.pk

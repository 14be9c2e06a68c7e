from django.conf import settings
from django.db import models

from backend.audit.append_only import AppendOnlyModel


class AuditEvent(AppendOnlyModel):
    """One read or change of an identifiable record: who, what, which object, when, from where.

    Events form a hash chain: `hash` covers this event's content and the previous event's hash, so
    editing, inserting or deleting a row behind the application's back breaks the chain at that
    point (`manage.py verify_audit`). `sequence` has no gaps, so a deleted row is found too.
    Actor fields are copied (email, role) so the event still reads true if the account changes.
    """

    class Action(models.TextChoices):
        READ = "read"
        LIST = "list"
        CREATE = "create"
        UPDATE = "update"
        END = "end"
        LOGIN = "login"
        LOGIN_FAILED = "login_failed"
        LOGOUT = "logout"
        DENIED = "denied"  # a refused request for an identifiable record (403, or 404 outside the asker's view)

    sequence = models.PositiveBigIntegerField(unique=True)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    actor_email = models.CharField(max_length=254, blank=True)
    actor_role = models.CharField(max_length=32, blank=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    object_type = models.CharField(max_length=100, help_text="app_label.model of the record concerned")
    object_id = models.CharField(max_length=64, blank=True)
    ip_address = models.CharField(max_length=45, blank=True, default="")  # text, so the hash sees what was stored
    user_agent = models.CharField(max_length=300, blank=True)
    via = models.CharField(max_length=16)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["sequence"]
        indexes = [models.Index(fields=["object_type", "object_id"]), models.Index(fields=["actor", "occurred_at"])]

    def __str__(self):
        return f"#{self.sequence} {self.actor_email or 'system'} {self.action} {self.object_type}:{self.object_id}"

"""History of mutable records: every insert, update and delete of a row that can change keeps a
snapshot of the row, with who changed it and through what (django-pghistory).

The audit trail says *that* someone changed a team and which fields; this keeps *what the values
were*. PostgreSQL triggers write the snapshots (installed by each app's `00NN_history` migration),
so no code path, not even a raw UPDATE, changes a tracked row without leaving its old values behind.

- `track()` is the one decorator every app puts on a mutable model: insert, update and delete
  events, a row snapshot each (the update one is the row after the change, so the values before it
  are the previous snapshot), on `<Model>History` with `obj.history` as the related name.
- Who and how: `HistoryContextMiddleware` names the logged-in user and `via` (api or web) for
  every HTTP request; `history_by(actor)` does the same for work outside a request (management
  commands). The context is copied into each snapshot row (`pgh_context`), so it cannot be edited
  apart from it.
- Snapshot rows are append-only like the audit trail: the ORM refuses updates and deletes, and a
  PostgreSQL trigger refuses them in the database (pghistory's `append_only`).
- PostgreSQL only. On SQLite (the embedded `make run` default) the migrations create the history
  tables but no triggers, so no history is kept, and the context is never set (pghistory sets it
  with PostgreSQL's `set_config`). Production runs PostgreSQL (docs/deploy.md).
- Inside a context pghistory prefixes every writing statement with a parameterised `set_config`, so raw
  SQL run there must pass its parameters (a literal `%` in SQL run with `params=None` would break).
  `set_config` is transaction-local: a context left inside a transaction still names the changes
  made later in that same transaction.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import pghistory
from django.db import connection, migrations
from pghistory.middleware import HistoryMiddleware
from pghistory.models import Event, EventQuerySet

from backend.audit.append_only import AppendOnlyModel, AppendOnlyQuerySet

if TYPE_CHECKING:
    from django.db.models import Model, QuerySet

    from backend.audit.actor import Actor

HISTORY_LABELS = ("insert", "update", "delete")


class HistoryQuerySet(AppendOnlyQuerySet, EventQuerySet):
    """pghistory's event queries (`tracks`, `across`, ...) with the append-only refusals."""


class HistoryEvent(AppendOnlyModel, Event):
    """A snapshot of a tracked row at one insert, update or delete: the row's tracked fields as they
    were then, `pgh_label` (insert, update, delete), `pgh_created_at`, `pgh_obj` (the row; the id
    stays after the row is deleted) and `pgh_context` (who: `user`, the acting account's id, and
    `via`, api, web or command; empty when the change came from elsewhere, such as a console)."""

    objects = HistoryQuerySet.as_manager()

    class Meta:
        abstract = True


def track(*, exclude: list[str] | None = None):
    """Keep the history of a model's rows (inserts, updates and deletes, with who did them).

    `exclude` names fields never copied: secrets (a password hash) and bookkeeping that changes on
    every login; a change to those alone leaves no snapshot.
    """

    def decorate(model: type[Model]) -> type[Model]:
        return pghistory.track(
            pghistory.InsertEvent(),
            pghistory.UpdateEvent(),
            pghistory.DeleteEvent(),
            exclude=exclude,
            base_model=HistoryEvent,
            model_name=f"{model.__name__}History",
            obj_field=pghistory.ObjForeignKey(related_name="history", related_query_name="history"),
            context_field=pghistory.ContextJSONField(),
            append_only=True,
        )(model)

    return decorate


def _keeps_history() -> bool:
    return connection.vendor == "postgresql"


def history_by(actor: Actor) -> contextlib.AbstractContextManager:
    """Name `actor` as who makes the changes inside the block. Nested in a request's context it
    refines it (a command's actor, a join link's person); on SQLite it does nothing."""
    if not _keeps_history():
        return contextlib.nullcontext()
    user = getattr(actor.user, "pk", None)
    return pghistory.context(user=user, via=actor.via)


class HistoryContextMiddleware(HistoryMiddleware):
    """Names the request's user and `via` (api or web, as the audit trail does) on every change a
    request makes. pghistory's own middleware also follows DRF setting `request.user` during token
    authentication. Nothing is recorded about the URL: a join link's token is in its path."""

    def get_context(self, request) -> dict:
        context = super().get_context(request)
        return {"user": context["user"], "via": "api" if request.path.startswith("/api/") else "web"}

    def __call__(self, request):
        if not _keeps_history():
            return self.get_response(request)
        return super().__call__(request)


def history_of(obj: Model) -> QuerySet:
    """Every snapshot of `obj`, oldest first. Callers check the asker may see `obj` first."""
    return obj.history.order_by("pgh_id")


def snapshot_existing(app_label: str, model_name: str) -> migrations.RunPython:
    """A migration operation that stores a "baseline" snapshot of every row that exists when history
    starts, so the first change to an old row still has the values before it. PostgreSQL only, like
    the rest of the history."""

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        model = apps.get_model(app_label, model_name)
        history = apps.get_model(app_label, f"{model_name}History")
        names = [f.attname for f in history._meta.concrete_fields if not f.name.startswith("pgh_")]
        rows = [
            history(pgh_label="baseline", pgh_obj_id=row["id"], **row)
            for row in model._default_manager.using(schema_editor.connection.alias).values(*names)
        ]
        history._default_manager.using(schema_editor.connection.alias).bulk_create(rows, batch_size=1000)

    return migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)

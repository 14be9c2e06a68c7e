"""Append-only records: refused updates and deletes in the ORM and, on PostgreSQL, in the database.

Used by the audit trail and by consent records, which must never be rewritten. The ORM guard stops
mistakes in our own code; the database trigger stops anything else that talks to the database
through an ordinary role (a raw UPDATE, a console session). Deliberate tampering by the database
owner is what the audit hash chain exists to detect.
"""

from django.db import migrations, models

from backend.core.errors import Conflict


class AppendOnlyViolation(Conflict):
    code = "append_only"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyViolation(f"{self.model.__name__} records are append-only: they cannot be updated.")

    def delete(self):
        raise AppendOnlyViolation(f"{self.model.__name__} records are append-only: they cannot be deleted.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyViolation(f"{self.model.__name__} records are append-only: they cannot be updated.")


class AppendOnlyModel(models.Model):
    """A model whose rows, once written, stay as they are. Subclasses add a PostgreSQL trigger
    to their first migration with `refuse_update_and_delete(table)`."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyViolation(f"{type(self).__name__} records are append-only: they cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyViolation(f"{type(self).__name__} records are append-only: they cannot be deleted.")


_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION rapport_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'rapport: % on % is refused: its rows are append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def refuse_update_and_delete(table: str) -> migrations.RunPython:
    """A migration operation that makes `table` append-only in PostgreSQL (a no-op elsewhere)."""
    trigger = f"{table}_append_only"

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(_FUNCTION_SQL, params=None)  # its % are plpgsql format marks, not placeholders
        schema_editor.execute(
            f"CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION rapport_refuse_change();"
        )

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table};")

    return migrations.RunPython(forwards, backwards, elidable=False)

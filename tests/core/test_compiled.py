"""Queries compiled once per process (backend/core/compiled.py): the SQL run is the ORM's, with each
run's values in their places; rows come back converted as values_list converts them; a query whose SQL
depends on its values is never reused."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.accounts.models import User
from backend.audit.models import AuditEvent
from backend.core.compiled import CompiledQuery


def test_the_sql_is_the_orms_with_each_runs_values(world):
    def build(shape, pk, email):
        return User.objects.filter(pk=pk, email=email, role=shape).values_list("id", "role")[:1]

    query = CompiledQuery(build)
    for user in (world.clinician, world.peer_worker):
        sql, params = query.sql(user.role, pk=user.pk, email=user.email)
        built_sql, built_params = build(user.role, user.pk, user.email).query.get_compiler(using="default").as_sql()
        assert (sql, list(params)) == (built_sql, list(built_params))
        assert query.first(user.role, pk=user.pk, email=user.email) == (user.pk, user.role)
    assert query.first("clinician", pk=world.peer_worker.pk, email=world.peer_worker.email) is None  # the role is part of the SQL
    with CaptureQueriesContext(connection) as queries:
        query.rows("clinician", pk=world.clinician.pk, email=world.clinician.email)
    assert len(queries) == 1  # through Django's cursor: counted and logged as any query


def test_rows_are_converted_as_values_list_converts_them(world):
    def build(shape, first):
        return AuditEvent.objects.filter(sequence__gte=first).order_by("sequence").values_list("detail", "occurred_at")

    query = CompiledQuery(build)
    expected = list(AuditEvent.objects.filter(sequence__gte=1).order_by("sequence").values_list("detail", "occurred_at"))
    assert expected and isinstance(expected[0][0], dict)
    assert query.rows((), first=1) == expected  # JSON decoded, times aware


def test_a_query_whose_sql_depends_on_its_values_is_built_afresh_each_time(world):
    from django.utils import timezone

    def by_parity(shape, pk):
        people = User.objects.filter(pk=pk)
        return (people.filter(role="clinician") if pk % 2 else people).values_list("id")  # a branch on the value

    def joined_by_now(shape, pk):
        return User.objects.filter(pk=pk, date_joined__lte=timezone.now()).values_list("id")  # a constant that changes

    for build in (by_parity, joined_by_now):
        query = CompiledQuery(build)
        for user in (world.clinician, world.other_clinician, world.service_user, world.carer):
            assert query.rows((), pk=user.pk) == list(build((), user.pk))
        assert query._compiled_for((), {"pk": 1}) is None

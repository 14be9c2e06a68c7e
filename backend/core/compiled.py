"""Queries built through the ORM once per process, then run as their SQL with each request's values.

Building a queryset and compiling it to SQL costs Python time on every request (filters resolved,
joins set up, expressions compiled): for a query over several access rules, milliseconds, more than
the database takes to answer it. When such a query's SQL depends only on a few choices (a role, which
path a request takes) and its values are ids, it can be compiled once per choice and reused.

`CompiledQuery(build)`: `build(shape, **values)` returns the queryset (a `values_list`) for one shape,
built from the usual selectors and sliced to the rows wanted. The first time a shape is asked for, it
is built twice with stand-in values (integers no id has, strings no one sends) and compiled; every
parameter equal to a stand-in becomes a slot for that value, every other parameter is a constant of
the query. The two compilations must give the same SQL and the same constants; a shape whose SQL or
constants depend on a value (a branch on an id, the time now as a constant) cannot be reused, and is
built and compiled afresh on every run instead, as any queryset is. Each later run of a compiled
shape substitutes the values and sends the SQL through Django's cursor (so it is logged, counted and
wrapped like any query), then applies the converters Django applies to `values_list` rows.

The two compilations catch a constant that changes between builds and some branches on a value (the
stand-ins differ in parity and size), not every one. Nor do they catch a constant the build READ FROM
THE DATABASE (the carer sharing rule's purpose and re-consent version): it is the same in both
compilations and would be kept after the row changed, so a build that reads rows must not be compiled
(sessions' carers are not: sessions/selectors.py). Further, `build` must use its values as the query's
values only, never decide anything on them. What a shape must capture is the caller's business:
everything the built query depends on apart from the values. The callers' tests compare the SQL run
with the SQL the ORM builds for real values.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

from django.db import connections
from django.db.models import QuerySet

# Stand-ins: two sets (each compiled once) to tell slots from constants. Integers negative and far
# beyond any id; strings no one would send.
_STAND_INS = (-7_262_000_000_001, -7_262_000_001_002)  # one odd, one even


def _stand_in(base: int, i: int, value: int | str) -> int | str:
    return base - i if isinstance(value, int) else f"compiled-stand-in-{-base - i}"


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple  # each a constant, or a _Slot
    converters: tuple  # (position, converter functions, expression), as Django's compiler gives them


@dataclass(frozen=True)
class _Slot:
    name: str


class CompiledQuery:
    """One query, compiled once per process for each shape asked for (see the module docstring)."""

    def __init__(self, build: Callable[..., QuerySet], using: str = "default") -> None:
        self._build = build
        self._using = using
        self._compiled: dict[tuple, _Compiled] = {}

    def _compile(self, shape: Hashable, values: dict) -> _Compiled | None:
        compiled = []
        for n, base in enumerate(_STAND_INS):
            stand_ins = {name: _stand_in(base, i, value) for i, (name, value) in enumerate(values.items())}
            compiler = self._build(shape, **stand_ins).query.get_compiler(using=self._using)
            sql, params = compiler.as_sql()
            slots = {value: name for name, value in stand_ins.items()}
            if any(str(value).lstrip("-") in sql for value in slots):
                return None  # a value written into the SQL itself
            compiled.append((sql, tuple(_Slot(slots[p]) if isinstance(p, (int, str)) and p in slots else p for p in params)))
            if n == 0:
                fields = [selected[0] for selected in compiler.select[: compiler.col_count]]
                converters = tuple((position, tuple(functions), expression)
                                   for position, (functions, expression) in compiler.get_converters(fields).items())
        (sql, params), (other_sql, other_params) = compiled
        if sql != other_sql or params != other_params:
            return None  # depends on its values: built afresh each time
        return _Compiled(sql, params, converters)

    def _compiled_for(self, shape: Hashable, values: dict) -> _Compiled | None:
        key = (connections[self._using].vendor, shape, tuple((name, type(value)) for name, value in values.items()))
        try:
            return self._compiled[key]
        except KeyError:
            compiled = self._compiled[key] = self._compile(shape, values)
            return compiled

    def sql(self, shape: Hashable, **values: int | str) -> tuple[str, list]:
        """The SQL run for this shape and these values, with its parameters."""
        compiled = self._compiled_for(shape, values)
        if compiled is None:
            return self._build(shape, **values).query.get_compiler(using=self._using).as_sql()
        return compiled.sql, [values[p.name] if isinstance(p, _Slot) else p for p in compiled.params]

    def rows(self, shape: Hashable, **values: int | str) -> list[tuple]:
        """The query's rows for these values, converted as `values_list` converts them."""
        compiled = self._compiled_for(shape, values)
        if compiled is None:
            return list(self._build(shape, **values).using(self._using))
        connection = connections[self._using]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, [values[p.name] if isinstance(p, _Slot) else p for p in compiled.params])
            rows = cursor.fetchall()
        if not compiled.converters:
            return rows
        converted = []
        for row in rows:
            row = list(row)
            for position, functions, expression in compiled.converters:
                for function in functions:
                    row[position] = function(row[position], expression, connection)
            converted.append(tuple(row))
        return converted

    def first(self, shape: Hashable, **values: int | str) -> tuple | None:
        """The query's first row for these values (build slices it to one), or None."""
        rows = self.rows(shape, **values)
        return rows[0] if rows else None

"""Confidence intervals and small-number suppression for the evaluation report. Pure: no database.

Wilson score interval
    E. B. Wilson (1927), "Probable inference, the law of succession, and statistical inference",
    Journal of the American Statistical Association 22(158):209-212. Recommended over the simple
    (Wald) interval by R. G. Newcombe (1998), "Two-sided confidence intervals for the single
    proportion: comparison of seven methods", Statistics in Medicine 17(8):857-872 (method 3): it
    stays inside 0..1 and keeps close to its nominal coverage for small n and proportions near 0 or 1,
    which is where did-not-attend and recovery rates of small teams live. The worked examples in
    Newcombe's Table I are the tests (tests/evaluation/test_statistics.py).

Small-number suppression
    A count from 1 to 4 is shown as suppressed (primary suppression). Then, because the tables also
    show totals, every line of a table (a row or column with its total, in as many dimensions as the
    table has) must hide either nothing or at least two of its entries: a line with exactly one
    hidden entry gives that entry away as total minus the rest. While any line hides exactly one
    entry, the smallest non-zero entry of that line is hidden too, inner cells before totals
    (secondary suppression). Zero is shown: a true zero names nobody, and hiding zeros would hide
    most of a small service's tables. Rates are shown only when their numerator and denominator both
    are.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from itertools import product

SUPPRESS_BELOW = 5  # counts 1..4 are suppressed; an export needs at least this many people
Z_95 = 1.959963984540054  # the standard normal quantile for a two-sided 95% interval
TOTAL = "total"


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval for `successes` out of `trials` (None when there are no trials)."""
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError("successes must be between 0 and trials")
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = (z / (1 + z2 / trials)) * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return max(0.0, centre - half), min(1.0, centre + half)


def suppress(cells: dict[Hashable, int], lines: Sequence[Sequence[Hashable]], is_total=lambda key: False) -> set:
    """The keys of `cells` to hide: primary (1..4) and secondary, so that no line in `lines` (a list of
    keys whose values add up to its total, the total included) hides exactly one entry."""
    hidden = {key for key, value in cells.items() if 0 < value < SUPPRESS_BELOW}
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(key in hidden for key in line) != 1:
                continue
            candidates = [key for key in line if key not in hidden]
            if not candidates:
                continue
            # The smallest non-zero inner cell loses least; a zero or a total only when nothing else is left.
            hidden.add(min(candidates, key=lambda key: (cells[key] == 0, is_total(key), cells[key], str(key))))
            changed = True
    return hidden


def with_margins(counts: dict[tuple, int], axes: Sequence[Sequence[Hashable]]) -> tuple[dict[tuple, int], list[list[tuple]]]:
    """A table of `counts` keyed by one value per axis, with a TOTAL on every axis (row totals, column
    totals, the grand total, and so on in more dimensions), and its lines for `suppress`."""
    full_axes = [[*values, TOTAL] for values in axes]
    cells = {}
    for key in product(*full_axes):
        inner = product(*[axes[i] if value == TOTAL else [value] for i, value in enumerate(key)])
        cells[key] = sum(counts.get(k, 0) for k in inner)
    lines = []
    for along, values in enumerate(full_axes):
        others = [full_axes[i] if i != along else [None] for i in range(len(axes))]
        for fixed in product(*others):
            lines.append([fixed[:along] + (value,) + fixed[along + 1:] for value in values])
    return cells, lines


def suppressed_table(counts: dict[tuple, int], axes: Sequence[Sequence[Hashable]]) -> dict[tuple, int | None]:
    """The table with margins, each hidden count replaced by None."""
    cells, lines = with_margins(counts, axes)
    hidden = suppress(cells, lines, is_total=lambda key: TOTAL in key)
    return {key: None if key in hidden else value for key, value in cells.items()}


def shown(count: int) -> int | None:
    """A count that has no total beside it: hidden (None) if 1..4."""
    return None if 0 < count < SUPPRESS_BELOW else count


def suppressed_tables(counts: dict[str, dict[tuple, int]], axes: Sequence[Sequence[Hashable]],
                      partitions: Sequence[tuple[str, Sequence[str]]]) -> dict[str, dict[tuple, int | None]]:
    """Several counts over the same axes, suppressed together. `partitions` name a count and the counts
    that split it (recovered + not recovered = at caseness): in every cell, such a line must hide
    nothing or at least two entries too, so a shown total and shown part cannot give away a small
    other part. Parts that are never shown (not recovered) are counted here all the same."""
    cells: dict[tuple, int] = {}
    lines: list[list[tuple]] = []
    for name, inner in counts.items():
        table, table_lines = with_margins(inner, axes)
        cells.update({(name, *key): value for key, value in table.items()})
        lines += [[(name, *key) for key in line] for line in table_lines]
    for key in product(*[[*values, TOTAL] for values in axes]):
        for whole, parts in partitions:
            lines.append([*((part, *key) for part in parts), (whole, *key)])
    hidden = suppress(cells, lines, is_total=lambda key: TOTAL in key[1:])
    return {name: {key[1:]: (None if key in hidden else value) for key, value in cells.items() if key[0] == name} for name in counts}

"""The report's charts, drawn on the server with matplotlib and sent as SVG images.

Pages allow no inline scripts or styles (the Content-Security-Policy in settings), so charts are
`<img>` elements whose source is a `data:` SVG (img-src allows `data:`); each has a text alternative
and the same numbers are in the table beside it. Suppressed groups are left out of every chart.
"""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")  # no display: draw to files only

import matplotlib.pyplot as plt  # noqa: E402 (after choosing the backend)

from backend.evaluation.report import RATES, OutcomeRow, Report, Row  # noqa: E402

# Colour-blind-safe (Okabe and Ito) and told apart by label as well as colour.
COLOURS = {"video": "#0072B2", "phone": "#E69F00", "face_to_face": "#009E73"}
OUTCOME_COLOURS = {**COLOURS, "mixed": "#CC79A7"}


def _error_bars(rate) -> list[list[float]]:
    """The interval as matplotlib's error bars, in percent. Never below zero: a Wilson interval of 0 of n
    can start a rounding error above 0 (centre - half in floating point), and matplotlib refuses a
    negative bar (the report page answered 500 for 0 of 14 did not attend)."""
    return [[max(0.0, (rate.value - rate.low) * 100)], [max(0.0, (rate.high - rate.value) * 100)]]


def _svg(figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue().encode()).decode()


def dna_rate_chart(rows: list[Row], title: str) -> str | None:
    """Did-not-attend rate by modality with its 95% interval, as a data: URI (None if nothing to draw)."""
    drawn = [r for r in rows if r.modality in COLOURS and r.rates["did_not_attend"].value is not None]
    if not drawn:
        return None
    figure, axes = plt.subplots(figsize=(6, 3.2))
    for index, row in enumerate(drawn):
        rate = row.rates["did_not_attend"]
        axes.bar(index, rate.value * 100, color=COLOURS[row.modality], width=0.6)
        axes.errorbar(index, rate.value * 100, yerr=_error_bars(rate),
                      color="#222222", capsize=6, linewidth=1.5)
    axes.set_xticks(range(len(drawn)), [r.modality_label for r in drawn])
    axes.set_ylabel("Did not attend (%)")
    axes.set_ylim(0, 100)
    axes.set_title(title)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def attended_by_team_chart(report: Report) -> str | None:
    """Attended sessions by team, one bar per modality (suppressed counts left out)."""
    teams = list(report.by_team)
    if not teams:
        return None
    figure, axes = plt.subplots(figsize=(7, 0.6 + 0.7 * len(teams)))
    height = 0.8 / len(COLOURS)
    for offset, modality in enumerate(COLOURS):
        values = [next(r.attended for r in report.by_team[team] if r.modality == modality) for team in teams]
        positions = [i + offset * height for i, v in enumerate(values) if v is not None]
        axes.barh(positions, [v for v in values if v is not None], height=height, color=COLOURS[modality],
                  label=next(r.modality_label for r in report.by_modality if r.modality == modality))
    axes.set_yticks([i + height for i in range(len(teams))], teams)
    axes.invert_yaxis()
    axes.set_xlabel("Sessions attended")
    axes.legend(frameon=False, loc="lower right")
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def outcome_rates_chart(rows: list[OutcomeRow]) -> str | None:
    """Each published rate, one bar per course modality with its 95% interval (suppressed ones left out)."""
    drawn = [r for r in rows if r.modality in OUTCOME_COLOURS and any(rate.value is not None for rate in r.rate_list)]
    if not drawn:
        return None
    figure, axes = plt.subplots(figsize=(7.5, 3.6))
    width = 0.8 / len(drawn)
    for offset, row in enumerate(drawn):
        label = row.modality_label  # once per modality, on its first bar drawn
        for index, (name, *_) in enumerate(RATES):
            rate = row.rates[name]
            if rate.value is None:
                continue
            x = index + offset * width
            axes.bar(x, rate.value * 100, width=width, color=OUTCOME_COLOURS[row.modality], label=label)
            label = None
            axes.errorbar(x, rate.value * 100, yerr=_error_bars(rate),
                          color="#222222", capsize=4, linewidth=1.2)
    axes.set_xticks([i + width * (len(drawn) - 1) / 2 for i in range(len(RATES))], [label for _, label, *_ in RATES])
    axes.set_ylabel("Courses (%)")
    axes.set_ylim(0, 100)
    axes.set_title("Paired outcomes by course modality, with 95% intervals")
    axes.legend(frameon=False, loc="upper right")
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)

"""A score trajectory as an SVG chart: server-drawn (no script, light on a poor connection), with the
bands shaded, the caseness line drawn, and each point's shape saying how the session was held.
A table of the same numbers sits beside every chart for screen readers and for exact values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 40
X_TICKS = 4  # dated ticks on the time axis, at most

# Shape and word for each way of meeting: never colour alone (WCAG 1.4.1).
MARKERS = {
    "video": ("circle", "Video"),
    "phone": ("square", "Phone"),
    "face_to_face": ("diamond", "Face to face"),
    "": ("triangle", "Not recorded"),
}
# Band shading from lightest to darkest, in the direction of worse scores.
BAND_SHADES = ["#eef6ee", "#f7f3e3", "#fbeadb", "#f9e0dc", "#f3d3d8", "#ead0e4"]


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    shape: str
    label: str
    score: Decimal
    band: str
    when: str


def trajectory_chart(series: dict) -> dict:
    """Geometry for templates/outcomes/_chart.html from one series of reports.trajectories()."""
    bands = series["bands"]
    low = min([b.lower for b in bands] + [p.score for p in series["points"]] or [Decimal(0)])
    high = max([b.upper for b in bands] + [p.score for p in series["points"]] or [Decimal(1)])
    span = float(high - low) or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y_of(score) -> float:
        return round(TOP + plot_h * (1 - (float(score) - float(low)) / span), 1)

    points = series["points"]
    # The x axis is time: points are placed by the date they were given (an appointment's, for answers
    # entered afterwards), so a gap of months looks like one, not like the next week.
    x_of, x_ticks = _time_axis([p.completed_at for p in points], plot_w)
    drawn = []
    for point in points:
        shape, label = MARKERS.get(point.modality, MARKERS[""])
        drawn.append(ChartPoint(
            x=x_of(point.completed_at), y=y_of(point.score), shape=shape, label=label,
            score=point.score, band=point.band, when=timezone.localtime(point.completed_at).strftime("%d %b %Y"),
        ))
    worse_first = sorted(bands, key=lambda b: b.lower, reverse=not series["higher_is_worse"])
    # Bands of whole-point scores (0-4, 5-9, ...) meet half way between their ends, so no gap shows.
    half = Decimal("0.5")

    def edges(band):
        return max(band.lower - half, low), min(band.upper + half, high)

    shaded = []
    for i, band in enumerate(worse_first):
        bottom, top = edges(band)
        shaded.append({
            "y": y_of(top), "height": round(y_of(bottom) - y_of(top), 1) or 1, "label": band.label,
            "fill": BAND_SHADES[min(i, len(BAND_SHADES) - 1)], "label_y": round((y_of(top) + y_of(bottom)) / 2 + 4, 1),
        })
    caseness = series["caseness_threshold"]
    ticks = sorted({low, high, *([caseness] if caseness is not None else [])})
    return {
        "width": WIDTH, "height": HEIGHT, "plot_width": plot_w, "left": LEFT, "right": WIDTH - RIGHT, "top": TOP, "bottom": HEIGHT - BOTTOM,
        "bands": shaded, "points": drawn, "line": " ".join(f"{p.x},{p.y}" for p in drawn),
        "caseness_y": y_of(caseness) if caseness is not None else None, "caseness": caseness,
        "ticks": [{"y": y_of(t), "label": f"{t.normalize():f}"} for t in ticks],
        "legend": [{"shape": shape, "label": label} for shape, label in MARKERS.values()], "x_ticks": x_ticks,
    }


def _time_axis(times: list[datetime], plot_w: float) -> tuple[Callable[[datetime], float], list[dict]]:
    """x for each moment (first at the left, last at the right, inset so markers clear the axes) and
    up to X_TICKS dated ticks, evenly spaced in time."""
    inset = 14
    if not times:
        return (lambda _: LEFT + plot_w / 2), []
    first, last = min(times), max(times)
    span = (last - first).total_seconds()
    if span == 0:
        middle = round(LEFT + plot_w / 2, 1)
        return (lambda _: middle), [{"x": middle, "label": _day(first)}]

    def x_of(moment: datetime) -> float:
        return round(LEFT + inset + (plot_w - 2 * inset) * (moment - first).total_seconds() / span, 1)

    count = min(X_TICKS, len(set(_day(t) for t in times)))
    ticks = [first + (last - first) * i / (count - 1) for i in range(count)] if count > 1 else [first]
    return x_of, [{"x": x_of(t), "label": _day(t)} for t in ticks]


def _day(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%d %b %Y").lstrip("0")

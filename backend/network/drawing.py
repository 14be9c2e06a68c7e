"""The map drawn as an accessible SVG: three concentric circles with the person in the middle, each
member a numbered shape (the shape says the kind, the number points to the table row) with its label.
Nothing is told by colour alone; the table beside it carries every fact (templates/network/_map.html)."""

from __future__ import annotations

import math

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

SIZE = 640
CENTRE = SIZE / 2
RINGS = {1: 118, 2: 208, 3: 300}  # outer radius of each circle
PLACE = {1: 78, 2: 160, 3: 250}  # where its members sit
SHAPES = {"person": "circle", "group": "square", "activity": "diamond", "place": "triangle", "professional": "hexagon"}
SHAPE_LABELS = [("circle", "A person"), ("square", "A group"), ("diamond", "An activity"), ("triangle", "A place"),
                ("hexagon", "A professional or service")]
CIRCLE_NAMES = {1: "1: closest", 2: "Circle 2", 3: "Circle 3"}


def _marker(shape: str, x: float, y: float, r: float = 22) -> str:
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" class="map-marker"></circle>'
    if shape == "square":
        return f'<rect x="{x - r + 1:.1f}" y="{y - r + 1:.1f}" width="{2 * r - 2:.1f}" height="{2 * r - 2:.1f}" class="map-marker"></rect>'
    if shape == "diamond":
        points = [(x, y - r - 3), (x + r + 3, y), (x, y + r + 3), (x - r - 3, y)]
    elif shape == "triangle":
        points = [(x, y - r - 4), (x + r + 3, y + r - 1), (x - r - 3, y + r - 1)]
    else:
        points = [(x + (r + 1) * math.cos(math.pi / 3 * k), y + (r + 1) * math.sin(math.pi / 3 * k)) for k in range(6)]
    return '<polygon points="' + " ".join(f"{px:.1f},{py:.1f}" for px, py in points) + '" class="map-marker"></polygon>'


def key_svg(shape: str) -> SafeString:
    """The key's picture of one shape, drawn as the map draws it."""
    return mark_safe(f'<svg viewBox="0 0 28 28" width="24" height="24" aria-hidden="true" focusable="false">{_marker(shape, 14, 14, 9)}</svg>')


SHAPE_KEYS = [(key_svg(shape), label) for shape, label in SHAPE_LABELS]


def _short(label: str) -> str:
    return label if len(label) <= 12 else label[:11] + "…"


def map_svg(members: list[dict], *, ident: str, title: str) -> SafeString:
    """`members`: dicts with label, kind and circle, in table order (numbered from 1)."""
    parts = [
        f'<svg viewBox="0 0 {SIZE} {SIZE}" role="img" aria-labelledby="{ident}-title {ident}-desc" focusable="false" class="map-svg">',
        f'<title id="{ident}-title">{escape(title)}</title>',
    ]
    counts = {c: sum(1 for m in members if m["circle"] == c) for c in (1, 2, 3)}
    desc = (f"Three circles around the person, closest in the middle. {counts[1]} on circle 1, {counts[2]} on circle 2, "
            f"{counts[3]} on circle 3. Each member is a numbered shape: the table lists them by number.")
    parts.append(f'<desc id="{ident}-desc">{escape(desc)}</desc>')
    for circle in (3, 2, 1):
        parts.append(f'<circle cx="{CENTRE}" cy="{CENTRE}" r="{RINGS[circle]}" class="map-ring map-ring-{circle}"></circle>')
        parts.append(f'<text x="{CENTRE}" y="{CENTRE - RINGS[circle] + 28}" text-anchor="middle" class="map-ring-label">{CIRCLE_NAMES[circle]}</text>')
    parts.append(f'<text x="{CENTRE}" y="{CENTRE + 8}" text-anchor="middle" class="map-centre">You</text>')
    for circle in (1, 2, 3):
        on_circle = [(n, m) for n, m in enumerate(members, start=1) if m["circle"] == circle]
        for index, (number, member) in enumerate(on_circle):
            # Spread evenly, starting half a step past the top, where the circle's name is written.
            step = 2 * math.pi / len(on_circle)
            # Each circle turned a little further, so members of different circles do not line up.
            angle = -math.pi / 2 + step * (index + 0.5) + 0.7 * (circle - 1)
            x, y = CENTRE + PLACE[circle] * math.cos(angle), CENTRE + PLACE[circle] * math.sin(angle)
            parts.append('<g class="map-member">')
            parts.append(_marker(SHAPES.get(member["kind"], "circle"), x, y))
            parts.append(f'<text x="{x:.1f}" y="{y + 9:.1f}" text-anchor="middle" class="map-number">{number}</text>')
            label_x = min(max(x, 95), SIZE - 95)  # keep a label of 12 characters inside the picture
            parts.append(f'<text x="{label_x:.1f}" y="{y + 50:.1f}" text-anchor="middle" class="map-label">{escape(_short(member["label"]))}</text>')
            parts.append("</g>")
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every label is escaped above

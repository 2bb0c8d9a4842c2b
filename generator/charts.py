"""Small, dependency-free SVG charts for inline embedding in the published pages.

Every public function returns one ``<svg>`` element as a string.  The output is
meant to be pasted *inline* into a raw HTML block of a Markdown page, so it:

* contains no blank lines (a blank line would end the Markdown HTML block),
  no ``<script>``, no ``style`` attribute, no ``url()`` and no external or
  internal ``href`` references;
* is deterministic: the same input gives byte-identical output (all
  coordinates are printed with one fixed decimal and no locale is involved);
* is responsive: a fixed ``viewBox`` ``WIDTH`` units wide, ``width="100%"``
  and no pixel height, so the browser derives the height from the aspect ratio.
  The page sizes a chart so that its 14-unit text is exactly the body size;
  :func:`for_screens` draws a chart twice, ``WIDTH`` and ``NARROW_WIDTH`` units
  wide, so that on a phone the narrow one fits the column at that text size
  (the page's CSS shows one of the two);
* loads no font: text inherits the page's font stack (including CJK) and
  colour (``currentColor``); data colours come from ``PALETTE`` (every colour
  has at least 4.5:1 contrast against white), and colour is never the only
  cue: values are printed, line series also differ by dash pattern and marker
  shape and get a legend;
* is accessible: ``role="img"`` with ``aria-labelledby`` pointing at the
  ``<title>`` and ``<desc>`` children.  Because ``role="img"`` hides the inner
  text from screen readers, the caller's ``desc`` should state the key figures.

Money never goes through float for *printing*: every printed value is
``fmt(value)`` of the caller's original ``Decimal``/``int``.  Floats are only
used for geometry.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Callable, Iterable, Optional, Sequence, Union

__all__ = [
    "PALETTE",
    "NARROW_WIDTH",
    "WIDTH",
    "for_screens",
    "bar_chart",
    "line_chart",
    "nice_max",
    "stacked_bar",
]

Number = Union[Decimal, int]
Formatter = Callable[[Number], str]

#: Width of every chart's viewBox, in user units.
WIDTH = 400
#: Width of the phone variant (:func:`for_screens`): at the body size (16 px for 14 units)
#: it is 320 px, the column of a 360-px phone.
NARROW_WIDTH = 280
#: Font size of all text, in user units.
FONT = 14
PAD = 4
#: Maximum number of labelled ticks on the x axis of a line chart.
MAX_X_LABELS = 8
#: Line charts with at most this many points get a marker on every point.
MARKERS_UP_TO = 24

#: Data colours; each has >= 4.5:1 contrast on white (so white text on the
#: colour and coloured text on white are both legible).
PALETTE = (
    "#1f5fa6",  # blue
    "#a8520a",  # brown-orange
    "#2d7a3a",  # green
    "#8a3d8f",  # purple
    "#b3261e",  # red
    "#00707a",  # teal
)
DASHES = ("", "7 4", "2 3", "9 3 2 3", "4 2", "1 2")
MARKERS = ("circle", "square", "triangle", "diamond", "triangle-down", "plus")

NO_DATA = "暂无数据"

_ID_RE = re.compile(r"[a-z][a-z0-9-]*")
# Characters that are not allowed in XML 1.0 documents.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NARROW = set(" ,.:;'|!ilj()[]{}")


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------


def _esc(text: object) -> str:
    """XML-escape caller text (and drop characters XML cannot carry)."""
    return html.escape(_XML_INVALID.sub("", str(text)), quote=True)


def _n(x: float) -> str:
    """Format a coordinate with fixed precision (one decimal, no trailing .0)."""
    s = f"{x:.1f}"
    if s.endswith(".0"):
        s = s[:-2]
    return "0" if s == "-0" else s


def _check_id(chart_id: str) -> str:
    if not isinstance(chart_id, str) or not _ID_RE.fullmatch(chart_id):
        raise ValueError(
            f"chart_id must match ^[a-z][a-z0-9-]*$, got {chart_id!r}"
        )
    return chart_id


def _num(value: object, what: str) -> Number:
    """Validate one data value: a finite, non-negative Decimal or int."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise TypeError(
            f"{what}: expected Decimal or int, got {type(value).__name__}"
        )
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"{what}: value must be finite, got {value}")
    if value < 0:
        raise ValueError(f"{what}: negative values are not supported, got {value}")
    return value


def _plain(d: Decimal) -> Decimal:
    """Drop exponent notation and trailing zeros: 2.5E+5 -> 250000, 0.60 -> 0.6."""
    return Decimal(format(d.normalize(), "f"))


def _tick_value(d: Decimal) -> Number:
    d = _plain(d)
    return int(d) if d == d.to_integral_value() else d


def _is_integral(v: Number) -> bool:
    return isinstance(v, int) or v == v.to_integral_value()


def _text_width(text: str, size: float = FONT) -> float:
    """Conservative estimate of rendered text width (no font metrics available)."""
    w = 0.0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        if unicodedata.east_asian_width(ch) in ("W", "F"):
            w += 1.0
        elif ch in _NARROW:
            w += 0.35
        else:
            w += 0.62
    return w * size


def _fit(text: str, max_w: float) -> str:
    """Shorten ``text`` with an ellipsis so that it fits into ``max_w``."""
    if _text_width(text) <= max_w:
        return text
    while text and _text_width(text + "…") > max_w:
        text = text[:-1]
    return text + "…"


def _fmt(fmt: Formatter, value: Number) -> str:
    return str(fmt(value))


# --------------------------------------------------------------------------
# axis scaling
# --------------------------------------------------------------------------

_MANTISSAS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5))


def _to_decimal(value: object) -> Decimal:
    if isinstance(value, bool):
        raise TypeError("expected a number, got bool")
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, float):
        d = Decimal(repr(value))
    else:
        try:
            d = Decimal(str(value))
        except InvalidOperation as exc:
            raise TypeError(f"expected a number, got {value!r}") from exc
    if not d.is_finite():
        raise ValueError(f"value must be finite, got {value!r}")
    if d < 0:
        raise ValueError(f"value must not be negative, got {value!r}")
    return d


def _nice_scale(value: object, integer: bool = False) -> tuple[Decimal, Decimal, int]:
    """Return ``(top, step, intervals)`` for an axis from 0 covering ``value``.

    ``top = step * intervals`` is the smallest number >= value where the step is
    1, 2, 2.5 or 5 times a power of ten and there are 4 or 5 intervals (ties go
    to 5).  With ``integer`` the step is a whole number >= 1 and small maxima
    use 1..4 intervals of 1 instead (no "0.25 commitments" ticks).  0 -> (1, 1, 1).
    """
    v = _to_decimal(value)
    if v == 0:
        return Decimal(1), Decimal(1), 1
    best: Optional[tuple[tuple[Decimal, int], Decimal, int]] = None
    e = v.adjusted()
    for k in range(e - 2, e + 2):
        power = Decimal(10) ** k
        for m in _MANTISSAS:
            step = m * power
            if integer and (step < 1 or step != step.to_integral_value()):
                continue
            for n in (5, 4):
                top = step * n
                if top >= v:
                    key = (top, -n)
                    if best is None or key < best[0]:
                        best = (key, step, n)
    if integer and v <= 4:
        n = int(v.to_integral_value(rounding=ROUND_CEILING))
        key = (Decimal(n), -n)
        if best is None or key < best[0]:
            best = (key, Decimal(1), n)
    assert best is not None  # 2.5 * 10**e * 4 >= v always qualifies
    (top, _), step, n = best
    return _plain(top), _plain(step), n


def nice_max(value: object) -> Decimal:
    """Smallest "nice" axis maximum >= ``value`` (see ``_nice_scale``).

    nice_max(0) == 1, nice_max(1) == 1, nice_max(7) == 8, nice_max(10) == 10,
    nice_max(95) == 100, nice_max(1234567) == 1250000.
    """
    return _nice_scale(value)[0]


# --------------------------------------------------------------------------
# SVG building blocks
# --------------------------------------------------------------------------


def _svg(chart_id: str, title: str, desc: str, height: float, body: Iterable[str], width: int) -> str:
    h = int(math.ceil(height))
    css_class = "zq-chart" if width == WIDTH else "zq-chart zq-chart--narrow"
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {h}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'class="{css_class}" width="100%" font-size="{FONT}" fill="currentColor">'
    )
    lines = [
        head,
        f'<title id="{chart_id}-title">{_esc(title)}</title>',
        f'<desc id="{chart_id}-desc">{_esc(desc)}</desc>',
    ]
    lines.extend(line for line in body if line)
    lines.append("</svg>")
    return "\n".join(lines)


def _empty(chart_id: str, title: str, desc: str, width: int) -> str:
    body = [
        f'<rect x="{PAD}" y="{PAD}" width="{width - 2 * PAD}" height="56" fill="none" '
        'stroke="currentColor" stroke-opacity=".3" stroke-dasharray="4 4"/>',
        f'<text x="{width // 2}" y="37" text-anchor="middle">{NO_DATA}</text>',
    ]
    return _svg(chart_id, title, desc, 64, body, width)


def _marker(kind: str, x: float, y: float, r: float = 4.0) -> str:
    if kind == "circle":
        return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(r)}"/>'
    if kind == "square":
        a = r * 0.9
        return (
            f'<rect x="{_n(x - a)}" y="{_n(y - a)}" '
            f'width="{_n(2 * a)}" height="{_n(2 * a)}"/>'
        )
    if kind == "triangle":
        pts = [(x, y - r * 1.2), (x + r * 1.1, y + r * 0.8), (x - r * 1.1, y + r * 0.8)]
    elif kind == "triangle-down":
        pts = [(x, y + r * 1.2), (x + r * 1.1, y - r * 0.8), (x - r * 1.1, y - r * 0.8)]
    elif kind == "diamond":
        a = r * 1.3
        pts = [(x, y - a), (x + a, y), (x, y + a), (x - a, y)]
    else:  # plus
        a, t = r * 1.2, r * 0.45
        pts = [
            (x - t, y - a), (x + t, y - a), (x + t, y - t), (x + a, y - t),
            (x + a, y + t), (x + t, y + t), (x + t, y + a), (x - t, y + a),
            (x - t, y + t), (x - a, y + t), (x - a, y - t), (x - t, y - t),
        ]
    return '<polygon points="' + " ".join(f"{_n(px)},{_n(py)}" for px, py in pts) + '"/>'


def _series_group(i: int) -> str:
    c = PALETTE[i]
    return f'<g class="zq-s{i}" stroke="{c}" fill="{c}">'


def _legend(names: Sequence[str], y0: float, lines: bool, width: int) -> tuple[list[str], float]:
    """Flow-wrapped legend; returns (elements, height)."""
    row_h = FONT + 8
    sample_w = 28.0 if lines else 14.0
    x, y = float(PAD), y0
    out = ['<g class="zq-legend">']
    for i, raw in enumerate(names):
        name = _fit(raw, width - 2 * PAD - sample_w - 6)
        w = sample_w + 6 + _text_width(name)
        if x > PAD and x + w > width - PAD:
            x, y = float(PAD), y + row_h
        cy = y + row_h / 2
        if lines:
            dash = f' stroke-dasharray="{DASHES[i]}"' if DASHES[i] else ""
            out.append(
                _series_group(i)
                + f'<path d="M{_n(x)} {_n(cy)}h{_n(sample_w)}" fill="none" stroke-width="2.5"{dash}/>'
                + _marker(MARKERS[i], x + sample_w / 2, cy)
                + "</g>"
            )
        else:
            out.append(
                f'<rect class="zq-s{i}" x="{_n(x)}" y="{_n(cy - 7)}" width="14" height="14" '
                f'fill="{PALETTE[i]}"/>'
            )
        out.append(f'<text x="{_n(x + sample_w + 6)}" y="{_n(cy + FONT * 0.35)}">{_esc(name)}</text>')
        x += w + 16
    out.append("</g>")
    return out, y + row_h - y0


def _spread(wanted: list[float], gap: float, lo: float, hi: float) -> list[float]:
    """Move label positions apart (keeping their order) to be >= gap apart."""
    order = sorted(range(len(wanted)), key=lambda i: (wanted[i], i))
    ys = [min(max(wanted[i], lo), hi) for i in order]
    for k in range(1, len(ys)):
        ys[k] = max(ys[k], ys[k - 1] + gap)
    if ys and ys[-1] > hi:
        ys[-1] = hi
        for k in range(len(ys) - 2, -1, -1):
            ys[k] = min(ys[k], ys[k + 1] - gap)
    result = [0.0] * len(wanted)
    for k, i in enumerate(order):
        result[i] = ys[k]
    return result


# --------------------------------------------------------------------------
# line chart
# --------------------------------------------------------------------------


def line_chart(
    chart_id: str,
    title: str,
    desc: str,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Optional[Number]]]],
    y_label: str = "",
    fmt: Formatter = str,
    *,
    tick_fmt: Optional[Formatter] = None,
    width: int = WIDTH,
) -> str:
    """Line chart with a 0-based y axis, one line per series, and a legend.

    Every series must have one value per x label; ``None`` marks a missing
    point (the line is interrupted).  At most ``len(PALETTE)`` series.  The
    last value of each series is printed (``fmt``) at the right end; y tick
    labels use ``tick_fmt`` (default ``fmt``) and receive ``int`` or
    ``Decimal`` tick values.
    """
    chart_id = _check_id(chart_id)
    labels = [str(x) for x in x_labels]
    n = len(labels)
    if len(series) > len(PALETTE):
        raise ValueError(f"at most {len(PALETTE)} series are supported")
    data: list[tuple[str, list[Optional[Number]]]] = []
    for name, values in series:
        vals = list(values)
        if len(vals) != n:
            raise ValueError(
                f"series {name!r} has {len(vals)} values for {n} x labels"
            )
        data.append(
            (str(name), [None if v is None else _num(v, f"series {name!r}") for v in vals])
        )
    present = [v for _, vals in data for v in vals if v is not None]
    if n == 0 or not present:
        return _empty(chart_id, title, desc, width)

    tick_fmt = tick_fmt or fmt
    top_val, step, intervals = _nice_scale(max(present), all(map(_is_integral, present)))
    ticks = [step * i for i in range(intervals + 1)]
    tick_text = [_fmt(tick_fmt, _tick_value(t)) for t in ticks]

    # Vertical layout: legend, unit label, plot, x labels.
    body, legend_h = _legend([name for name, _ in data], PAD, lines=True, width=width)
    y = PAD + legend_h + 4
    if y_label:
        body.append(
            f'<text x="{PAD}" y="{_n(y + FONT * 0.8)}">{_esc(_fit(y_label, width - 2 * PAD))}</text>'
        )
        y += FONT + 6
    top = y + FONT / 2
    plot_h = 200.0
    bottom = top + plot_h
    height = bottom + FONT + 14

    # Horizontal layout: tick labels, plot, end-of-line value labels.
    ends = []  # (series index, point index, value, text)
    for i, (_, vals) in enumerate(data):
        last = max((j for j, v in enumerate(vals) if v is not None), default=None)
        if last is not None:
            ends.append((i, last, vals[last], _fmt(fmt, vals[last])))
    left = PAD + max(_text_width(t) for t in tick_text) + 6
    right = width - PAD - 10 - max(_text_width(t) for _, _, _, t in ends)
    if right - left < 120:  # absurdly long labels: keep a usable plot
        right = min(width - PAD, left + 120)
    plot_w = right - left

    def px(j: int) -> float:
        return (left + right) / 2 if n == 1 else left + plot_w * j / (n - 1)

    fmax = float(top_val)

    def py(v: Number) -> float:
        return bottom - plot_h * float(v) / fmax

    # Gridlines and y tick labels.
    grid = "".join(f"M{_n(left)} {_n(py(t))}H{_n(right)}" for t in ticks[1:])
    body.append(f'<path d="{grid}" fill="none" stroke="currentColor" stroke-opacity=".2"/>')
    body.append(
        f'<path d="M{_n(left)} {_n(bottom)}H{_n(right)}" fill="none" '
        'stroke="currentColor" stroke-opacity=".6"/>'
    )
    body.append('<g class="zq-yticks" text-anchor="end">')
    for t, txt in zip(ticks, tick_text):
        body.append(f'<text x="{_n(left - 6)}" y="{_n(py(t) + FONT * 0.35)}">{_esc(txt)}</text>')
    body.append("</g>")

    # X tick labels, thinned so that they never overlap.
    shown = [_fit(lbl, plot_w) for lbl in labels]
    widest = max(_text_width(lbl) for lbl in shown)
    dx = plot_w / (n - 1) if n > 1 else plot_w
    stride = max(1, math.ceil((widest + 8) / dx), math.ceil((n - 1) / (MAX_X_LABELS - 1)))
    idx = list(range(0, n, stride))
    if idx[-1] != n - 1:
        if len(idx) > 1 and (n - 1 - idx[-1]) * dx < widest + 8:
            idx[-1] = n - 1
        else:
            idx.append(n - 1)
    body.append('<g class="zq-xticks" text-anchor="middle">')
    for j in idx:
        half = _text_width(shown[j]) / 2
        x = min(max(px(j), PAD + half), width - PAD - half)
        body.append(f'<text x="{_n(x)}" y="{_n(bottom + FONT + 6)}">{_esc(shown[j])}</text>')
    body.append("</g>")

    # The series themselves.
    for i, (_, vals) in enumerate(data):
        body.append(_series_group(i))
        dash = f' stroke-dasharray="{DASHES[i]}"' if DASHES[i] else ""
        run: list[int] = []
        runs: list[list[int]] = []
        for j, v in enumerate(vals):
            if v is None:
                if run:
                    runs.append(run)
                run = []
            else:
                run.append(j)
        if run:
            runs.append(run)
        for r in runs:
            if len(r) > 1:
                pts = " ".join(f"{_n(px(j))},{_n(py(vals[j]))}" for j in r)
                body.append(
                    f'<polyline points="{pts}" fill="none" stroke-width="2.5" '
                    f'stroke-linejoin="round"{dash}/>'
                )
        if n <= MARKERS_UP_TO:
            marked = [j for r in runs for j in r]
        else:  # only isolated points (otherwise invisible) and the last point
            marked = sorted({r[0] for r in runs if len(r) == 1} | {r[-1] for r in runs[-1:]})
        for j in marked:
            body.append(_marker(MARKERS[i], px(j), py(vals[j])))
        body.append("</g>")

    # Last value of each series, to the right of the plot.
    wanted = [py(v) + FONT * 0.35 for _, _, v, _ in ends]
    label_ys = _spread(wanted, FONT + 2, top + FONT * 0.35, bottom + FONT * 0.35)
    body.append('<g class="zq-ends">')
    for (i, j, v, txt), ly in zip(ends, label_ys):
        c = PALETTE[i]
        x0, y0 = px(j), py(v)
        if abs(ly - FONT * 0.35 - y0) > 1 or j != n - 1:
            body.append(
                f'<path d="M{_n(x0 + 5)} {_n(y0)}L{_n(right + 7)} {_n(ly - FONT * 0.35)}" '
                f'fill="none" stroke="{c}"/>'
            )
        body.append(f'<text x="{_n(right + 10)}" y="{_n(ly)}" fill="{c}">{_esc(txt)}</text>')
    body.append("</g>")
    return _svg(chart_id, title, desc, height, body, width)


# --------------------------------------------------------------------------
# bar charts
# --------------------------------------------------------------------------

_BAR_H = 16
_ROW_H = FONT + 5 + _BAR_H + 10  # label line, gap, bar, gap


def _row_geometry(i: int, top: float) -> tuple[float, float, float]:
    """(label baseline, bar top, value baseline) of horizontal row ``i``."""
    y0 = top + i * _ROW_H
    bar_y = y0 + FONT + 5
    return y0 + FONT * 0.85, bar_y, bar_y + _BAR_H / 2 + FONT * 0.35


def _hbar(
    chart_id: str,
    title: str,
    desc: str,
    labels: list[str],
    values: list[Number],
    fmt: Formatter,
    width: int,
) -> str:
    value_text = [_fmt(fmt, v) for v in values]
    max_w = width - 2 * PAD - 6 - max(_text_width(t) for t in value_text)
    max_w = max(max_w, 100.0)
    vmax = float(max(values))
    top = float(PAD)
    body = ['<g class="zq-labels">']
    for i, lbl in enumerate(labels):
        ly, _, _ = _row_geometry(i, top)
        body.append(f'<text x="{PAD}" y="{_n(ly)}">{_esc(_fit(lbl, width - 2 * PAD))}</text>')
    body.append("</g>")
    widths = [max_w * float(v) / vmax if vmax else 0.0 for v in values]
    body.append(f'<g class="zq-s0" fill="{PALETTE[0]}">')
    for i, w in enumerate(widths):
        _, by, _ = _row_geometry(i, top)
        if w > 0:
            body.append(
                f'<rect x="{PAD}" y="{_n(by)}" width="{_n(max(w, 0.5))}" height="{_BAR_H}"/>'
            )
    body.append("</g>")
    body.append('<g class="zq-values">')
    for i, (w, txt) in enumerate(zip(widths, value_text)):
        _, _, vy = _row_geometry(i, top)
        body.append(f'<text x="{_n(PAD + w + 5)}" y="{_n(vy)}">{_esc(txt)}</text>')
    body.append("</g>")
    return _svg(chart_id, title, desc, top + len(labels) * _ROW_H, body, width)


def _vbar(
    chart_id: str,
    title: str,
    desc: str,
    labels: list[str],
    values: list[Number],
    value_text: list[str],
    width: int,
) -> str:
    n = len(labels)
    col_w = (width - 2 * PAD) / n
    bar_w = min(col_w * 0.6, 48.0)
    top = PAD + FONT + 6
    plot_h = 180.0
    bottom = top + plot_h
    vmax = float(max(values))
    body = [f'<g class="zq-s0" fill="{PALETTE[0]}">']
    heights = [plot_h * float(v) / vmax if vmax else 0.0 for v in values]
    for i, h in enumerate(heights):
        cx = PAD + col_w * (i + 0.5)
        if h > 0:
            body.append(
                f'<rect x="{_n(cx - bar_w / 2)}" y="{_n(bottom - h)}" '
                f'width="{_n(bar_w)}" height="{_n(max(h, 0.5))}"/>'
            )
    body.append("</g>")
    body.append(
        f'<path d="M{PAD} {_n(bottom)}H{width - PAD}" fill="none" '
        'stroke="currentColor" stroke-opacity=".6"/>'
    )
    body.append('<g text-anchor="middle">')
    for i, (h, txt, lbl) in enumerate(zip(heights, value_text, labels)):
        cx = PAD + col_w * (i + 0.5)
        body.append(f'<text x="{_n(cx)}" y="{_n(bottom - h - 5)}">{_esc(txt)}</text>')
        body.append(
            f'<text x="{_n(cx)}" y="{_n(bottom + FONT + 4)}">{_esc(_fit(lbl, col_w - 4))}</text>'
        )
    body.append("</g>")
    return _svg(chart_id, title, desc, bottom + FONT + 10, body, width)


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    bars: Sequence[tuple[str, Number]],
    fmt: Formatter = str,
    horizontal: bool = True,
    *,
    width: int = WIDTH,
) -> str:
    """Bar chart; every bar's value is printed with ``fmt``.

    Horizontal (default): each bar gets its own row, the (possibly long)
    label on a line above the bar and the value right of the bar end, so it
    works on a phone.  Bars are scaled to the largest value.

    ``horizontal=False`` draws columns with the value above each column; if
    the values or labels cannot fit the columns (many bars on a 400-unit
    wide chart), the horizontal layout is used instead.

    No bars -> a chart saying 暂无数据.  All-zero values are real data and are
    drawn as zero-length bars with their printed values.
    """
    chart_id = _check_id(chart_id)
    labels = [str(lbl) for lbl, _ in bars]
    values = [_num(v, f"bar {lbl!r}") for lbl, v in bars]
    if not values:
        return _empty(chart_id, title, desc, width)
    if not horizontal:
        value_text = [_fmt(fmt, v) for v in values]
        col_w = (width - 2 * PAD) / len(values)
        need = max(max(_text_width(t) for t in value_text), 2 * FONT) + 4
        if col_w >= need:
            return _vbar(chart_id, title, desc, labels, values, value_text, width)
    return _hbar(chart_id, title, desc, labels, values, fmt, width)


def stacked_bar(
    chart_id: str,
    title: str,
    desc: str,
    categories: Sequence[str],
    segments: Sequence[tuple[str, Sequence[Number]]],
    fmt: Formatter = str,
    *,
    width: int = WIDTH,
) -> str:
    """Horizontal stacked bars: one row per category, one segment per series.

    Each segment list has one value per category.  Segments are stacked left
    to right in the given order (the legend uses the same order); a segment's
    value is printed inside it when it fits, and every row's total is printed
    at the bar end.  Bars are scaled to the largest total.  No categories or
    no segments -> 暂无数据.  At most ``len(PALETTE)`` segments.
    """
    chart_id = _check_id(chart_id)
    cats = [str(c) for c in categories]
    if len(segments) > len(PALETTE):
        raise ValueError(f"at most {len(PALETTE)} segments are supported")
    segs: list[tuple[str, list[Number]]] = []
    for name, values in segments:
        vals = list(values)
        if len(vals) != len(cats):
            raise ValueError(
                f"segment {name!r} has {len(vals)} values for {len(cats)} categories"
            )
        segs.append((str(name), [_num(v, f"segment {name!r}") for v in vals]))
    if not cats or not segs:
        return _empty(chart_id, title, desc, width)

    totals = [sum((vals[i] for _, vals in segs), start=0) for i in range(len(cats))]
    total_text = [_fmt(fmt, t) for t in totals]
    max_w = max(width - 2 * PAD - 6 - max(_text_width(t) for t in total_text), 100.0)
    tmax = float(max(totals))

    body, legend_h = _legend([name for name, _ in segs], PAD, lines=False, width=width)
    top = PAD + legend_h + 6
    body.append('<g class="zq-labels">')
    for i, cat in enumerate(cats):
        ly, _, _ = _row_geometry(i, top)
        body.append(f'<text x="{PAD}" y="{_n(ly)}">{_esc(_fit(cat, width - 2 * PAD))}</text>')
    body.append("</g>")

    inside: list[str] = []
    starts = [0.0] * len(cats)
    for k, (_, vals) in enumerate(segs):
        body.append(f'<g class="zq-s{k}" fill="{PALETTE[k]}">')
        for i, v in enumerate(vals):
            w = max_w * float(v) / tmax if tmax else 0.0
            if w <= 0:
                continue
            x = PAD + starts[i]
            starts[i] += w
            _, by, vy = _row_geometry(i, top)
            # A 1-unit gap separates neighbouring segments (shows the page background).
            drawn = w - 1 if w > 2 else w
            body.append(
                f'<rect x="{_n(x)}" y="{_n(by)}" width="{_n(drawn)}" height="{_BAR_H}"/>'
            )
            txt = _fmt(fmt, v)
            if _text_width(txt) + 4 <= drawn:
                inside.append(f'<text x="{_n(x + drawn / 2)}" y="{_n(vy)}">{_esc(txt)}</text>')
        body.append("</g>")
    if inside:
        body.append('<g class="zq-inside" fill="#fff" text-anchor="middle">')
        body.extend(inside)
        body.append("</g>")
    body.append('<g class="zq-values">')
    for i, txt in enumerate(total_text):
        _, _, vy = _row_geometry(i, top)
        body.append(f'<text x="{_n(PAD + starts[i] + 5)}" y="{_n(vy)}">{_esc(txt)}</text>')
    body.append("</g>")
    return _svg(chart_id, title, desc, top + len(cats) * _ROW_H, body, width)


def for_screens(draw: Callable[..., str], chart_id: str, *args, **kwargs) -> str:
    """The chart ``draw(chart_id, *args, **kwargs)`` twice: ``WIDTH`` units wide, then
    ``NARROW_WIDTH`` wide with the id ``<chart_id>-narrow`` and the class
    ``zq-chart--narrow``. Both carry the same title, description and printed values."""
    wide = draw(chart_id, *args, width=WIDTH, **kwargs)
    narrow = draw(f"{chart_id}-narrow", *args, width=NARROW_WIDTH, **kwargs)
    return f"{wide}\n{narrow}"


#: Sparkline geometry (user units): wide enough for a few years, as tall as a line of text.
SPARK_W, SPARK_H, SPARK_PAD = 60.0, 20.0, 3.0


def sparkline(label: str, values: Sequence[Optional[Number]]) -> str:
    """A tiny trend line for a table cell: ``<svg class="zq-spark" role="img">``.

    ``label`` names the values in words (the accessible name); the caller prints the
    numbers next to it as text. Missing values (None) are skipped; one value gives a dot.
    """
    points = [(i, _to_decimal(v)) for i, v in enumerate(values) if v is not None]
    body: list[str] = []
    if points:
        lo = min(v for _, v in points)
        hi = max(v for _, v in points)
        span = float(hi - lo) or 1.0
        n = max(len(values) - 1, 1)

        def xy(i: int, v: Decimal) -> str:
            x = SPARK_PAD + (SPARK_W - 2 * SPARK_PAD) * i / n
            y = SPARK_H - SPARK_PAD - (SPARK_H - 2 * SPARK_PAD) * (float(v - lo) / span if hi != lo else 0.5)
            return f"{_n(x)},{_n(y)}"

        if len(points) > 1:
            body.append(f'<polyline points="{" ".join(xy(i, v) for i, v in points)}"/>')
        last = xy(*points[-1]).split(",")
        body.append(f'<circle cx="{last[0]}" cy="{last[1]}" r="2.5"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="zq-spark" viewBox="0 0 {_n(SPARK_W)} {_n(SPARK_H)}" '
            f'role="img" aria-label="{_esc(label)}"><title>{_esc(label)}</title>{"".join(body)}</svg>')

"""Tests for generator.charts (pure-Python inline SVG charts)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from generator import charts
from generator.charts import bar_chart, line_chart, nice_max, stacked_bar

NS = "{http://www.w3.org/2000/svg}"

MONTHS = [f"{2023 + m // 12}-{m % 12 + 1:02d}" for m in range(24)]
ARREARS = [
    ("累计认定欠款", [Decimal(1000) + Decimal(50) * i for i in range(24)]),
    ("累计清偿", [Decimal(40) * i + Decimal("0.56") for i in range(24)]),
    ("未清偿余额", [Decimal(1000) + Decimal(10) * i - Decimal("0.56") for i in range(24)]),
]
DEPTS = [
    ("区住房和城乡建设局", Decimal("1234.56")),
    ("区交通运输局", Decimal("617.28")),
    ("区教育局", Decimal("0")),
    ("区卫生健康委员会", Decimal("98.70")),
]
STATUS = ["已完成", "推进中", "未启动"]


def money(d):
    return f"{d:,.2f}"


def make_all(chart_id="c1", label="标签", title="标题", desc="说明"):
    """One chart of every kind, sharing caller text."""
    return {
        "line": line_chart(chart_id, title, desc, [label, "2023-02"],
                           [(label, [1, 2])], y_label=label),
        "hbar": bar_chart(chart_id, title, desc, [(label, 3), ("乙", 5)]),
        "vbar": bar_chart(chart_id, title, desc, [(label, 3), ("乙", 5)], horizontal=False),
        "stacked": stacked_bar(chart_id, title, desc, [label, "乙"],
                               [(label, [1, 2]), ("推进中", [3, 0])]),
        "empty": bar_chart(chart_id, title, desc, []),
    }


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == NS + "svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(NS + "text")]


# --- structure, accessibility, embedding -----------------------------------------


@pytest.mark.parametrize("kind", ["line", "hbar", "vbar", "stacked", "empty"])
def test_valid_svg_with_title_desc_and_aria(kind):
    svg = make_all("arrears-2024", title="欠款清偿进度", desc="截至2024年12月累计清偿…")[kind]
    root = parse(svg)
    assert root.get("role") == "img"
    assert root.get("class") == "zq-chart"
    assert root.get("width") == "100%"
    assert re.fullmatch(r"0 0 \d+ \d+", root.get("viewBox"))
    assert root.get("height") is None
    children = list(root)
    assert children[0].tag == NS + "title" and children[0].text == "欠款清偿进度"
    assert children[1].tag == NS + "desc" and children[1].text == "截至2024年12月累计清偿…"
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    refs = root.get("aria-labelledby").split()
    assert refs == ["arrears-2024-title", "arrears-2024-desc"]
    assert set(refs) <= ids


@pytest.mark.parametrize("kind", ["line", "hbar", "vbar", "stacked", "empty"])
def test_safe_for_inline_markdown_embedding(kind):
    svg = make_all()[kind]
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ')
    assert "\n\n" not in svg  # a blank line would end the Markdown raw HTML block
    lowered = svg.lower()
    for bad in ("<script", "href", "url(", "style=", "font-family=\"", "@import", "<image"):
        assert bad not in lowered, bad
    for line in svg.splitlines():
        assert not line.startswith("    ")  # never looks like an indented code block


@pytest.mark.parametrize("bad", ["", "1abc", "Abc", "a_b", "a b", "a\n", "ab\"", "图表"])
def test_chart_id_validated(bad):
    with pytest.raises(ValueError):
        bar_chart(bad, "t", "d", [("a", 1)])
    with pytest.raises(ValueError):
        line_chart(bad, "t", "d", ["a"], [("s", [1])])
    with pytest.raises(ValueError):
        stacked_bar(bad, "t", "d", ["a"], [("s", [1])])


def test_hostile_text_is_escaped():
    hostile = '<script>alert("x")</script>&\'"'
    for kind, svg in make_all("x", label=hostile, title=hostile, desc=hostile).items():
        assert "<script>" not in svg, kind
        assert "&lt;script&gt;" in svg, kind
        root = parse(svg)
        assert root.find(NS + "title").text == hostile
        assert not list(root.iter("script")) and not list(root.iter(NS + "script"))
        if kind not in ("empty", "vbar"):  # vbar shortens labels to the column width
            assert any(hostile in t for t in texts(root)), kind


def test_hostile_fmt_output_is_escaped_and_invalid_xml_chars_dropped():
    svg = bar_chart("x", "a\x00b", "c\x1bd", [("部门\x07", 1)], fmt=lambda v: f"<b>{v}</b>")
    root = parse(svg)
    assert "<b>" not in svg and "&lt;b&gt;1&lt;/b&gt;" in svg
    assert root.find(NS + "title").text == "ab"
    assert "部门" in texts(root)


def test_colour_palette_contrast_on_white():
    def lum(hex_colour):
        def ch(c):
            c = int(c, 16) / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
        r, g, b = (ch(hex_colour[i:i + 2]) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    assert len(set(charts.PALETTE)) == len(charts.PALETTE)
    for colour in charts.PALETTE:
        assert 1.05 / (lum(colour) + 0.05) >= 4.5, colour
    assert len(set(charts.DASHES)) == len(charts.PALETTE)
    assert len(set(charts.MARKERS)) == len(charts.PALETTE)


# --- determinism and size ---------------------------------------------------------


def test_deterministic():
    a = line_chart("c", "标题", "说明", MONTHS, ARREARS, "万元", fmt=money)
    b = line_chart("c", "标题", "说明", list(MONTHS), [(n, list(v)) for n, v in ARREARS],
                   "万元", fmt=money)
    assert a == b
    assert bar_chart("c", "t", "d", DEPTS, money) == bar_chart("c", "t", "d", list(DEPTS), money)
    segs = [("已完成", [3, 1, 0]), ("推进中", [2, 2, 1]), ("未启动", [0, 1, 4])]
    assert stacked_bar("c", "t", "d", STATUS, segs) == stacked_bar("c", "t", "d", STATUS, segs)


def test_fixed_precision_coordinates():
    svg = line_chart("c", "t", "d", MONTHS, ARREARS, fmt=money)
    numbers = re.findall(r'(?:x|y|x1|y1|cx|cy|width|height|points|d)="([^"]*)"', svg)
    for value in numbers:
        for num in re.findall(r"-?\d+\.\d+", value):
            assert len(num.split(".")[1]) == 1, num
    assert not re.search(r"\d[eE][-+]?\d", svg)  # no exponent notation


def test_line_chart_200_points_under_12kb():
    labels = [f"P{i}" for i in range(200)]
    series = [
        ("累计认定欠款", [Decimal("123456.78") + Decimal(i * 1000) for i in range(200)]),
        ("累计清偿", [Decimal("1.23") * i * i for i in range(200)]),
        ("未清偿余额", [Decimal("50000.01") + Decimal(i * 7) for i in range(200)]),
    ]
    svg = line_chart("big", "欠款清偿进度", "二百个月", labels, series, "元", fmt=money)
    parse(svg)
    assert len(svg.encode("utf-8")) < 12 * 1024
    root = parse(svg)
    xticks = root.find(f".//{NS}g[@class='zq-xticks']")
    assert 2 <= len(xticks) <= charts.MAX_X_LABELS
    assert xticks[-1].text == "P199"  # the most recent label is always shown


def test_typical_charts_under_8kb():
    assert len(line_chart("c", "t", "d", MONTHS, ARREARS, "万元", fmt=money).encode()) <= 8192
    depts = [(f"区第{i}个部门名称较长的单位", Decimal(i * 1234) / 100) for i in range(20)]
    assert len(bar_chart("c", "t", "d", depts, money).encode()) <= 8192
    cats = [f"区第{i}局" for i in range(15)]
    segs = [(s, [i % 5 for i in range(15)]) for s in STATUS]
    assert len(stacked_bar("c", "t", "d", cats, segs).encode()) <= 8192


# --- empty data ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "svg",
    [
        bar_chart("e", "标题", "说明", []),
        bar_chart("e", "标题", "说明", [], horizontal=False),
        line_chart("e", "标题", "说明", [], []),
        line_chart("e", "标题", "说明", [], [("累计清偿", [])]),
        line_chart("e", "标题", "说明", ["2023-01", "2023-02"], [("累计清偿", [None, None])]),
        stacked_bar("e", "标题", "说明", [], []),
        stacked_bar("e", "标题", "说明", ["区教育局"], []),
    ],
)
def test_empty_data_says_no_data(svg):
    root = parse(svg)
    assert "暂无数据" in texts(root)
    assert root.find(NS + "title").text == "标题"


def test_all_zero_values_are_data_not_missing():
    svg = bar_chart("z", "t", "d", [("区教育局", 0), ("区财政局", Decimal("0.00"))], fmt=money)
    root = parse(svg)
    assert "暂无数据" not in svg
    assert {"0.00", "区教育局", "区财政局"} <= set(texts(root))
    svg = line_chart("z", "t", "d", ["2023-01", "2023-02"], [("未清偿余额", [0, 0])])
    assert "暂无数据" not in svg
    parse(svg)


# --- printed values ----------------------------------------------------------------


def test_values_printed_with_fmt():
    root = parse(bar_chart("b", "t", "d", DEPTS, fmt=money))
    shown = texts(root)
    assert {"1,234.56", "617.28", "0.00", "98.70"} <= set(shown)
    assert "区住房和城乡建设局" in shown

    root = parse(line_chart("l", "t", "d", ["2023-01", "2023-02"],
                            [("累计清偿", [Decimal("1000"), Decimal("1234.56")])], fmt=money))
    assert "1,234.56" in texts(root)

    root = parse(bar_chart("v", "t", "d", [("优秀", 12), ("良好", 30), ("合格", 7)],
                           fmt=lambda v: f"{v}个", horizontal=False))
    assert {"12个", "30个", "7个", "优秀", "良好", "合格"} <= set(texts(root))


def test_default_fmt_is_str_and_keeps_decimal_digits():
    root = parse(bar_chart("b", "t", "d", [("甲", Decimal("10.50")), ("乙", 3)]))
    assert {"10.50", "3"} <= set(texts(root))


def test_floats_rejected_to_protect_money():
    with pytest.raises(TypeError):
        bar_chart("b", "t", "d", [("甲", 1.5)])
    with pytest.raises(TypeError):
        line_chart("l", "t", "d", ["a"], [("s", [0.1])])
    with pytest.raises(TypeError):
        stacked_bar("s", "t", "d", ["a"], [("s", [True])])
    with pytest.raises(ValueError):
        bar_chart("b", "t", "d", [("甲", Decimal("NaN"))])
    with pytest.raises(ValueError):
        bar_chart("b", "t", "d", [("甲", -1)])


def test_series_length_mismatch_rejected():
    with pytest.raises(ValueError):
        line_chart("l", "t", "d", ["a", "b"], [("s", [1])])
    with pytest.raises(ValueError):
        stacked_bar("s", "t", "d", ["a", "b"], [("s", [1, 2, 3])])


# --- line chart details ------------------------------------------------------------


def test_line_chart_axis_legend_and_end_labels():
    svg = line_chart("arrears", "欠款清偿进度", "说明", MONTHS, ARREARS, "万元", fmt=money)
    root = parse(svg)
    shown = texts(root)
    assert "万元" in shown
    for name, values in ARREARS:
        assert name in shown  # legend
        assert money(values[-1]) in shown  # last value at the line end
    yticks = [t.text for t in root.find(f".//{NS}g[@class='zq-yticks']")]
    assert 5 <= len(yticks) <= 6  # 0 plus 4-5 gridlines
    assert yticks[0] == "0.00" and yticks[-1] == money(nice_max(Decimal("2150")))
    xticks = [t.text for t in root.find(f".//{NS}g[@class='zq-xticks']")]
    assert xticks[0] == "2023-01" and xticks[-1] == "2024-12"
    assert len(xticks) <= charts.MAX_X_LABELS
    # three series: three distinct dash patterns on the lines
    dashes = [p.get("stroke-dasharray") for p in root.iter(NS + "polyline")]
    assert len(set(dashes)) == 3


def test_line_chart_x_labels_do_not_overlap():
    root = parse(line_chart("l", "t", "d", MONTHS, ARREARS, fmt=money))
    xs = [float(t.get("x")) for t in root.find(f".//{NS}g[@class='zq-xticks']")]
    width = charts._text_width("2023-01")
    assert all(b - a >= width for a, b in zip(xs, xs[1:]))


def test_line_chart_single_point_and_gaps():
    root = parse(line_chart("l", "t", "d", ["2023-01"], [("累计清偿", [5])]))
    assert "5" in texts(root)
    assert list(root.iter(NS + "circle"))  # the lone point is visible
    root = parse(line_chart("l", "t", "d", ["a", "b", "c", "d"],
                            [("累计清偿", [1, None, 3, 4]), ("未清偿余额", [None, None, None, None])]))
    assert len(list(root.iter(NS + "polyline"))) == 1


def test_line_chart_end_labels_do_not_overlap():
    same = [Decimal(100)] * 3
    root = parse(line_chart("l", "t", "d", ["a", "b", "c"],
                            [("累计认定欠款", same), ("累计清偿", same), ("未清偿余额", [0, 0, 0])]))
    ys = sorted(float(t.get("y")) for t in root.find(f".//{NS}g[@class='zq-ends']").iter(NS + "text"))
    assert all(b - a >= charts.FONT for a, b in zip(ys, ys[1:]))


def test_integer_data_gets_integer_ticks():
    root = parse(line_chart("l", "t", "d", ["a", "b"], [("件数", [0, 1])]))
    yticks = [t.text for t in root.find(f".//{NS}g[@class='zq-yticks']")]
    assert yticks == ["0", "1"]


# --- nice_max ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (0, "1"),
        (1, "1"),
        (7, "8"),
        (10, "10"),
        (95, "100"),
        (1234567, "1250000"),
        (Decimal("0.03"), "0.04"),
        (Decimal("1234.56"), "1250"),
        (Decimal("100.01"), "125"),
    ],
)
def test_nice_max(value, expected):
    result = nice_max(value)
    assert isinstance(result, Decimal)
    assert result == Decimal(expected)
    assert str(result) == expected  # no exponent notation
    assert result >= value


def test_nice_max_is_nice_and_tight():
    for v in list(range(1, 2000)) + [10**9 + 1]:
        top, step, n = charts._nice_scale(v)
        assert top >= v and n in (4, 5) and top == step * n
        mant = step.scaleb(-step.adjusted())
        assert mant in (1, 2, Decimal("2.5"), 5)
        assert top < v * 2 + 1  # never wastes more than half the axis


def test_nice_max_rejects_bad_input():
    with pytest.raises(ValueError):
        nice_max(-1)
    with pytest.raises(ValueError):
        nice_max(Decimal("Infinity"))


# --- bars ---------------------------------------------------------------------------


def bar_rects(root):
    return [r for r in root.find(f".//{NS}g[@class='zq-s0']") if r.tag == NS + "rect"]


def test_horizontal_bar_lengths_proportional():
    root = parse(bar_chart("b", "t", "d", DEPTS, fmt=money))
    widths = [float(r.get("width")) for r in bar_rects(root)]
    assert len(widths) == 3  # the zero bar has no rectangle, only its printed value
    ratio = widths[1] / widths[0]
    assert ratio == pytest.approx(float(Decimal("617.28") / Decimal("1234.56")), rel=0.01)
    ratio = widths[2] / widths[0]
    assert ratio == pytest.approx(float(Decimal("98.70") / Decimal("1234.56")), rel=0.01)
    # labels sit above the bars, so they never compete with the bar for width
    assert max(float(r.get("x")) + float(r.get("width")) for r in bar_rects(root)) <= charts.WIDTH


def test_vertical_bar_heights_proportional():
    root = parse(bar_chart("v", "t", "d", [("优秀", 12), ("良好", 30), ("合格", 6)],
                           horizontal=False))
    heights = [float(r.get("height")) for r in bar_rects(root)]
    assert heights[0] / heights[1] == pytest.approx(12 / 30, rel=0.01)
    assert heights[2] / heights[1] == pytest.approx(6 / 30, rel=0.01)


def test_vertical_falls_back_to_horizontal_when_too_many_bars():
    bars = [(f"区第{i}局", Decimal("12345.67")) for i in range(40)]
    svg = bar_chart("v", "t", "d", bars, fmt=money, horizontal=False)
    root = parse(svg)
    assert all(float(r.get("x")) == charts.PAD for r in bar_rects(root))
    assert texts(root).count("12,345.67") == 40


def test_forty_bars_with_long_labels():
    bars = [(f"区{'很' * 40}长的部门名称{i}", i) for i in range(40)]
    root = parse(bar_chart("b", "t", "d", bars))
    label_texts = [t for t in texts(root) if t.startswith("区")]
    assert len(label_texts) == 40
    assert all(charts._text_width(t) <= charts.WIDTH - 2 * charts.PAD for t in label_texts)
    assert all(t.endswith("…") for t in label_texts)


def test_stacked_bar_segments_totals_legend():
    cats = ["区住房和城乡建设局", "区教育局"]
    segs = [("已完成", [8, 1]), ("推进中", [2, 0]), ("未启动", [0, 3])]
    root = parse(stacked_bar("s", "承诺事项办理情况", "说明", cats, segs))
    shown = texts(root)
    for name in ("已完成", "推进中", "未启动", *cats):
        assert name in shown
    values = [t.text for t in root.find(f".//{NS}g[@class='zq-values']")]
    assert values == ["10", "4"]
    # segment widths are proportional to their values (the 1-unit separator aside)
    w = {}
    for k in range(3):
        for r in root.find(f".//{NS}g[@class='zq-s{k}']"):
            if r.tag == NS + "rect":
                w.setdefault(k, []).append(float(r.get("width")))
    assert (w[0][0] + 1) / (w[1][0] + 1) == pytest.approx(8 / 2, rel=0.01)
    # total bar length of row 2 vs row 1: 4 / 10
    row1 = w[0][0] + w[1][0] + 2
    row2 = w[0][1] + w[2][0] + 2
    assert row2 / row1 == pytest.approx(0.4, rel=0.01)


def test_stacked_bar_decimal_and_fmt():
    root = parse(stacked_bar("s", "t", "d", ["2023年"],
                             [("优秀", [Decimal("1.50")]), ("良好", [2])], fmt=money))
    assert "3.50" in texts(root)

"""Charts drawn on the server by pygal as SVG, made accessible, for the page and the PDF alike.

Each chart is an image with a name and a description (role="img", <title>, <desc>, tied
together by aria-labelledby); the same numbers are always shown in a table beside it, so the
chart is never the only way to read them. Small numbers are suppressed before they reach the
chart: a suppressed bar is left out and its label says "<5", as the table does.
Pygal's own script and tooltips are off: no third-party script on the page or in the PDF.
"""

from __future__ import annotations

import functools
import itertools
import math
import xml.etree.ElementTree as ElementTree

import cssselect2
import pygal
import tinycss2
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

from .suppression import SUPPRESSED_SHORT, is_suppressed

SVG = "{http://www.w3.org/2000/svg}"
# The site's Bootstrap blue, with dark text: 4.5:1 or better on white (WCAG 2.2 AA).
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#212529",
    foreground_strong="#212529",
    foreground_subtle="#6c757d",
    colors=("#0b5ed7",),
    font_family="DejaVu Sans, Arial, sans-serif",
    title_font_size=17,
    label_font_size=15,
    major_label_font_size=15,
    value_font_size=15,
    tooltip_font_size=13,
)
_numbering = itertools.count(1)


def _accessible(chart, title: str, description: str) -> SafeString:
    tree = chart.render_tree()
    number = next(_numbering)
    title_id, desc_id = f"chart-title-{number}", f"chart-desc-{number}"
    tree.set("role", "img")
    tree.set("aria-labelledby", f"{title_id} {desc_id}")
    # pygal's own title is drawn as text; the accessible name comes first in the document.
    title_element = ElementTree.Element(f"{SVG}title", {"id": title_id})
    title_element.text = title
    desc_element = ElementTree.Element(f"{SVG}desc", {"id": desc_id})
    desc_element.text = description
    tree.insert(0, desc_element)
    tree.insert(0, title_element)
    # Out go pygal's config script (its tooltips are off), its comments, the titles it gives
    # each guide line (the chart's one accessible name is the title above) and its inline
    # style, which the site's Content-Security-Policy would block: the page links chart_css()
    # instead, and the PDF puts it back (with_style).
    tree.attrib.pop("xmlns", None)
    tree.attrib.pop("id", None)
    for parent in tree.iter():
        for child in list(parent):
            if child.tag in (
                f"{SVG}script",
                "script",
                f"{SVG}style",
                "style",
                ElementTree.Comment,
            ) or (child.tag in (f"{SVG}title", "title") and child is not title_element):
                parent.remove(child)
            elif "tooltip" in child.get("class", "").split():
                # The tooltip needs pygal's script (off) and hides itself with a style
                # attribute, which the CSP blocks as inline style: it has no use here.
                parent.remove(child)
        parent.attrib.pop("style", None)
    ElementTree.register_namespace("", SVG.strip("{}"))
    ElementTree.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    return mark_safe(ElementTree.tostring(tree, encoding="unicode"))  # noqa: S308 - pygal's own SVG


@functools.cache
def chart_css() -> str:
    """pygal's stylesheet for our charts, scoped to svg.pygal-chart instead of one chart's id,
    so one file serves every chart on a page under the site's CSP (style-src 'self')."""
    chart = pygal.HorizontalBar(style=STYLE, js=[], disable_xml_declaration=True)
    chart.add("", [1])
    tree = chart.render_tree()
    chart_id = tree.get("id", "")
    css = "".join(
        element.text or "" for element in tree.iter() if element.tag in (f"{SVG}style", "style")
    )
    return css.replace(f"#{chart_id}", "svg.pygal-chart")


@functools.cache
def _chart_rules() -> list[tuple[str, list]]:
    """chart_css() as (rule, its compiled selectors), compiled once per process. Rules no
    element can ever match (pseudo-elements, :hover) are dropped, as WeasyPrint drops them."""
    rules: list[tuple[str, list]] = []
    for rule in tinycss2.parse_stylesheet(chart_css(), skip_comments=True, skip_whitespace=True):
        if rule.type != "qualified-rule":
            rules.append((rule.serialize(), []))  # kept as it is: there are none today
            continue
        try:
            selectors = cssselect2.compile_selector_list(rule.prelude)
        except cssselect2.SelectorError:
            continue
        live = [s for s in selectors if s.pseudo_element is None and not s.never_matches]
        if live:
            rules.append((rule.serialize(), live))
    return rules


def with_style(svg: str) -> SafeString:
    """The chart with its stylesheet inside, for WeasyPrint (which reads only the SVG's own):
    only the rules that style an element of this chart, in their order. WeasyPrint compiles
    every selector of an SVG's stylesheet on each render (a second per report for the ~90
    rules pygal writes, of which a bar chart uses a few), so the others are left out; the
    chart is drawn the same."""
    root = ElementTree.fromstring(svg)  # noqa: S314 - pygal's SVG, made by _accessible above
    elements = list(cssselect2.ElementWrapper.from_xml_root(root).iter_subtree())
    css = "".join(
        text
        for text, selectors in _chart_rules()
        if not selectors
        or any(selector.test(element) for selector in selectors for element in elements)
    )
    head, _, rest = svg.partition(">")
    return mark_safe(f"{head}><style>{css}</style>{rest}")  # noqa: S308 - our own CSS


def describe(values: dict[str, int], unit: str) -> str:
    """The numbers in words, as a screen reader needs them: "Active: 12 matches; Ended: <5"."""
    parts = [
        f"{label}: {SUPPRESSED_SHORT if is_suppressed(count) else count}"
        f"{'' if is_suppressed(count) else ' ' + unit}"
        for label, count in values.items()
    ]
    return "; ".join(parts) + "." if parts else "No figures."


def bar_chart(title: str, values: dict[str, int], unit: str, horizontal: bool = True) -> SafeString:
    """A bar per label; a suppressed count draws no bar and its label says "<5"."""
    kind = pygal.HorizontalBar if horizontal else pygal.Bar
    chart = kind(
        style=STYLE,
        js=[],
        disable_xml_declaration=True,
        show_legend=False,
        tooltip_border_radius=0,
        width=520,
        height=max(180, 40 * len(values) + 80) if horizontal else 300,
        explicit_size=False,
        print_values=True,
        print_zeroes=True,
        min_scale=1,
        max_scale=6,
        margin=12,
        truncate_label=-1,
        value_formatter=lambda value: f"{value:g}",
    )
    chart.title = title
    labels, points = [], []
    # pygal draws horizontal bars bottom up: reversed, they read top down, as the table does.
    for label, count in reversed(values.items()) if horizontal else values.items():
        suppressed = is_suppressed(count)
        labels.append(f"{label} ({SUPPRESSED_SHORT})" if suppressed else label)
        points.append(None if suppressed else count)
    chart.x_labels = labels
    # Whole numbers on the scale: these are counts of people and matches.
    top = max([point for point in points if point is not None] + [5])
    step = math.ceil(top / 5)
    chart.y_labels = list(range(0, top + step, step))
    chart.add(unit.capitalize(), points)
    return _accessible(chart, title, describe(values, unit))

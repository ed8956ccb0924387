"""`{% table_region "Label" %}…{% endtable_region %}`: the one wrapper for a table that may
scroll sideways on a narrow screen.

A box that scrolls must take the keyboard's focus so it can be scrolled without a mouse, and
be a named region so a screen reader says what was focused (axe's scrollable-region-focusable,
WCAG 2.1.1 and 4.1.2). tests/test_table_regions.py fails on a `table-responsive` written by hand.
"""

from django import template
from django.utils.html import format_html

register = template.Library()


class TableRegionNode(template.Node):
    def __init__(self, nodelist, label, extra_class):
        self.nodelist = nodelist
        self.label = label
        self.extra_class = extra_class

    def render(self, context):
        extra = self.extra_class.resolve(context) if self.extra_class else ""
        return format_html(
            '<div class="table-responsive{}" tabindex="0" role="region" aria-label="{}">{}</div>',
            f" {extra}" if extra else "",
            self.label.resolve(context),
            self.nodelist.render(context),
        )


@register.tag
def table_region(parser, token):
    """{% table_region label [extra_class] %}: label names the region (a string or variable)."""
    bits = token.split_contents()
    if len(bits) not in (2, 3):
        raise template.TemplateSyntaxError(
            "table_region takes a label and, optionally, extra classes"
        )
    nodelist = parser.parse(("endtable_region",))
    parser.delete_first_token()
    extra_class = parser.compile_filter(bits[2]) if len(bits) == 3 else None
    return TableRegionNode(nodelist, parser.compile_filter(bits[1]), extra_class)

"""Issue 22: every table that may scroll sideways is a focusable, named region, written once
({% table_region %}, buddyscheme/templatetags/regions.py), so a new one cannot be missed."""

from pathlib import Path

from django.template import Context, Template

ROOT = Path(__file__).resolve().parents[1]


def our_templates():
    return [
        path
        for path in ROOT.glob("**/templates/**/*.html")
        if not any(part in (".venv", "node_modules", "var") for part in path.parts)
    ]


def test_no_template_writes_a_scrolling_table_wrapper_by_hand():
    templates = our_templates()
    assert len(templates) > 100  # the glob found the apps' templates
    by_hand = [
        str(path.relative_to(ROOT))
        for path in templates
        if "table-responsive" in path.read_text() or "overflow-auto" in path.read_text()
    ]
    assert by_hand == [], "wrap these tables in {% table_region 'Label' %} instead"


def test_the_region_takes_focus_and_has_a_name():
    html = Template(
        '{% load regions %}{% table_region label "mb-4" %}<table></table>{% endtable_region %}'
    ).render(Context({"label": "Meetings & visits"}))
    assert html == (
        '<div class="table-responsive mb-4" tabindex="0" role="region" '
        'aria-label="Meetings &amp; visits"><table></table></div>'
    )


def test_pages_use_it():
    users = [path for path in our_templates() if "{% table_region " in path.read_text()]
    assert len(users) >= 26

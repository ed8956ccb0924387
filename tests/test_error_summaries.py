"""Issue 22: every posted form shows the shared error summary (templates/bootstrap5/errors.html:
"There is a problem", each problem a link to its field). `{% crispy %}` and `|crispy` include
it; a template that lays its fields out one by one (`|as_crispy_field`) must call
`|as_crispy_errors` for each posted form, or its errors would show only beside the fields.
Partials (`_*.html`) are included by pages that do."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(r"\|as_crispy_errors|\|crispy\b|{%\s*crispy\s")


def templates():
    for folder in [ROOT / "templates", *ROOT.glob("*/templates")]:
        yield from folder.rglob("*.html")


def test_each_posted_form_laid_out_field_by_field_has_the_error_summary():
    missing = []
    for path in templates():
        if path.name.startswith("_"):
            continue
        text = path.read_text()
        for form in re.findall(r"<form\b[^>]*method=\"post\".*?</form>", text, flags=re.S):
            if "as_crispy_field" in form and not SUMMARY.search(form):
                missing.append(str(path.relative_to(ROOT)))
    assert missing == []


def test_the_rule_sees_a_form_without_it(tmp_path):
    form = '<form method="post">{{ form.name|as_crispy_field }}</form>'
    assert "as_crispy_field" in form and not SUMMARY.search(form)
    assert SUMMARY.search(
        form.replace('<form method="post">', '<form method="post">{{ form|as_crispy_errors }}')
    )

"""Issue 22, accessibility measured in a real browser on every buddy and participant page.

The pages are the URL matrix's (tests/test_url_matrix.py): every GET row that the buddy or the
participant persona may open (200), with the matrix's own data, plus the login page. A new
page a buddy can open is measured here without anyone adding it.
"""

import pytest

from ..base import PERSONAS
from ..test_url_matrix import MATRIX, MatrixCase
from .conftest import log_in, serious_accessibility_problems

_, _, BUDDY, PARTICIPANT, _ = PERSONAS

# A phone (issue 22's journeys use 390×844), the narrowest screen WCAG 1.4.10 names, and a
# 1,280 px laptop at 200 % zoom: 640 CSS px wide at twice the pixels is what Chromium lays out
# when a 1,280 × 800 window is zoomed to 200 % (Playwright cannot press Ctrl-+).
PHONE_390 = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
NARROW_320 = {"viewport": {"width": 320, "height": 640}, "is_mobile": True, "has_touch": True}
ZOOM_200 = {"viewport": {"width": 640, "height": 400}, "device_scale_factor": 2}


class _Data(MatrixCase):
    """The URL matrix's personas and objects, made in the live server's database."""

    __test__ = False  # a data builder, not a test case

    def runTest(self):  # pragma: no cover - never run; unittest wants a method to name
        pass


def matrix_pages(persona):
    """(route, url) of every HTML page the persona opens with a 200 in the URL matrix."""
    _Data.setUpTestData()
    case = _Data()
    objects = case._objects()
    pages = []
    for route, (method, kwargs_name, expected) in MATRIX.items():
        if method != "get" or expected[persona] != 200:
            continue
        # Downloads, feeds, stylesheets, the app manifest and the service worker are not pages;
        # help-status is a fragment htmx polls.
        if route.endswith(
            (".ics", "pdf/", "file/", "receipt/", ".css", "help-status/", ".webmanifest", ".js")
        ):
            continue
        if route == "healthz":
            continue
        pages.append((route, case._url(route, kwargs_name, objects)))
    return case, pages


def visit_all(open_phone, size, persona, check):
    """Log the persona in at `size`, open each of its pages and collect `check(page)`'s
    complaints, each prefixed with the page; the login page is checked signed out first."""
    case, pages = matrix_pages(persona)
    problems = []
    page = open_phone(size)
    page.goto("/accounts/login/")
    problems += [f"/accounts/login/: {problem}" for problem in check(page)]
    log_in(page, getattr(case, persona).email)
    for _route, url in pages:
        response = page.goto(url)
        assert response is not None and response.status == 200, (url, response and response.status)
        problems += [f"{url}: {problem}" for problem in check(page)]
        page.problems.clear()
    return pages, problems


# Every control a finger must hit, measured where it is drawn. A checkbox or radio counts with
# its label (tapping either ticks it), so the box and the label's union is measured. A link
# is left out only when it sits inline in a sentence of a paragraph or list item (WCAG 2.5.8's
# inline exception): its display is inline and the p/li around it has words outside it.
MEASURE_TARGETS = """
() => {
  const describe = (el) => {
    let text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim();
    let name = el.tagName.toLowerCase();
    if (el.id) name += '#' + el.id;
    const classes = [...el.classList].filter(c => !c.startsWith('js-')).slice(0, 3);
    if (classes.length) name += '.' + classes.join('.');
    if (el.getAttribute('name')) name += `[name=${el.getAttribute('name')}]`;
    if (el.tagName === 'A') name += `[href="${el.getAttribute('href')}"]`;
    return `${name} "${text.slice(0, 30)}"`;
  };
  const shown = (el) => {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return style.visibility !== 'hidden' && style.display !== 'none' && box.width > 0 && box.height > 0
      && !el.closest('[hidden], .collapse:not(.show), .dropdown-menu:not(.show), .visually-hidden, .visually-hidden-focusable, .honeypot, .skip-link');
  };
  const inlineInSentence = (el) => {
    if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline') return false;
    const block = el.parentElement.closest('p, li');
    if (!block) return false;
    const others = block.textContent.replace(el.textContent, '');
    return /[A-Za-z0-9]/.test(others);
  };
  const union = (a, b) => {
    const left = Math.min(a.left, b.left), top = Math.min(a.top, b.top);
    return {width: Math.max(a.right, b.right) - left, height: Math.max(a.bottom, b.bottom) - top};
  };
  const small = [];
  const controls = document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]');
  for (const el of controls) {
    if (inlineInSentence(el)) continue;
    let box = el.getBoundingClientRect();
    const type = (el.getAttribute('type') || '').toLowerCase();
    if (el.tagName === 'INPUT' && (type === 'checkbox' || type === 'radio')) {
      const label = el.labels && el.labels[0];
      if (label && shown(label)) {
        box = shown(el) ? union(box, label.getBoundingClientRect()) : label.getBoundingClientRect();
      } else if (!shown(el)) continue;
    } else if (!shown(el)) continue;
    // Half a pixel of rounding is not a failure.
    if (box.width < 43.5 || box.height < 43.5) {
      small.push(`${describe(el)} is ${Math.round(box.width)}×${Math.round(box.height)}`);
    }
  }
  return small;
}
"""


def small_targets(page):
    return page.evaluate(MEASURE_TARGETS)


@pytest.mark.postgres
@pytest.mark.parametrize("persona", [BUDDY, PARTICIPANT])
def test_every_control_is_at_least_44_px_on_a_phone(open_phone, persona):
    pages, problems = visit_all(open_phone, PHONE_390, persona, small_targets)
    assert len(pages) > 20, pages
    assert problems == [], "\n" + "\n".join(problems)


# Sideways scrolling: the page itself never scrolls sideways; a box inside it may only when it
# is a table region a keyboard can focus and a screen reader can name.
MEASURE_REFLOW = """
() => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) {
    const wide = [...document.querySelectorAll('body *')]
      .filter(el => el.getBoundingClientRect().right > root.clientWidth + 1)
      .filter(el => !el.closest('.table-responsive'))
      .slice(-3)
      .map(el => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} "${(el.innerText || '').trim().slice(0, 30)}"`);
    problems.push(`the page scrolls sideways (${root.scrollWidth} > ${root.clientWidth}); widest: ${wide.join(' | ')}`);
  }
  for (const el of document.querySelectorAll('body *')) {
    const style = getComputedStyle(el);
    if (!['auto', 'scroll'].includes(style.overflowX) || el.scrollWidth <= el.clientWidth) continue;
    const labelled = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!(el.tabIndex >= 0 && el.getAttribute('role') === 'region' && labelled && el.querySelector('table'))) {
      problems.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')} scrolls sideways and is not a focusable, labelled table region`);
    }
  }
  return problems;
}
"""


def sideways_scrolling(page):
    return page.evaluate(MEASURE_REFLOW)


@pytest.mark.postgres
@pytest.mark.parametrize("size", [NARROW_320, ZOOM_200], ids=["320px", "1280px-at-200pc"])
@pytest.mark.parametrize("persona", [BUDDY, PARTICIPANT])
def test_no_page_scrolls_sideways_at_320_px_or_200_percent_zoom(open_phone, persona, size):
    pages, problems = visit_all(open_phone, size, persona, sideways_scrolling)
    assert len(pages) > 20, pages
    assert problems == [], "\n" + "\n".join(problems)


@pytest.mark.postgres
@pytest.mark.parametrize("persona", [BUDDY, PARTICIPANT])
def test_axe_finds_nothing_serious_on_any_page(open_phone, persona):
    pages, problems = visit_all(open_phone, PHONE_390, persona, serious_accessibility_problems)
    assert problems == [], "\n" + "\n".join(problems)

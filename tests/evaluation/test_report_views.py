"""The funder report through its pages and downloads: suppression at 4 and 5 in every form,
the PDF read back with pdftotext, the XLSX with openpyxl, the access log, and the charts."""

import csv
import io
import re
import subprocess
import tempfile
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from buddyscheme.models import AuditEvent, Referral, Role
from evaluation.exports import safe_cell
from evaluation.report_models import FunderReport
from matching.models import Match
from meetings.models import Alert, Meeting
from tests.base import PersonaTestCase, assert_audited
from tests.factories import MembershipFactory, venue

SINCE, UNTIL = date(2026, 1, 1), date(2026, 6, 30)


def referrals(scheme, count):
    for _ in range(count):
        Referral.objects.create(
            scheme=scheme,
            membership=MembershipFactory(scheme=scheme, role=Role.PARTICIPANT),
            source="self",
            person_name="Someone Referred",
            consent_to_contact=True,
            received_at=datetime(2026, 3, 1, 12, tzinfo=UTC),
        )


def pdf_text(body: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(body)
        handle.flush()
        return subprocess.run(
            ["pdftotext", "-layout", handle.name, "-"], capture_output=True, text=True, check=True
        ).stdout


class FunderReportViewsTest(PersonaTestCase):
    def setUp(self):
        self.reauthenticate("coordinator")

    def _make(self):
        response = self.client.post(
            "/coordinator/reports/funder/", {"starts_on": SINCE, "ends_on": UNTIL}
        )
        report = FunderReport.objects.get(scheme=self.scheme)
        self.assertRedirects(
            response, f"/coordinator/reports/funder/{report.pk}/", fetch_redirect_response=False
        )
        return report

    def _referrals_everywhere(self, report) -> dict[str, str]:
        base = f"/coordinator/reports/funder/{report.pk}/"
        page = self.client.get(base).content.decode()
        screen = re.search(r"Referrals received</th>\s*<td>([^<]*)</td>", page).group(1).strip()
        rows = dict(csv.reader(io.StringIO(self.client.get(base + "people.csv").content.decode())))
        sheet = load_workbook(io.BytesIO(self.client.get(base + "people.xlsx").content)).active
        xlsx = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}
        text = pdf_text(self.client.get(base + "pdf/").content)
        pdf = re.search(r"Referrals received\s+(.+)", text).group(1).strip()
        return {
            "screen": screen,
            "csv": rows["Referrals received"],
            "xlsx": xlsx["Referrals received"],
            "pdf": pdf,
        }

    def test_four_is_suppressed_and_five_shown_on_screen_csv_xlsx_and_pdf(self):
        referrals(self.scheme, 4)
        report = self._make()
        self.assertEqual(
            self._referrals_everywhere(report),
            {
                "screen": "fewer than 5",
                "csv": "fewer than 5",
                "xlsx": "fewer than 5",
                "pdf": "fewer than 5",
            },
        )
        referrals(self.scheme, 1)
        self.assertEqual(
            self._referrals_everywhere(report),
            {"screen": "5", "csv": "5", "xlsx": 5, "pdf": "5"},
        )

    def test_the_same_period_twice_is_one_report(self):
        first = self._make()
        self.assertEqual(self._make(), first)
        self.assertEqual(FunderReport.objects.count(), 1)

    def test_bad_periods_are_explained_and_kept(self):
        response = self.client.post(
            "/coordinator/reports/funder/", {"starts_on": "2026-06-30", "ends_on": "2026-01-01"}
        )
        self.assertContains(response, "The period must end on or after the day it starts.")
        self.assertContains(response, 'value="2026-06-30"')
        response = self.client.post(
            "/coordinator/reports/funder/", {"starts_on": "soon", "ends_on": ""}
        )
        self.assertContains(response, "Enter a valid date.")
        self.assertContains(response, 'value="soon"')
        response = self.client.post(
            "/coordinator/reports/funder/", {"starts_on": "2020-01-01", "ends_on": "2026-01-01"}
        )
        self.assertContains(response, "Choose a period of three years or less.")
        self.assertFalse(FunderReport.objects.exists())

    def test_every_view_and_download_is_in_the_access_log(self):
        report = self._make()
        base = f"/coordinator/reports/funder/{report.pk}/"
        for url, verb in (
            (base, "funder_report_view"),
            (base + "pdf/", "funder_report_pdf_download"),
            (base + "endings.csv", "funder_report_csv_download"),
            (base + "groups.xlsx", "funder_report_xlsx_download"),
        ):
            self.assertEqual(self.client.get(url).status_code, 200)
            assert_audited(verb=verb, obj=report, actor=self.coordinator, scheme=self.scheme)
        self.assertEqual(self.client.get(base + "nothing.csv").status_code, 404)
        self.assertEqual(self.client.get(base + "people.exe").status_code, 404)
        self.assertEqual(AuditEvent.objects.filter(verb__startswith="funder_report_").count(), 5)

    def test_the_schemes_words_go_through_the_initials_guard_and_into_the_pdf(self):
        report = self._make()
        name = self.participant.first_name
        response = self.client.post(
            f"/coordinator/reports/funder/{report.pk}/text/",
            {"text": f"{name} told us the scheme changed her year."},
        )
        self.assertContains(response, "Check before you send")
        self.assertContains(response, "changed her year")
        report.refresh_from_db()
        self.assertEqual(report.text, "")
        response = self.client.post(
            f"/coordinator/reports/funder/{report.pk}/text/",
            {"text": "=A busy year: 40 new people met a buddy."},
        )
        self.assertRedirects(response, f"/coordinator/reports/funder/{report.pk}/")
        text = pdf_text(self.client.get(f"/coordinator/reports/funder/{report.pk}/pdf/").content)
        self.assertIn("A busy year: 40 new people met a buddy.", text)

    def test_charts_are_images_with_a_title_a_description_and_a_table(self):
        report = self._make()
        page = self.client.get(f"/coordinator/reports/funder/{report.pk}/").content.decode()
        charts = re.findall(r"<svg[^>]*>", page)
        self.assertEqual(len(charts), 3)
        for tag in charts:
            self.assertIn('role="img"', tag)
            labelled = re.search(r'aria-labelledby="([^ "]+) ([^"]+)"', tag)
            self.assertIn(f'<title id="{labelled.group(1)}">', page)
            self.assertIn(f'<desc id="{labelled.group(2)}">', page)
        self.assertIn("Matches ended, by type of ending", page)
        self.assertIn("<caption", page)
        self.assertNotIn("<script", page.split("<main", 1)[-1].split("</main>")[0])
        # No inline style either: the site's CSP (style-src 'self') would block it.
        svgs = "".join(re.findall(r"<svg.*?</svg>", page, flags=re.S))
        self.assertNotIn("style=", svgs)

    def test_cells_that_a_spreadsheet_would_run_are_escaped(self):
        self.assertEqual(safe_cell("=HYPERLINK()"), "'=HYPERLINK()")
        self.assertEqual(safe_cell("@SUM(A1)"), "'@SUM(A1)")
        self.assertEqual(safe_cell(-3), -3)


class DashboardGrowthTest(PersonaTestCase):
    def _queries(self):
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get("/coordinator/")
            self.assertEqual(response.status_code, 200)
        return len(queries), response

    def _grow(self, count):
        place = venue(self.scheme, name=f"Room {count}")
        now = datetime.now(UTC)
        for index in range(count):
            buddy = MembershipFactory(scheme=self.scheme, role=Role.BUDDY)
            match = Match.objects.create(
                scheme=self.scheme,
                buddy=buddy,
                participant=MembershipFactory(scheme=self.scheme, role=Role.PARTICIPANT),
                state="ended" if index % 2 else "active",
                ending_type="planned" if index % 2 else "",
                activated_at=now - timedelta(days=30),
                ended_at=now - timedelta(hours=2) if index % 2 else None,
            )
            begin = now - timedelta(hours=3)
            meeting = Meeting.objects.create(
                scheme=self.scheme,
                match=match,
                buddy=buddy,
                venue=place,
                purpose="Coffee",
                planned_start=begin,
                planned_end=begin + timedelta(hours=1),
                expected_end=begin + timedelta(hours=1),
                state="checked_out",
                checked_in_at=begin,
                checked_out_at=begin + timedelta(hours=1),
            )
            Alert.objects.create(
                meeting=meeting,
                level=1,
                reason="overdue",
                due_at=begin,
                raised_at=now - timedelta(hours=1),
                acknowledged_at=now - timedelta(minutes=50),
            )

    def test_the_dashboard_query_count_does_not_grow_with_the_data(self):
        self.login_as("coordinator")
        self._grow(2)
        small, _ = self._queries()
        self._grow(12)
        large, response = self._queries()
        self.assertEqual(small, large)
        page = response.content.decode()
        self.assertIn("Needs me today", page)
        self.assertRegex(
            page, r"<p class=\"fs-4 mb-0\">14</p>\s*<p class=\"small mb-0\">buddy meetings"
        )
        self.assertIn("10.0", page)  # median minutes to acknowledge
        self.assertIn('role="img"', page)


def _page_png(svg: str) -> bytes:
    from weasyprint import HTML

    pdf = HTML(string=f"<html><body>{svg}</body></html>").write_pdf()
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/chart.pdf"
        with open(path, "wb") as handle:
            handle.write(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "60", path, f"{folder}/page"], check=True)
        with open(f"{folder}/page-1.png", "rb") as handle:
            return handle.read()


def test_a_pdf_chart_carries_only_the_rules_it_uses_and_is_drawn_the_same():
    """WeasyPrint compiles every selector of an SVG's stylesheet on each render: the PDF's
    charts carry only the rules that style them (evaluation/charts.py with_style), and look
    exactly as they did with pygal's whole stylesheet."""
    from django.utils.safestring import mark_safe

    from evaluation.charts import bar_chart, chart_css, with_style

    svg = bar_chart("Endings by kind", {"Planned": 12, "Moved away": 3, "Other": 7}, "matches")
    trimmed = with_style(svg)
    head, _, rest = svg.partition(">")
    whole = mark_safe(f"{head}><style>{chart_css()}</style>{rest}")
    kept_css = trimmed[trimmed.index("<style>") : trimmed.index("</style>")]
    assert "tooltip" in chart_css() and "tooltip" not in kept_css
    assert ".color-0" in kept_css and ".axis" in kept_css
    assert len(kept_css) < len(chart_css()) / 2
    assert _page_png(trimmed) == _page_png(whole)

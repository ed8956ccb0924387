"""The funder report pages and downloads, for the scheme's coordinators. Every view and every
download leaves an audit row (who, which report, how, when) for the access log."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from buddyscheme.access import get_scheme_object_for_user, reauthenticated, role_required
from buddyscheme.errors import DomainError
from buddyscheme.models import Membership, Role
from buddyscheme.selectors import names_of

from . import report
from .charts import chart_css
from .exports import table_csv, table_xlsx
from .report_forms import PeriodForm, ReportTextForm
from .report_models import FunderReport
from .report_pdf import funder_report_pdf


def get_report_for_coordinator(request, pk: int) -> FunderReport:
    return get_scheme_object_for_user(
        request,
        FunderReport.objects.select_related("scheme"),
        pk,
        scheme_path="scheme_id",
        roles=[Role.COORDINATOR],
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def funder_reports(request):
    scheme = request.membership.scheme
    if request.method == "POST":
        form = PeriodForm(request.POST)
        if form.is_valid():
            try:
                made = report.funder_report_create(
                    scheme=scheme,
                    starts_on=form.cleaned_data["starts_on"],
                    ends_on=form.cleaned_data["ends_on"],
                    by=request.user,
                )
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                return redirect("evaluation:funder_report", pk=made.pk)
    else:
        starts_on, ends_on = report.last_full_year(timezone.localdate())
        form = PeriodForm(initial={"starts_on": starts_on, "ends_on": ends_on})
    return render(
        request,
        "evaluation/report/list.html",
        {"form": form, "reports": FunderReport.objects.filter(scheme=scheme)[:50]},
    )


def _participant_names(scheme) -> list[str]:
    return names_of(
        Membership.objects.filter(scheme=scheme, role=Role.PARTICIPANT).select_related(
            "user__profile"
        )
    )


def _report_page(request, funder_report: FunderReport, text_form: ReportTextForm):
    return render(
        request,
        "evaluation/report/detail.html",
        {
            "report": funder_report,
            "sections": report.report_sections(funder_report),
            "text_form": text_form,
        },
    )


@require_GET
@role_required(Role.COORDINATOR)
def funder_report(request, pk):
    funder_report = get_report_for_coordinator(request, pk)
    report.funder_report_looked_at(report=funder_report, how="view", by=request.user)
    return _report_page(
        request, funder_report, ReportTextForm(initial={"text": funder_report.text})
    )


@require_POST
@role_required(Role.COORDINATOR)
def funder_report_text(request, pk):
    funder_report = get_report_for_coordinator(request, pk)
    form = ReportTextForm(request.POST, names=_participant_names(funder_report.scheme))
    if form.is_valid():
        report.funder_report_text_save(
            report=funder_report, text=form.cleaned_data["text"], by=request.user
        )
        messages.success(request, "Your words are saved. They are in the PDF too.")
        return redirect("evaluation:funder_report", pk=funder_report.pk)
    return _report_page(request, funder_report, form)


def _file_name(funder_report: FunderReport, what: str, extension: str) -> str:
    return f"funder-report-{funder_report.starts_on}-to-{funder_report.ends_on}-{what}.{extension}"


def _download(body, content_type: str, file_name: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@role_required(Role.COORDINATOR)
@reauthenticated
def funder_report_pdf_download(request, pk):
    funder_report = get_report_for_coordinator(request, pk)
    body = funder_report_pdf(funder_report)
    report.funder_report_looked_at(report=funder_report, how="pdf", by=request.user)
    return _download(body, "application/pdf", _file_name(funder_report, "report", "pdf"))


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@require_GET
@role_required(Role.COORDINATOR)
@reauthenticated
def funder_report_table(request, pk, table, extension):
    funder_report = get_report_for_coordinator(request, pk)
    if extension not in ("csv", "xlsx"):
        raise Http404("No such format.")
    found = report.report_table(funder_report, table)
    if found is None:
        raise Http404("No such table in this report.")
    if extension == "csv":
        body: str | bytes = table_csv(found)
        content_type = "text/csv; charset=utf-8"
    else:
        period = f"{funder_report.starts_on:%-d %b %Y} to {funder_report.ends_on:%-d %b %Y}"
        body = table_xlsx(found, period)
        content_type = XLSX
    report.funder_report_looked_at(report=funder_report, how=extension, by=request.user)
    return _download(body, content_type, _file_name(funder_report, found.slug, extension))


@require_GET
def chart_stylesheet(request):
    """The charts' stylesheet (the same for everyone, nothing personal in it)."""
    response = HttpResponse(chart_css(), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    return response

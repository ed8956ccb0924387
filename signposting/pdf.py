"""The next-steps plan as a PDF, with WeasyPrint, tagged PDF/UA like the agreements
(contracts/pdf.py). It leaves the system: initials only, no diagnosis, a neutral title, and
nothing fetched while rendering (the styles are inline)."""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import HTML, URLFetcher

from buddyscheme.discretion import masked

from .models import NextStepsPlan

PDF_VARIANT = "pdf/ua-1"
NEUTRAL_TITLE = "Next steps"


class NothingFetcher(URLFetcher):
    """The plan's words come from coordinators: rendering must never read a file or call out."""

    def fetch(self, url, headers=None):
        raise ValueError(f"refused to fetch {url.split(':', 1)[0]}: URL while rendering a PDF")


def document_language() -> str:
    language, _, region = settings.LANGUAGE_CODE.partition("-")
    return f"{language}-{region.upper()}" if region else language


@dataclass
class PrintedStep:
    """One step as the PDF prints it: the scheme's sensitive words (what someone lives with)
    masked, since a printed plan can be seen by anyone who picks it up."""

    due_on: date
    what: str
    who: str
    service: str
    offers: str
    contact: str


def printed_steps(plan: NextStepsPlan) -> list[PrintedStep]:
    words = plan.scheme.sensitive_word_list
    steps = []
    for action in plan.actions.all():
        entry = action.entry
        steps.append(
            PrintedStep(
                due_on=action.due_on,
                what=masked(action.what, words),
                who=action.who_for_participant,
                service=masked(entry.name, words) if entry else "",
                offers=masked(entry.offers, words) if entry else "",
                contact=masked(entry.contact, words) if entry else "",
            )
        )
    return steps


def plan_pdf(plan: NextStepsPlan) -> bytes:
    """`plan` with its actions and participant loaded (selectors.plan_detail)."""
    html = render_to_string(
        "signposting/plan_pdf.html",
        {
            "plan": plan,
            "actions": printed_steps(plan),
            "initials": ".".join(plan.participant.user.initials) + ".",
            "title": NEUTRAL_TITLE,
            "lang": document_language(),
        },
    )
    return HTML(
        string=html, base_url="https://static.invalid/", url_fetcher=NothingFetcher()
    ).write_pdf(pdf_variant=PDF_VARIANT)

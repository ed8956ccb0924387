"""Contract PDFs with WeasyPrint. Only our own static files may be fetched while rendering."""

import mimetypes
import re

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from weasyprint import HTML, URLFetcher
from weasyprint.urls import URLFetcherResponse

from .services import initials

STATIC_PREFIX = "https://static.invalid/"


class StaticOnlyFetcher(URLFetcher):
    """Serves files from the project's static folders; refuses file:, http(s) and anything else.

    A contract's text comes from coordinators: it must never make the server read a local
    file or call out to the network.
    """

    def fetch(self, url, headers=None):
        if not url.startswith(STATIC_PREFIX):
            raise ValueError(f"refused to fetch {url.split(':', 1)[0]}: URL while rendering a PDF")
        path = finders.find(url.removeprefix(STATIC_PREFIX))
        if not path:
            raise ValueError("no such static file")
        with open(path, "rb") as handle:
            body = handle.read()
        content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body, {"Content-Type": content_type})


# PDF/UA-1: a tagged PDF (a structure tree of headings, lists and tables) with its language
# and title declared, so screen readers read an agreement in order, as its signers must.
PDF_VARIANT = "pdf/ua-1"


def document_language() -> str:
    """The site's language as a BCP 47 tag for the PDF's /Lang: "en-gb" -> "en-GB"."""
    language, _, region = settings.LANGUAGE_CODE.partition("-")
    return f"{language}-{region.upper()}" if region else language


def contract_pdf(contract, discreet: bool) -> bytes:
    html = render_to_string(
        "contracts/pdf.html",
        {
            "contract": contract,
            "clauses": clauses_of(contract.text),
            "signatures": [
                # PDFs leave the system: the participant appears by initials only.
                (
                    signature,
                    initials(signature.typed_name)
                    if signature.party == "participant"
                    else signature.typed_name,
                )
                for signature in contract.signatures.select_related(
                    "membership__user", "attested_by"
                )
            ],
            "discreet": discreet,
            "static": STATIC_PREFIX,
            "lang": document_language(),
        },
    )
    return HTML(string=html, base_url=STATIC_PREFIX, url_fetcher=StaticOnlyFetcher()).write_pdf(
        pdf_variant=PDF_VARIANT
    )


def clauses_of(text: str) -> list[tuple[str, str]]:
    """Split frozen text back into (heading, body) pairs for layout; the text itself is unchanged."""
    blocks = [block.strip() for block in text.strip().split("\n\n") if block.strip()]
    title_and_first = blocks[0].split("\n", 1) if blocks else [""]
    blocks = ([title_and_first[1]] if len(title_and_first) > 1 else []) + blocks[1:]
    pairs = [tuple(block.split("\n", 1)) if "\n" in block else (block, "") for block in blocks]
    return [(re.sub(r"^\d+\.\s*", "", heading), body) for heading, body in pairs]

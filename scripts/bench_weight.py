"""Today's page weight for `make bench` (scripts/bench.sh runs it against its server).

    bench_weight.py URL

The demo buddy (buddy1, logged in) opens /today/: the HTML's bytes, and the CSS and JavaScript
it links counted apart, each raw and gzipped (gzip -6 computed here, as a proxy or WhiteNoise's
precompressed files would send them). Today is the page a buddy opens on a phone at a café,
perhaps on one bar of signal, before and after every meeting: its HTML is fetched every time
(never cached, it holds the safety buttons), the CSS and JS once and then cached.

Targets: HTML <= 50 KB (about 1 s on a slow 3G link of 400 kbit/s even uncompressed, the
order of a text-heavy mobile page; today's is a few cards and forms, so 50 KB leaves room
for a busy day without letting a list grow unbounded), and CSS + JS <= 100 KB gzipped for a
first visit (Bootstrap's CSS and bundle plus htmx are most of it; later visits load nothing).
"""

import gzip
import html.parser
import sys
from urllib.parse import urlsplit

from bench_rows import limit_row
from soak import Failed, Phone, Timings

HTML_MAX_KB = 50
ASSETS_GZIP_MAX_KB = 100


class Assets(html.parser.HTMLParser):
    """The stylesheets and scripts a page links (same-site: they are all ours)."""

    def __init__(self) -> None:
        super().__init__()
        self.css: list[str] = []
        self.js: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "link" and attributes.get("rel") == "stylesheet" and attributes.get("href"):
            self.css.append(attributes["href"])
        elif tag == "script" and attributes.get("src"):
            self.js.append(attributes["src"])


def kb(size: int) -> float:
    return size / 1024


def gzipped(body: bytes) -> int:
    return len(gzip.compress(body, compresslevel=6))


def main(base: str) -> int:
    # Logged in through the login form, as the soak's phones are (scripts/soak.py).
    phone = Phone(urlsplit(base).port or 80, "127.0.0.1", Timings())
    try:
        phone.log_in("buddy1@example.org")
        _, page = phone.get("Today", "/today/")
    except Failed as failure:
        print(f"page weight: {failure}", file=sys.stderr)
        return 1
    assets = Assets()
    assets.feed(page.decode("utf-8"))
    sizes = {}
    for kind, paths in (("CSS", assets.css), ("JS", assets.js)):
        raw = packed = 0
        for path in dict.fromkeys(paths):  # each file once, as a browser fetches it
            try:
                _, body = phone.get(kind, path)
            except Failed as failure:
                print(f"page weight: {failure}", file=sys.stderr)
                return 1
            raw, packed = raw + len(body), packed + gzipped(body)
        sizes[kind] = (raw, packed, len(set(paths)))
    html_raw, html_gzip = len(page), gzipped(page)
    print("Today's page weight (the demo buddy, buddy1):")
    print(
        f"  HTML: {kb(html_raw):6.1f} KB ({kb(html_gzip):.1f} KB gzipped); target <= {HTML_MAX_KB} KB"
    )
    for kind, (raw, packed, files) in sizes.items():
        print(f"  {kind}:  {kb(raw):6.1f} KB ({kb(packed):.1f} KB gzipped) in {files} files")
    assets_gzip = sum(packed for _, packed, _ in sizes.values())
    print(
        f"  CSS + JS gzipped (a first visit; cached after): {kb(assets_gzip):.1f} KB; "
        f"target <= {ASSETS_GZIP_MAX_KB} KB"
    )
    limit_row(
        "Today page weight (HTML)",
        kb(html_raw),
        "KB",
        maximum=HTML_MAX_KB,
        note=f"{kb(html_gzip):.1f} KB gzipped; buddy1, demo data; fetched on every visit",
    )
    for kind, (raw, packed, files) in sizes.items():
        limit_row(
            f"Today page weight ({kind})",
            kb(raw),
            "KB",
            note=f"{kb(packed):.1f} KB gzipped, {files} files; cached after the first visit",
        )
    limit_row(
        "Today page weight (CSS + JS gzipped, first visit)",
        kb(assets_gzip),
        "KB",
        maximum=ASSETS_GZIP_MAX_KB,
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: bench_weight.py URL")
    sys.exit(main(sys.argv[1].rstrip("/")))

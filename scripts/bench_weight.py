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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import HOST, buddy_session, django_setup, get  # noqa: E402 - scripts/, beside this one
from bench_rows import limit_row  # noqa: E402

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
    django_setup()
    session = buddy_session()
    cookie = {"Host": HOST, "Cookie": session["Cookie"]}
    status, page = get(base, "/today/", cookie)
    if status != 200 or b"Today" not in page:
        print(f"page weight: /today/ answered {status} for buddy1", file=sys.stderr)
        return 1
    assets = Assets()
    assets.feed(page.decode("utf-8"))
    sizes = {}
    for kind, paths in (("CSS", assets.css), ("JS", assets.js)):
        raw = packed = 0
        for path in dict.fromkeys(paths):  # each file once, as a browser fetches it
            status, body = get(base, path, {"Host": HOST})
            if status != 200:
                print(f"page weight: {path} answered {status}", file=sys.stderr)
                return 1
            raw, packed = raw + len(body), packed + gzipped(body)
        sizes[kind] = (raw, packed, len(set(paths)))
    html_raw, html_gzip = len(page), gzipped(page)
    print("Today's page weight (the demo buddy, buddy1):")
    print(f"  HTML: {kb(html_raw):6.1f} KB ({kb(html_gzip):.1f} KB gzipped); target <= {HTML_MAX_KB} KB")
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

"""Today's page weight for `make bench` (scripts/bench.sh runs it against its server).

    bench_weight.py URL

The demo buddy (buddy1, logged in) opens /today/ on a first visit: its HTML and everything it
makes the phone fetch that is not an image: every stylesheet and script it links (preloads
too), its web app manifest (<link rel="manifest">) and any service worker a script registers
(`serviceWorker.register("…")`). Each is fetched as a browser asks for it (Accept-Encoding:
gzip) and counted as the server sends it: WhiteNoise serves the static files from the
precompressed .gz files collectstatic wrote. The app does not compress HTML (gunicorn and
Django's middleware here send it as it is), so the HTML is counted as a proxy in front of it
would send it, gzip -6, and the table's note says so. Brotli (what a browser asks for over
HTTPS; WhiteNoise has .br files too) is printed beside it.

Today is the page a buddy opens on a phone at a café, perhaps on one bar of signal, before and
after every meeting. Targets:
- HTML + CSS + JS (and manifest and service worker) compressed, first visit <= 100 KB: about
  2 s on a slow 3G link of 400 kbit/s; later visits fetch only the HTML (the static files are
  cached for a year under their hashed names);
- the HTML alone, uncompressed, <= 50 KB: fetched on every visit (never cached, it holds the
  safety buttons), and a list that grows without bound shows here first.
"""

import gzip
import html.parser
import json
import re
import sys
from urllib.parse import urljoin, urlsplit

from bench_rows import limit_row
from soak import Failed, Phone, Timings

HTML_MAX_KB = 50
FIRST_VISIT_MAX_KB = 100
# What a service worker's registration looks like in a script: register("/sw.js", …).
SERVICE_WORKER = re.compile(r"""serviceWorker\s*\.\s*register\(\s*(["'`])([^"'`]+)\1""")


class Assets(html.parser.HTMLParser):
    """The stylesheets, scripts and manifest a page references (same-site: they are ours)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []  # (kind, path) in document order

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        if tag == "script" and attributes.get("src"):
            self.found.append(("JS", attributes["src"]))
        if tag != "link" or not attributes.get("href"):
            return
        rel = attributes.get("rel", "").lower().split()
        kind = None
        if "stylesheet" in rel or ("preload" in rel and attributes.get("as") == "style"):
            kind = "CSS"
        elif "modulepreload" in rel or ("preload" in rel and attributes.get("as") == "script"):
            kind = "JS"
        elif "manifest" in rel:
            kind = "manifest"
        if kind:
            self.found.append((kind, attributes["href"]))


def kb(size: int) -> float:
    return size / 1024


def gzipped(body: bytes) -> int:
    return len(gzip.compress(body, compresslevel=6))


class Fetched:
    """One file as the server sent it for each encoding asked for."""

    def __init__(self, phone: Phone, kind: str, path: str) -> None:
        self.kind, self.path = kind, path
        self.sent: dict[str, int] = {}
        self.encodings: dict[str, str] = {}
        self.raw = b""
        for asked in ("gzip", "br"):
            response, body = phone.get(kind, path, headers={"Accept-Encoding": asked})
            encoding = (response.getheader("Content-Encoding") or "identity").lower()
            if encoding not in ("identity", asked):
                raise Failed(f"{path}: asked for {asked}, got {encoding}")
            self.sent[asked], self.encodings[asked] = len(body), encoding
            if encoding == "gzip":
                self.raw = gzip.decompress(body)
            elif encoding == "identity":
                self.raw = body
        if not self.raw:
            raise Failed(f"{path}: empty, or sent only in an encoding this script cannot read")


def references(page: bytes, base: str) -> list[tuple[str, str]]:
    parser = Assets()
    parser.feed(page.decode("utf-8"))
    seen, found = set(), []
    for kind, href in parser.found:
        path = urlsplit(urljoin(base, href))
        if path.netloc and path.netloc != urlsplit(base).netloc:
            raise Failed(f"Today references {href}: another site (CSP allows only 'self')")
        key = path.path + (f"?{path.query}" if path.query else "")
        if key not in seen:  # each file once, as a browser fetches it
            seen.add(key)
            found.append((kind, key))
    return found


def main(base: str) -> int:
    # Logged in through the login form, as the soak's phones are (scripts/soak.py).
    phone = Phone(urlsplit(base).port or 80, "127.0.0.1", Timings())
    try:
        phone.log_in("buddy1@example.org")
        page = Fetched(phone, "Today", "/today/")
        files = [Fetched(phone, kind, path) for kind, path in references(page.raw, base + "/")]
        # A service worker registered by one of the scripts is fetched on the first visit too.
        known = {f.path for f in files}
        for script in [f for f in files if f.kind == "JS"]:
            for match in SERVICE_WORKER.finditer(script.raw.decode("utf-8", "replace")):
                path = urlsplit(urljoin(base + script.path, match.group(2))).path
                if path not in known:
                    known.add(path)
                    files.append(Fetched(phone, "service worker", path))
        for manifest in [f for f in files if f.kind == "manifest"]:
            json.loads(manifest.raw)  # a manifest that is not JSON is a failure, not a weight
    except (Failed, ValueError) as failure:
        print(f"page weight: {failure}", file=sys.stderr)
        return 1

    if page.encodings["gzip"] == "identity":
        html_gzip, html_br, html_how = gzipped(page.raw), None, "gzip -6 as a proxy would send it"
    else:
        html_gzip, html_br, html_how = page.sent["gzip"], page.sent["br"], "as the app sends it"
    print("Today's page weight (the demo buddy, buddy1), a first visit:")
    print(
        f"  HTML: {kb(len(page.raw)):6.1f} KB ({kb(html_gzip):.1f} KB gzipped, {html_how}); "
        f"target <= {HTML_MAX_KB} KB uncompressed"
    )
    kinds: dict[str, list[Fetched]] = {}
    for fetched in files:
        kinds.setdefault(fetched.kind, []).append(fetched)
    for kind, group in kinds.items():
        raw = sum(len(f.raw) for f in group)
        sent = sum(f.sent["gzip"] for f in group)
        how = sorted({f.encodings["gzip"] for f in group})
        print(
            f"  {kind}: {kb(raw):6.1f} KB ({kb(sent):.1f} KB as served, {'/'.join(how)}) "
            f"in {len(group)} file{'s' * (len(group) != 1)}"
        )
        for f in group:
            print(f"      {f.path}: {kb(len(f.raw)):.1f} KB, {kb(f.sent['gzip']):.1f} KB sent")
    total_gzip = html_gzip + sum(f.sent["gzip"] for f in files)
    total_br = (html_br or html_gzip) + sum(f.sent["br"] for f in files)
    print(
        f"  HTML + CSS + JS{' + manifest' if 'manifest' in kinds else ''} compressed: "
        f"{kb(total_gzip):.1f} KB gzip ({kb(total_br):.1f} KB with brotli for the static "
        f"files); target <= {FIRST_VISIT_MAX_KB} KB"
    )
    limit_row(
        "Today page weight (HTML)",
        kb(len(page.raw)),
        "KB",
        maximum=HTML_MAX_KB,
        note=f"uncompressed; {kb(html_gzip):.1f} KB gzipped; buddy1, demo data; every visit",
    )
    counted = ", ".join(
        f"{kind} {kb(sum(f.sent['gzip'] for f in group)):.1f} KB ({len(group)})"
        for kind, group in kinds.items()
    )
    limit_row(
        "Today page weight (HTML + CSS + JS, gzip, first visit)",
        kb(total_gzip),
        "KB",
        maximum=FIRST_VISIT_MAX_KB,
        note=(
            f"HTML {kb(html_gzip):.1f} KB ({html_how}); {counted} as WhiteNoise serves them; "
            f"{kb(total_br):.1f} KB with brotli"
        ),
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: bench_weight.py URL")
    sys.exit(main(sys.argv[1].rstrip("/")))

"""Today's page weight (scripts/bench_weight.py): which files a first visit is counted with.

The bench itself runs in `BENCH_QUICK=1 make bench` (CI) against a live server; these pin what
it counts, so a stylesheet, script, manifest or service worker cannot drop out of the figure."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import bench_weight  # noqa: E402 - scripts/ is not a package
from soak import Failed  # noqa: E402

BASE = "http://127.0.0.1:8000/"


def test_every_stylesheet_script_preload_and_the_manifest_are_counted_once():
    page = b"""<!doctype html><html><head>
    <link rel="icon" href="/static/favicon.svg">
    <link rel="stylesheet" href="/static/vendor/bootstrap.css">
    <link rel="preload" as="style" href="/static/css/app.css">
    <link rel="Manifest" href="/manifest.webmanifest">
    <link rel="preload" as="font" href="/static/font.woff2">
    <link rel="modulepreload" href="/static/js/offline.js">
    </head><body>
    <script src="/static/vendor/htmx.js"></script>
    <script src="js/nav.js?v=2" defer></script>
    <script>inline, counted with the HTML</script>
    <script src="/static/vendor/htmx.js"></script>
    </body></html>"""

    found = bench_weight.references(page, BASE + "today/")

    assert found == [
        ("CSS", "/static/vendor/bootstrap.css"),
        ("CSS", "/static/css/app.css"),
        ("manifest", "/manifest.webmanifest"),
        ("JS", "/static/js/offline.js"),
        ("JS", "/static/vendor/htmx.js"),
        ("JS", "/today/js/nav.js?v=2"),
    ]


def test_a_file_from_another_site_stops_the_measure():
    page = b'<script src="https://cdn.example.com/htmx.js"></script>'

    with pytest.raises(Failed, match="another site"):
        bench_weight.references(page, BASE)


@pytest.mark.parametrize(
    "script, registered",
    [
        ('navigator.serviceWorker.register("/sw.js", {scope: "/"})', "/sw.js"),
        (
            "if (x) navigator.serviceWorker .register( '/static/js/sw.abc123.js' );",
            "/static/js/sw.abc123.js",
        ),
        ("navigator.serviceWorker.ready.then(() => 1)", None),
    ],
)
def test_a_service_worker_registered_by_a_script_is_found(script, registered):
    match = bench_weight.SERVICE_WORKER.search(script)

    assert (match.group(2) if match else None) == registered

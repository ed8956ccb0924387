"""The buddy app on a phone's home screen: the web app manifest and the service worker.

The service worker is the file static/js/sw.js, served from the site's root so that its scope
covers /today/ (a worker under /static/ could only control /static/). `Cache-Control: no-cache`
makes the browser check for a new version on every visit, so a fixed rule reaches phones at
once. What it keeps and what it never keeps is written in that file.
"""

from functools import cache

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_GET

THEME_COLOUR = "#0d6efd"  # the navigation bar's colour (Bootstrap's primary)
SERVICE_WORKER = settings.BASE_DIR / "static" / "js" / "sw.js"


@require_GET
def manifest(request):
    """Plain and neutral: the name on the home screen is the app's, never the scheme's."""
    icons = [
        {"src": static(f"icons/icon-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png"}
        for size in (192, 512)
    ] + [
        {
            "src": static(f"icons/maskable-{size}.png"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": "maskable",
        }
        for size in (192, 512)
    ]
    response = JsonResponse(
        {
            "name": "Buddy scheme",
            "short_name": "Buddy",
            "id": reverse("meetings:today"),
            "start_url": reverse("meetings:today"),
            "scope": "/",
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": THEME_COLOUR,
            "icons": icons,
        },
        content_type="application/manifest+json",
    )
    response["Cache-Control"] = "public, max-age=86400"
    return response


@cache
def _service_worker() -> bytes:
    return SERVICE_WORKER.read_bytes()


@require_GET
def service_worker(request):
    response = HttpResponse(_service_worker(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response

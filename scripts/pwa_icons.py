"""One-off: the PWA icons from static/favicon.svg (any: the square as it is; maskable: the
rings on a full-bleed square, inside the 80 % safe zone)."""

from pathlib import Path

from playwright.sync_api import sync_playwright

svg = Path("static/favicon.svg").read_text()
rings = svg.split('fill="#0a46a0"/>', 1)[1].replace("</svg>", "")
maskable = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect width="32" height="32" fill="#0a46a0"/>'
    f'<g transform="translate(16 16) scale(0.7) translate(-16 -16)">{rings}</g></svg>'
)
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium")
    for size in (192, 512):
        for name, image in ((f"icon-{size}.png", svg), (f"maskable-{size}.png", maskable)):
            page = browser.new_page(viewport={"width": size, "height": size})
            body = image.replace("<svg ", f'<svg width="{size}" height="{size}" ', 1)
            page.set_content(
                f'<html><body style="margin:0;background:transparent">{body}</body></html>'
            )
            page.locator("svg").screenshot(path=f"static/icons/{name}", omit_background=True)
            page.close()
    browser.close()

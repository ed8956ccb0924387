"""Response headers that are not Django's own settings: the Permissions-Policy.

Every page refuses the browser features this app never uses. Location is the one exception,
and only where a buddy may share it with the team: the pages that load static/js/location.js
(Today's check-out, the help button and its confirmation, the safety settings, a group
session's check-out). Anywhere else a script, ours or injected, cannot ask for it.
"""

# The views (namespace:name) whose pages load location.js.
GEOLOCATION_VIEWS = frozenset(
    {
        "meetings:today",
        "meetings:help",
        "meetings:safe",
        "meetings:action",
        "meetings:safety",
        "meetings:safety_pins",
        "meetings:safety_location",
        "groups:run",
    }
)
REFUSED_FEATURES = (
    "accelerometer",
    "autoplay",
    "camera",
    "display-capture",
    "encrypted-media",
    "fullscreen",
    "gyroscope",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "picture-in-picture",
    "publickey-credentials-get",
    "screen-wake-lock",
    "serial",
    "usb",
    "xr-spatial-tracking",
)


def permissions_policy(geolocation: bool) -> str:
    features = [f"{feature}=()" for feature in REFUSED_FEATURES]
    features.append("geolocation=(self)" if geolocation else "geolocation=()")
    return ", ".join(sorted(features))


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        geolocation = match is not None and match.view_name in GEOLOCATION_VIEWS
        response.headers.setdefault("Permissions-Policy", permissions_policy(geolocation))
        return response

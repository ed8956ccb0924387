from .models import Role
from .watchdog import safety_net_status


def safety_net(request):
    """Coordinators see a red banner on every page while the safety net is not running."""
    membership = getattr(request, "membership", None)
    if membership is None or membership.role != Role.COORDINATOR:
        return {}
    status = safety_net_status()
    return {"safety_net_down": status.explain(membership.scheme.zone)}


def membership(request):
    """The acting membership and the others the user could switch to, for the navigation."""
    return {
        "membership": getattr(request, "membership", None),
        "all_memberships": getattr(request, "all_memberships", []),
    }

def membership(request):
    """The acting membership and the others the user could switch to, for the navigation."""
    return {
        "membership": getattr(request, "membership", None),
        "all_memberships": getattr(request, "all_memberships", []),
    }

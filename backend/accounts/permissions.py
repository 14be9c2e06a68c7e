"""Role checks for views: which roles may call an endpoint at all (object rules live in selectors)."""

from rest_framework.permissions import BasePermission

from backend.accounts.models import Role


def roles(*allowed: Role) -> type[BasePermission]:
    """A DRF permission class admitting only logged-in users with one of `allowed` roles."""

    class HasRole(BasePermission):
        message = "Your role cannot use this. Allowed: " + ", ".join(sorted(r.label for r in allowed)) + "."

        def has_permission(self, request, view):
            user = request.user
            return bool(user and user.is_authenticated and user.role in allowed)

    HasRole.__name__ = "HasRole_" + "_".join(sorted(allowed))
    return HasRole


ADMIN_ONLY = roles(Role.ADMIN)

"""Who is acting, and from where: passed to every service so each can write its own audit event."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backend.accounts.models import User


@dataclass(frozen=True)
class Actor:
    user: User | None
    ip_address: str | None = None
    user_agent: str = ""
    via: str = "system"  # api, web, ws, command, system

    @classmethod
    def from_request(cls, request, via: str | None = None, user: User | None = None) -> Actor:
        """The request's sender; `user` names who they are when the request is not logged in as them
        (a join link's grant)."""
        django_request = getattr(request, "_request", request)
        user = user or getattr(request, "user", None)
        return cls(
            user=user if getattr(user, "is_authenticated", False) else None,
            ip_address=django_request.META.get("REMOTE_ADDR") or None,
            user_agent=django_request.META.get("HTTP_USER_AGENT", "")[:300],
            via=via or ("api" if django_request.path.startswith("/api/") else "web"),
        )

    def as_user(self, user: User) -> Actor:
        """The same request, from `user` (who has just proved who they are, e.g. by logging in)."""
        return replace(self, user=user)

    @classmethod
    def system(cls, via: str = "command") -> Actor:
        return cls(user=None, via=via)

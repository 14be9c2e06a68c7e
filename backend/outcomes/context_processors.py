"""Every page a clinician opens says when risk flags are waiting, so none waits unseen."""

from backend.accounts.models import Role
from backend.outcomes.selectors import open_risk_flags_visible_to


def open_risk_flags(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.role != Role.CLINICIAN:
        return {}
    return {"open_risk_flag_count": open_risk_flags_visible_to(user).count()}

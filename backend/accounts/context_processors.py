"""`care_team`: for a logged-in service user, the care team whose phone number pages give when they
say "phone your care team" (the first of their teams that has a number). Looked up only when a
template uses it. Other roles, and visitors, get None: `{% phone_team %}` then says "your care team"."""

from django.utils.functional import SimpleLazyObject

from backend.accounts.models import Role


def care_team(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.role != Role.SERVICE_USER:
        return {"care_team": None}

    def first_team_with_a_number():
        from backend.accounts.selectors import teams_visible_to

        return teams_visible_to(user).exclude(phone_number="").order_by("name", "id").first()

    return {"care_team": SimpleLazyObject(first_team_with_a_number)}

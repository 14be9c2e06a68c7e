from django.apps import AppConfig


class CollegeConfig(AppConfig):
    """The Recovery College: a prospectus of courses, runs per term co-led by a peer trainer, enrolment with a
    waiting list, attendance through group sessions, learning plans, certificates and feedback (docs/college.md)."""

    name = "backend.college"
    label = "college"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # A run's facilitators facilitate its online sessions live, whether or not they are staff of the hosting
        # team (a carer peer trainer has no team): groups asks through its hook; groups never imports the college.
        from backend.groups.hooks import FACILITATION_GRANTS

        from .selectors import facilitates_session

        if facilitates_session not in FACILITATION_GRANTS:
            FACILITATION_GRANTS.append(facilitates_session)

from django.apps import AppConfig


class CollegeConfig(AppConfig):
    """The Recovery College: a prospectus of courses, runs per term co-led by a peer trainer, enrolment with a
    waiting list, attendance through group sessions, learning plans, certificates and feedback (docs/college.md)."""

    name = "backend.college"
    label = "college"
    default_auto_field = "django.db.models.BigAutoField"

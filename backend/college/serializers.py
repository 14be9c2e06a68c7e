"""College API shapes. Input serializers are strict (unknown fields refused); the rules are the services'."""

from rest_framework import serializers

from backend.core.serializers import StrictInputSerializer

from . import feedback
from .models import RUN_DELIVERY, Audience, Course, CourseRun, Delivery, Enrolment, LearningPlan, Term, TrainerRecord


REGISTER_MARKS = [("attended", "Attended"), ("left_early", "Left early"), ("dna", "Did not attend")]


class CollegeCourseOut(serializers.ModelSerializer):
    class Meta:
        model = Course
        fields = ["id", "title", "description", "audience", "delivery", "sessions", "capacity"]


class TermOut(serializers.ModelSerializer):
    class Meta:
        model = Term
        fields = ["id", "name", "starts_on", "ends_on"]


class RunOut(serializers.ModelSerializer):
    """A run as the prospectus shows it: counts of places, never who holds them."""

    course = CollegeCourseOut()
    term = TermOut()
    team = serializers.CharField(source="team.name")
    places_taken = serializers.IntegerField(source="enrolled_count")
    waiting = serializers.IntegerField(source="waiting_count")

    class Meta:
        model = CourseRun
        fields = ["id", "course", "term", "team", "delivery", "first_session_at", "duration_minutes", "venue", "capacity", "state",
                  "places_taken", "waiting"]


class FacilitatorOut(serializers.Serializer):
    trainer_id = serializers.IntegerField(source="trainer.pk")
    name = serializers.CharField(source="trainer.user.display_name")
    kind = serializers.ChoiceField(source="trainer.kind", choices=TrainerRecord.Kind.choices)


class RunDetailOut(RunOut):
    facilitators = FacilitatorOut(many=True)

    class Meta(RunOut.Meta):
        fields = [*RunOut.Meta.fields, "facilitators"]


class EnrolmentOut(serializers.ModelSerializer):
    run_id = serializers.IntegerField()
    course = serializers.CharField(source="run.course.title")
    term = serializers.CharField(source="run.term.name")
    student_id = serializers.IntegerField()
    student = serializers.CharField(source="student.display_name")

    class Meta:
        model = Enrolment
        fields = ["id", "run_id", "course", "term", "student_id", "student", "state", "created_at", "placed_at", "promoted", "withdrawn_at"]


class TrainerOut(serializers.ModelSerializer):
    user_id = serializers.IntegerField()
    name = serializers.CharField(source="user.display_name")
    supervisor_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = TrainerRecord
        fields = ["id", "user_id", "name", "kind", "training_completed", "training_completed_on", "accredited_on", "supervisor_id", "active"]


class LearningPlanOut(serializers.ModelSerializer):
    enrolment_id = serializers.IntegerField()
    updated_at = serializers.DateTimeField(allow_null=True, help_text="Empty until the plan is first saved.")

    class Meta:
        model = LearningPlan
        fields = ["enrolment_id", "goals", "reflection", "updated_at"]


class CourseInput(StrictInputSerializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=4000)
    audience = serializers.ChoiceField(choices=Audience.choices)
    delivery = serializers.ChoiceField(choices=Delivery.choices)
    sessions = serializers.IntegerField(min_value=1, max_value=52)
    capacity = serializers.IntegerField(min_value=1, max_value=200)


class TermInput(StrictInputSerializer):
    name = serializers.CharField(max_length=100)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()


class RunInput(StrictInputSerializer):
    course_id = serializers.IntegerField(min_value=1)
    term_id = serializers.IntegerField(min_value=1)
    team_id = serializers.IntegerField(min_value=1)
    delivery = serializers.ChoiceField(choices=RUN_DELIVERY)
    first_session_at = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField(min_value=15, max_value=480, default=120)
    venue = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    capacity = serializers.IntegerField(min_value=1, max_value=200, required=False)


class TrainerInput(StrictInputSerializer):
    user_id = serializers.IntegerField(min_value=1)
    kind = serializers.ChoiceField(choices=TrainerRecord.Kind.choices)
    training_completed = serializers.CharField(max_length=200)
    training_completed_on = serializers.DateField()
    accredited_on = serializers.DateField(required=False, allow_null=True)
    supervisor_id = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class FacilitatorInput(StrictInputSerializer):
    trainer_id = serializers.IntegerField(min_value=1)


class EnrolInput(StrictInputSerializer):
    student_id = serializers.IntegerField(min_value=1, required=False, help_text="College staff enrolling someone with them; leave out to enrol yourself.")


class EnrolmentQuery(StrictInputSerializer):
    run_id = serializers.IntegerField(min_value=1, required=False)


class LearningPlanInput(StrictInputSerializer):
    goals = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    reflection = serializers.CharField(max_length=4000, required=False, allow_blank=True)


class FeedbackInput(StrictInputSerializer):
    answers = serializers.DictField(child=serializers.CharField(max_length=2000, allow_blank=True),
                                    help_text=f"{feedback.LABEL}: question key to answer (GET /api/v1/college/feedback-form/ lists them).")


class RegisterInput(StrictInputSerializer):
    marks = serializers.DictField(child=serializers.ChoiceField(choices=REGISTER_MARKS),
                                  help_text="Enrolment id (as text) to attended, left_early or dna.")


class FeedbackFormOut(serializers.Serializer):
    version = serializers.CharField()
    label = serializers.CharField()
    questions = serializers.ListField(child=serializers.DictField())


class CreatedOut(serializers.Serializer):
    id = serializers.IntegerField()


class RegisterOut(serializers.Serializer):
    marked = serializers.IntegerField()

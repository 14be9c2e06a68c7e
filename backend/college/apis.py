"""College API: thin views over the college's selectors and services (docs/college.md)."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts import selectors as access
from backend.accounts.models import Role, User
from backend.accounts.permissions import roles
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_list, audit_record
from backend.core.errors import InvalidInput, one_visible
from backend.core.pagination import CursorPaged
from backend.core.serializers import parse_input as parse
from backend.core.serializers import parse_query

from . import feedback, selectors, services
from . import serializers as s

EVERYONE = roles(Role.CLINICIAN, Role.PEER_WORKER, Role.SERVICE_USER, Role.CARER, Role.EVALUATOR, Role.ADMIN)
MANAGERS = roles(Role.CLINICIAN, Role.PEER_WORKER, Role.ADMIN)
BIGINT = 2**63 - 1


def _run_detail(run):
    run.facilitators_list = list(run.facilitators.select_related("trainer__user"))
    data = s.RunOut(run).data
    data["facilitators"] = s.FacilitatorOut(run.facilitators_list, many=True).data
    return data


class RunListApi(CursorPaged, APIView):
    """The runs you may see: the current prospectus, and the runs you manage, facilitate or enrolled on. POST:
    college staff create a draft run."""

    permission_classes = [EVERYONE]

    @extend_schema(responses={200: s.RunOut(many=True)})
    def get(self, request):
        page = self.page(selectors.runs_visible_to(request.user), ordering=("-id",))
        return page.response(s.RunOut(page.items, many=True).data)

    @extend_schema(request=s.RunInput, responses={201: s.RunOut})
    def post(self, request):
        selectors.require_manager(request.user)
        data = parse(s.RunInput, request)
        course = selectors.course_for(request.user, data.pop("course_id"))
        term = selectors.term_for(request.user, data.pop("term_id"))
        team = one_visible(access.teams_visible_to(request.user).filter(organisation_id=request.user.organisation_id), data.pop("team_id"),
                           noun="team", field="team_id")
        run = services.run_create(actor=Actor.from_request(request), course=course, term=term, team=team, **data)
        return Response(s.RunOut(selectors.run_for(request.user, run.pk)).data, status=status.HTTP_201_CREATED)


class RunDetailApi(APIView):
    permission_classes = [EVERYONE]

    @extend_schema(responses={200: s.RunDetailOut})
    def get(self, request, run_id: int):
        return Response(_run_detail(selectors.run_for(request.user, run_id)))


class RunFacilitatorApi(APIView):
    """College staff add a trainer as a facilitator of a draft run."""

    permission_classes = [MANAGERS]

    @extend_schema(request=s.FacilitatorInput, responses={201: s.RunDetailOut})
    def post(self, request, run_id: int):
        run = selectors.run_for_manager(request.user, run_id)
        trainer = selectors.trainer_for(request.user, parse(s.FacilitatorInput, request)["trainer_id"])
        services.facilitator_add(actor=Actor.from_request(request), run=run, trainer=trainer)
        return Response(_run_detail(selectors.run_for_manager(request.user, run_id)), status=status.HTTP_201_CREATED)


class RunPublishApi(APIView):
    """Publish a draft run: refused (400 co_facilitation) without two facilitators, one of them a peer trainer."""

    permission_classes = [MANAGERS]

    @extend_schema(request=None, responses={200: s.RunDetailOut})
    def post(self, request, run_id: int):
        run = selectors.run_for_manager(request.user, run_id)
        services.run_publish(actor=Actor.from_request(request), run=run)
        return Response(_run_detail(selectors.run_for_manager(request.user, run_id)))


class RunEnrolmentApi(CursorPaged, APIView):
    """GET: the run's enrolments (its facilitators and college staff). POST: enrol yourself, or (college staff)
    someone with you: a place while there is one, else the waiting list."""

    permission_classes = [EVERYONE]

    @extend_schema(responses={200: s.EnrolmentOut(many=True)})
    def get(self, request, run_id: int):
        run = selectors.run_for_teaching(request.user, run_id)
        page = self.page(selectors.enrolments_visible_to(request.user).filter(run=run), ordering=("id",))
        audit_list(actor=Actor.from_request(request), object_type="college.enrolment", ids=[e.pk for e in page.items])
        return page.response(s.EnrolmentOut(page.items, many=True).data)

    @extend_schema(request=s.EnrolInput, responses={201: s.EnrolmentOut})
    def post(self, request, run_id: int):
        run = selectors.run_for(request.user, run_id)
        student_id = parse(s.EnrolInput, request).get("student_id")
        student = request.user
        if student_id is not None and student_id != request.user.pk:
            selectors.require_manager(request.user)
            student = one_visible(selectors.students_who_may_be_enrolled_by(request.user), student_id, noun="person", field="student_id")
        enrolment = services.enrol(actor=Actor.from_request(request), run=run, student=student)
        return Response(s.EnrolmentOut(enrolment).data, status=status.HTTP_201_CREATED)


class EnrolmentListApi(CursorPaged, APIView):
    """Your enrolments; for facilitators and college staff also those of the runs they teach or manage."""

    permission_classes = [EVERYONE]

    @extend_schema(parameters=[s.EnrolmentQuery], responses={200: s.EnrolmentOut(many=True)})
    def get(self, request):
        query = parse_query(s.EnrolmentQuery, request)
        enrolments = selectors.enrolments_visible_to(request.user)
        if "run_id" in query:
            enrolments = enrolments.filter(run_id=query["run_id"])
        page = self.page(enrolments, ordering=("-id",))
        audit_list(actor=Actor.from_request(request), object_type="college.enrolment", ids=[e.pk for e in page.items])
        return page.response(s.EnrolmentOut(page.items, many=True).data)


class EnrolmentWithdrawApi(APIView):
    """Withdraw (the student, or college staff): a freed place goes to the first person waiting. Twice: 409."""

    permission_classes = [EVERYONE]

    @extend_schema(request=None, responses={200: s.EnrolmentOut})
    def post(self, request, enrolment_id: int):
        enrolment = selectors.enrolment_for(request.user, enrolment_id)
        return Response(s.EnrolmentOut(services.withdraw(actor=Actor.from_request(request), enrolment=enrolment)).data)


class LearningPlanApi(APIView):
    """Your learning plan for one enrolment: goals before, reflection after. Only the student reads or writes it."""

    permission_classes = [EVERYONE]

    @extend_schema(responses={200: s.LearningPlanOut})
    def get(self, request, enrolment_id: int):
        enrolment = selectors.own_enrolment(request.user, enrolment_id)
        plan = getattr(enrolment, "learning_plan", None)
        audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.READ, obj=enrolment, detail={"learning_plan": True})
        data = {"enrolment_id": enrolment.pk, "goals": plan.goals if plan else "", "reflection": plan.reflection if plan else "",
                "updated_at": plan.updated_at if plan else None}
        return Response(data)

    @extend_schema(request=s.LearningPlanInput, responses={200: s.LearningPlanOut})
    def put(self, request, enrolment_id: int):
        enrolment = selectors.own_enrolment(request.user, enrolment_id)
        plan = services.learning_plan_save(actor=Actor.from_request(request), enrolment=enrolment, **parse(s.LearningPlanInput, request))
        return Response(s.LearningPlanOut(plan).data)


class FeedbackApi(APIView):
    """Give feedback on a run once (Rapport's own form, not a validated measure)."""

    permission_classes = [EVERYONE]

    @extend_schema(request=s.FeedbackInput, responses={201: s.CreatedOut})
    def post(self, request, enrolment_id: int):
        enrolment = selectors.own_enrolment(request.user, enrolment_id)
        response = services.feedback_submit(actor=Actor.from_request(request), enrolment=enrolment, answers=parse(s.FeedbackInput, request)["answers"])
        return Response({"id": response.pk}, status=status.HTTP_201_CREATED)


class FeedbackFormApi(APIView):
    """The feedback form's questions, as data."""

    permission_classes = [EVERYONE]

    @extend_schema(responses={200: s.FeedbackFormOut})
    def get(self, request):
        questions = [{**q, "options": [{"value": v, "label": label} for v, label in q.get("options", [])]} for q in feedback.QUESTIONS]
        return Response({"version": feedback.VERSION, "label": feedback.LABEL, "questions": questions})


class RegisterApi(APIView):
    """Take (or correct) one session's register: the run's facilitators and college staff, once it has started."""

    permission_classes = [EVERYONE]

    @extend_schema(request=s.RegisterInput, responses={200: s.RegisterOut})
    def post(self, request, run_id: int, number: int):
        run = selectors.run_for_teaching(request.user, run_id)
        session = selectors.session_for_teaching(request.user, run, number)
        marks = {}
        for key, mark in parse(s.RegisterInput, request)["marks"].items():
            if not key.isascii() or not key.isdigit() or not 0 < int(key) <= BIGINT:
                raise InvalidInput("Name each student by their enrolment id.", field="marks")
            marks[int(key)] = mark
        return Response({"marked": services.register_take(actor=Actor.from_request(request), session=session, marks=marks)})


class CourseListApi(CursorPaged, APIView):
    """College staff: their organisation's courses. POST: add a course to the prospectus."""

    permission_classes = [MANAGERS]

    @extend_schema(responses={200: s.CollegeCourseOut(many=True)})
    def get(self, request):
        page = self.page(selectors.courses_visible_to(request.user), ordering=("-id",))
        return page.response(s.CollegeCourseOut(page.items, many=True).data)

    @extend_schema(request=s.CourseInput, responses={201: s.CollegeCourseOut})
    def post(self, request):
        organisation_id = selectors.require_manager(request.user)
        course = services.course_create(actor=Actor.from_request(request), organisation_id=organisation_id, **parse(s.CourseInput, request))
        return Response(s.CollegeCourseOut(course).data, status=status.HTTP_201_CREATED)


class TermListApi(CursorPaged, APIView):
    permission_classes = [MANAGERS]

    @extend_schema(responses={200: s.TermOut(many=True)})
    def get(self, request):
        page = self.page(selectors.terms_visible_to(request.user), ordering=("-id",))
        return page.response(s.TermOut(page.items, many=True).data)

    @extend_schema(request=s.TermInput, responses={201: s.TermOut})
    def post(self, request):
        organisation_id = selectors.require_manager(request.user)
        term = services.term_create(actor=Actor.from_request(request), organisation_id=organisation_id, **parse(s.TermInput, request))
        return Response(s.TermOut(term).data, status=status.HTTP_201_CREATED)


class TrainerListApi(CursorPaged, APIView):
    """College staff: their organisation's trainer records (a trainer: their own). POST: record a trainer."""

    permission_classes = [EVERYONE]

    @extend_schema(responses={200: s.TrainerOut(many=True)})
    def get(self, request):
        page = self.page(selectors.trainers_visible_to(request.user), ordering=("-id",))
        audit_list(actor=Actor.from_request(request), object_type="college.trainerrecord", ids=[t.pk for t in page.items])
        return page.response(s.TrainerOut(page.items, many=True).data)

    @extend_schema(request=s.TrainerInput, responses={201: s.TrainerOut})
    def post(self, request):
        organisation_id = selectors.require_manager(request.user)
        data = parse(s.TrainerInput, request)
        user = one_visible(trainer_candidates(request.user), data.pop("user_id"), noun="person", field="user_id")
        supervisor_id = data.pop("supervisor_id", None)
        supervisor = one_visible(User.objects.filter(organisation_id=organisation_id, role__in=selectors.MANAGER_ROLES), supervisor_id,
                                 noun="supervisor", field="supervisor_id") if supervisor_id else None
        record = services.trainer_record_create(actor=Actor.from_request(request), organisation_id=organisation_id, user=user,
                                                supervisor=supervisor, **data)
        return Response(s.TrainerOut(record).data, status=status.HTTP_201_CREATED)


def trainer_candidates(user: User):
    """Whom college staff may record as a trainer: the people they may enrol (their organisation's staff, the
    service users they see, those people's carers)."""
    return selectors.students_who_may_be_enrolled_by(user)

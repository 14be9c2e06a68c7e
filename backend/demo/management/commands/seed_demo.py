"""Demo data with stable logins that docs and test tools rely on. Running it again changes nothing
but the passwords (reset to --password)."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from backend.accounts import services
from backend.accounts.models import (
    STAFF_ROLES,
    CarerLink,
    CaseloadEntry,
    Organisation,
    OrganisationRegistration,
    Role,
    ServiceUserReference,
    TeamMembership,
    User,
)
from backend.audit.actor import Actor
from backend.consent import services as consent_services
from backend.consent.models import Access, ConsentPurpose, ConsentRecord, Modality, ModalityReason, PurposeCode
from backend.consent.selectors import current_wording
from backend.sessions import services as session_services
from backend.demo.cohort import cohort_seed
from backend.groups import services as group_services
from backend.groups.models import GroupAttendee, GroupSession
from backend.outcomes import imports
from backend.outcomes import services as outcome_services
from backend.outcomes.selectors import instrument_by_code
from backend.network import services as network_services
from backend.network.models import SocialMap
from backend.sessions.models import Appointment, CourseOfCare

ORGANISATION = "Demo NHS Foundation Trust"
TEAMS = {
    "north": ("Talking Therapies North", "NHS Talking Therapies", "Leeds"),
    "south": ("Community Mental Health Team South", "Community mental health", "Wakefield"),
}
# Contact details for the demo teams. The numbers are in Ofcom's range kept for TV and radio drama
# (0113 496 0000 to 0999), so no real person is ever phoned from the demo.
TEAM_CONTACT = {
    "north": ("+441134960000", "Talking Therapies North\n1 Park Square\nLeeds\nLS1 2AA", "Monday to Friday, 9am to 5pm"),
    "south": ("+441134960001", "Community Mental Health Team South\n2 Wood Street\nWakefield\nWF1 2AB", "Monday to Friday, 9am to 5pm"),
}
PEOPLE = [
    # email, full name, preferred name, role, teams (member of, or on the caseload of)
    ("clinician@demo.test", "Dr Asha Patel", "Asha", Role.CLINICIAN, ["north"]),
    ("clinician2@demo.test", "Tom Reid", "Tom", Role.CLINICIAN, ["south"]),
    ("peer@demo.test", "Sam Okafor", "Sam", Role.PEER_WORKER, ["north"]),
    ("user1@demo.test", "Jordan Ellis", "Jo", Role.SERVICE_USER, ["north"]),
    ("user2@demo.test", "Priya Shah", "", Role.SERVICE_USER, ["north"]),
    ("user3@demo.test", "Morgan Hughes", "Mo", Role.SERVICE_USER, ["north", "south"]),
    ("user4@demo.test", "Alex Byrne", "", Role.SERVICE_USER, ["south"]),
    ("carer@demo.test", "Chris Ellis", "", Role.CARER, []),
    # A relative in the relatives' space who is not linked to any one person's care (docs/relatives.md).
    ("relative@demo.test", "Robin Lee", "", Role.CARER, []),
    ("evaluator@demo.test", "Eve Lawson", "", Role.EVALUATOR, []),
    ("admin@demo.test", "Ada Admin", "", Role.ADMIN, []),
]


class Command(BaseCommand):
    help = "Create the demo organisation, teams and accounts (idempotent) and print their logins."

    def add_arguments(self, parser):
        parser.add_argument("--password", default="rapport-demo", help="Password for every demo account.")
        parser.add_argument("--cohort", type=int, default=0, metavar="N",
                            help="Also import a synthetic cohort of N people with a year of courses of care into Talking Therapies "
                                 "North, most consenting to evaluation, so the evaluation report has figures (backend/demo/cohort.py).")

    @transaction.atomic
    def handle(self, *args, password, cohort=0, **options):
        actor = Actor.system()
        organisation = Organisation.objects.filter(name=ORGANISATION).first() or services.organisation_create(
            # The demo organisation lets staff log in with a password alone, so a newcomer can try every
            # role at once; a real organisation keeps two-factor sign-in on (docs/deploy.md).
            actor=actor, name=ORGANISATION, staff_two_factor_required=False,
        )
        teams = {}
        for key, (name, service, site) in TEAMS.items():
            phone_number, address, hours = TEAM_CONTACT[key]
            teams[key] = organisation.teams.filter(name=name).first() or services.team_create(
                actor=actor, organisation=organisation, name=name, service=service, site=site,
                phone_number=phone_number, face_to_face_address=address, opening_hours=hours,
            )
        accounts = {}
        for email, full_name, preferred, role, team_keys in PEOPLE:
            user = User.objects.filter(email=email).first()
            if user is None:
                # Demo passwords are short and guessable on purpose, so no validators: create directly.
                user = User.objects.create_user(
                    email, password, full_name=full_name, preferred_name=preferred, role=role,
                    organisation=organisation if role in STAFF_ROLES else None,
                )
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            accounts[email] = user
            if role == Role.SERVICE_USER and not OrganisationRegistration.objects.filter(organisation=organisation, service_user=user).exists():
                services.service_user_register(actor=actor, organisation=organisation, service_user=user)
            for key in team_keys:
                team = teams[key]
                if role == Role.SERVICE_USER:
                    if not CaseloadEntry.objects.filter(team=team, service_user=user).exists():
                        services.caseload_add(actor=actor, team=team, service_user=user)
                elif not TeamMembership.objects.filter(team=team, user=user).exists():
                    services.team_member_add(actor=actor, team=team, user=user)
        user1, carer = accounts["user1@demo.test"], accounts["carer@demo.test"]
        if not CarerLink.objects.filter(service_user=user1, carer=carer, ended_at__isnull=True).exists():
            link = services.carer_link_create(
                actor=Actor(user1, via="command"), service_user=user1, carer_email=carer.email,
                relationship=CarerLink.Relationship.PARTNER,
            )
            services.carer_link_accept(actor=Actor(carer, via="command"), link=link)  # the demo carer has said yes
        self._seed_messaging(accounts, teams, organisation)  # before the bookings, so they queue their messages
        if not ConsentRecord.objects.exists():
            self._seed_choices(accounts, teams)
        if not SocialMap.objects.filter(service_user=user1).exists():
            self._seed_network(accounts)
        self._seed_relatives(organisation, accounts)
        if not GroupSession.objects.filter(team=teams["north"]).exists():
            self._seed_groups(accounts, teams)
        self._seed_college(organisation, accounts, teams)
        self._seed_peer_work(accounts, teams)
        if cohort > 0:
            created = cohort_seed(admin=accounts["admin@demo.test"], team=teams["north"], size=cohort, today=timezone.localdate())
            self.stdout.write(f"Synthetic cohort: {created} people imported into {TEAMS['north'][0]}." if created else
                              "Synthetic cohort: already there, left as it is.")
        self.stdout.write("Demo logins (password: %s). Two-factor sign-in is off for the demo organisation's staff; "
                          "anyone can turn it on under Your account:" % password)
        for email, full_name, _, role, team_keys in PEOPLE:
            where = ", ".join(TEAMS[k][0] for k in team_keys)
            self.stdout.write(f"  {email:<22} {role.label:<32} {full_name}{' — ' + where if where else ''}")

    def _seed_groups(self, accounts, teams):
        """Groups of Talking Therapies North: a weekly "Managing anxiety" series run by Asha with Sam (Jo, Priya and
        Mo booked; Priya and Mo have not agreed to video, so they would join by audio only), last week's "Sleeping
        better" meeting with its register kept (Jo attended, Priya left early, Mo did not attend, and one line
        corrected, with the reason), and a carers' group with Chris, whom Jo has agreed to involve."""
        north, asha, sam = teams["north"], accounts["clinician@demo.test"], accounts["peer@demo.test"]
        jo, priya, mo = accounts["user1@demo.test"], accounts["user2@demo.test"], accounts["user3@demo.test"]
        by_asha = Actor(asha, via="command")
        evening = timezone.localtime().replace(hour=18, minute=0, second=0, microsecond=0)
        group_services.group_book(actor=by_asha, team=north, title="Managing anxiety", facilitator=asha, co_facilitator=sam,
                                  starts_at=evening + timedelta(days=2), people=[jo, priya, mo], capacity=12, repeat_weeks=6)
        (past,) = group_services.group_book(actor=by_asha, team=north, title="Sleeping better", facilitator=asha, co_facilitator=sam,
                                            starts_at=evening - timedelta(days=7), duration_minutes=90, people=[jo, priya, mo], capacity=12)
        # The meeting happened last week: its register as `group_end` would have left it (the demo has no Janus to run it).
        ended_at = past.starts_at + timedelta(minutes=90)
        GroupSession.objects.filter(pk=past.pk).update(status=GroupSession.Status.ENDED, started_at=past.starts_at, ended_at=ended_at)
        register = {jo.pk: (GroupAttendee.Attendance.ATTENDED, 90), priya.pk: (GroupAttendee.Attendance.LEFT_EARLY, 40),
                    mo.pk: (GroupAttendee.Attendance.DID_NOT_ATTEND, 0)}
        for attendee in past.attendees.all():
            attendance, minutes = register[attendee.person_id]
            joined = past.starts_at if minutes else None
            GroupAttendee.objects.filter(pk=attendee.pk).update(
                attendance=attendance, attended_seconds=minutes * 60, first_joined_at=joined,
                last_left_at=joined + timedelta(minutes=minutes) if joined else None,
                state=GroupAttendee.State.LEFT if minutes else GroupAttendee.State.BOOKED)
        group_services.attendance_correct(actor=Actor(sam, via="command"), attendee=past.attendees.get(person=priya),
                                          attendance=GroupAttendee.Attendance.LEFT_EARLY, attended_seconds=55 * 60,
                                          reason="Her connection dropped at 55 minutes; she phoned in for the rest.")
        group_services.group_book(actor=Actor(sam, via="command"), team=north, title="Carers' support group", facilitator=sam,
                                  starts_at=evening + timedelta(days=4, hours=-4), people=[accounts["carer@demo.test"]], capacity=10,
                                  for_carers=True, repeat_weeks=4)

    def _seed_college(self, organisation, accounts, teams):
        """The Recovery College (docs/college.md): a term with two runs, each co-led by a professional and a peer
        trainer: "Understanding anxiety" in person with Sam (peer trainer), full, with Alex on its waiting list;
        "Caring for someone" online with Chris, the demo carer, as a carer peer trainer (still a carer: no team)."""
        from backend.college import services as college
        from backend.college.models import Course

        if Course.objects.filter(organisation=organisation).exists():
            return
        admin, clinician, peer, carer = (accounts[e] for e in ("admin@demo.test", "clinician@demo.test", "peer@demo.test", "carer@demo.test"))
        by = Actor(admin, via="command")
        today = timezone.localdate()
        term = college.term_create(actor=by, organisation_id=organisation.pk, name=f"Term starting {today:%B %Y}",
                                   starts_on=today - timedelta(days=7), ends_on=today + timedelta(days=120))
        anxiety = college.course_create(
            actor=by, organisation_id=organisation.pk, title="Understanding anxiety", audience="anyone", delivery="both", sessions=4, capacity=3,
            description="What anxiety is, why it happens and what helps: four sessions shared by people with lived experience and professionals.")
        caring = college.course_create(
            actor=by, organisation_id=organisation.pk, title="Caring for someone with mental health problems", audience="carers",
            delivery="online", sessions=3, capacity=10,
            description="For carers, friends and family: looking after yourself while you support someone else.")
        trained = today - timedelta(days=90)
        asha = college.trainer_record_create(actor=by, organisation_id=organisation.pk, user=clinician, kind="professional",
                                             training_completed="Co-production and co-facilitation (2 days)", training_completed_on=trained)
        sam = college.trainer_record_create(actor=by, organisation_id=organisation.pk, user=peer, kind="peer", supervisor=clinician,
                                            training_completed="Peer trainer course (5 days)", training_completed_on=trained,
                                            accredited_on=trained + timedelta(days=30))
        chris = college.trainer_record_create(actor=by, organisation_id=organisation.pk, user=carer, kind="carer_peer", supervisor=clinician,
                                              training_completed="Peer trainer course for carers (5 days)", training_completed_on=trained,
                                              accredited_on=trained + timedelta(days=30))
        first = (timezone.localtime() + timedelta(days=7)).replace(hour=10, minute=0, second=0, microsecond=0)
        runs = []
        for course, delivery, trainers, venue in ((anxiety, "in_person", (asha, sam), "Recovery College, 1 Park Square, Leeds"),
                                                  (caring, "online", (asha, chris), "")):
            run = college.run_create(actor=by, course=course, term=term, team=teams["north"], delivery=delivery, first_session_at=first, venue=venue)
            for trainer in trainers:
                college.facilitator_add(actor=by, run=run, trainer=trainer)
            runs.append(college.run_publish(actor=by, run=run))
        for email in ("user1@demo.test", "user2@demo.test", "user3@demo.test", "user4@demo.test"):  # Alex waits
            student = accounts[email]
            college.enrol(actor=Actor(student, via="command"), run=runs[0], student=student)
        relative = accounts["relative@demo.test"]
        college.enrol(actor=Actor(relative, via="command"), run=runs[1], student=relative)

    def _seed_peer_work(self, accounts, teams):
        """Peer work (docs/peerwork.md): Asha's supervision of Sam, the peer worker, every fortnight. No
        fidelity questionnaire: its items are licensed, so an admin loads them; the demo ships none."""
        from backend.peerwork import selectors as peer_selectors
        from backend.peerwork import services as peer_services
        from backend.peerwork.models import SupervisionEntry

        asha, sam = accounts["clinician@demo.test"], accounts["peer@demo.test"]
        if SupervisionEntry.objects.filter(peer_worker=sam).exists():
            return
        membership = peer_selectors.supervision_pair_for(asha, sam.pk, teams["north"].pk)
        today = timezone.localdate()
        for days_ago, topics, actions in (
            (42, ["lived_experience", "boundaries"], "Sam to write down what he shares about his own recovery and what he keeps back."),
            (28, ["people_supported", "team_working"], "Asha to invite Sam to the team's Tuesday case discussion."),
            (14, ["wellbeing", "training"], "Sam to book the next peer support refresher course."),
        ):
            peer_services.supervision_record(
                actor=Actor(asha, via="command"), supervisor=asha, membership=membership, held_on=today - timedelta(days=days_ago),
                topics=topics, actions=actions,
            )

    def _seed_relatives(self, organisation, accounts):
        """The relatives' space: the starter modules, the peer worker as a supporter, the demo carer (from
        their carer link) and a relative linked to nobody's care, a conversation and forum posts."""
        from backend.relatives import services as relatives
        from backend.relatives.models import Relative

        if Relative.objects.filter(organisation=organisation).exists():
            return
        admin, clinician = Actor(accounts["admin@demo.test"], via="command"), Actor(accounts["clinician@demo.test"], via="command")
        relatives.starter_module_install(actor=admin, organisation=organisation)
        relatives.supporter_add(actor=admin, user=accounts["peer@demo.test"])
        link = CarerLink.objects.in_effect().get(service_user=accounts["user1@demo.test"], carer=accounts["carer@demo.test"])
        relatives.relative_invite_from_link(actor=clinician, link=link, notify=False)
        relatives.relative_invite(actor=clinician, email="relative@demo.test", full_name="Robin Lee", notify=False)
        carer, relative = Actor(accounts["carer@demo.test"], via="command"), Actor(accounts["relative@demo.test"], via="command")
        peer = Actor(accounts["peer@demo.test"], via="command")
        thread, _ = relatives.thread_start(actor=carer, subject="Sleeping after a bad week",
                                           body="My partner has had a hard week and I am not sleeping well myself. How do other people manage?")
        relatives.message_send(actor=peer, thread=thread, body="Thank you for writing. Many relatives tell us a short wind-down routine "
                               "helps them. The module \"Looking after yourself as a relative\" has some ideas, and your GP can help too.")
        welcome, _ = relatives.forum_post_create(actor=peer, title="Welcome to the forum",
                                                 body="This is a place to share what helps. Please never name the person you support.")
        relatives.forum_post_moderate(actor=peer, post=welcome, decision="publish")
        relatives.forum_post_create(actor=relative, parent=welcome, body="Thank you. It helps to know I am not the only one.")
        relatives.forum_post_create(actor=carer, title="Evenings", body="Does anyone have tips for evenings when things feel tense at home?")
    def _seed_messaging(self, accounts, teams, organisation):
        """Sender names, a team's own wording, an organisation's banned word and people's contact choices
        (docs/messaging.md). Set once: a later run leaves what an admin or person changed since."""
        from backend.messaging import services as messaging
        from backend.messaging.models import BannedWord, ContactPreference, Message, MessageTemplate, TeamMessaging

        admin = Actor(accounts["admin@demo.test"], via="command")
        for key, team in teams.items():
            if not TeamMessaging.objects.filter(team=team).exclude(sender_name="").exists():
                messaging.team_messaging_update(
                    actor=admin, team=team, sender_name="Demo NHS", reminder_offsets_hours=[7 * 24, 24],
                    caller_number_kind="a withheld number" if key == "north" else "0113 496 0001",
                    questionnaire_days_before=3, nudge_hours_before=24,
                )
        if not MessageTemplate.objects.filter(team=teams["north"]).exists():
            messaging.template_save(
                actor=admin, team=teams["north"], kind=Message.Kind.REMINDER, channel=Message.Channel.SMS, modality="",
                subject="", body="Hi {name}, just a reminder: {whose} appointment with {sender} is on {when}, {how}. "
                                 "Can't make it? Phone {team_phone}.",
            )
        if not BannedWord.objects.filter(organisation=organisation).exists():
            messaging.banned_word_add(actor=admin, organisation_id=organisation.pk, word="ward 7")
        # The demo's mobile number is only ever handed to the console sender or the loopback Notify.
        choices = {
            "user1@demo.test": ("07400 123456", {"confirmation": "sms", "reminder": "both", "change": "both", "join": "email",
                                                 "questionnaire": "email"}),
            "user3@demo.test": ("", {"confirmation": "email", "reminder": "off", "change": "email", "join": "email",
                                     "questionnaire": "email"}),
        }
        for email, (mobile, channels) in choices.items():
            person = accounts[email]
            if not ContactPreference.objects.filter(person=person).exists():
                messaging.contact_preferences_set(actor=Actor(person, via="command"), person=person, mobile_number=mobile,
                                                  email="", channels=channels, all_off=False)

    def _seed_choices(self, accounts, teams):
        """Consents, preferences and upcoming appointments that show the range people choose."""
        given = ConsentRecord.Decision.GIVEN

        def consent(email, code, carer=None):
            person = accounts[email]
            purpose = ConsentPurpose.objects.get(code=code)
            consent_services.consent_record(
                actor=Actor(person, via="command"), service_user=person, purpose=purpose, decision=given,
                wording_version=current_wording(purpose).version, carer=carer,
            )

        for code in (PurposeCode.REMOTE_CARE, PurposeCode.VIDEO, PurposeCode.EVALUATION):
            consent("user1@demo.test", code)
        consent("user1@demo.test", PurposeCode.CARER_INVOLVEMENT, carer=accounts["carer@demo.test"])
        for code in (PurposeCode.REMOTE_CARE, PurposeCode.EVALUATION):
            consent("user2@demo.test", code)
        consent("user3@demo.test", PurposeCode.REMOTE_CARE)

        preferences = {
            "user1@demo.test": ([Modality.VIDEO, Modality.PHONE, Modality.FACE_TO_FACE], [ModalityReason.FITS_AROUND_COMMITMENTS], {}),
            "user2@demo.test": ([Modality.FACE_TO_FACE, Modality.PHONE, Modality.VIDEO], [ModalityReason.NO_PRIVATE_SPACE],
                                {"has_private_space": Access.NO}),
            "user3@demo.test": ([Modality.PHONE, Modality.FACE_TO_FACE, Modality.VIDEO], [ModalityReason.POOR_CONNECTION],
                                {"has_enough_data": Access.NO, "confident_using": Access.UNSURE, "wants_help": True}),
        }
        for email, (ranking, reasons, answers) in preferences.items():
            person = accounts[email]
            fields = {"has_suitable_device": Access.YES, "has_enough_data": Access.YES, "has_private_space": Access.YES,
                      "confident_using": Access.YES, **answers}
            consent_services.preference_set(actor=Actor(person, via="command"), service_user=person, ranking=ranking, reasons=reasons, **fields)

        self._seed_outcomes(accounts, teams)
        clinician = accounts["clinician@demo.test"]
        tomorrow = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=2)
        for offset, email in enumerate(["user1@demo.test", "user2@demo.test", "user3@demo.test"]):
            session_services.appointment_book(
                actor=Actor(clinician, via="command"), service_user=accounts[email], team=teams["north"],
                starts_at=tomorrow + timedelta(hours=offset), modalities_offered=list(Modality.values),
                kind=Appointment.Kind.TREATMENT,
                earliest_face_to_face_slot=tomorrow + timedelta(days=5), earliest_remote_slot=tomorrow,
            )
        self._seed_clinic(accounts, teams)
        self._seed_clinic_today(accounts, teams)

    def _seed_clinic(self, accounts, teams):
        """A clinic to look at: Jo's weekly series with Asha (one moved, with a reason), Priya seeing
        Sam the peer worker, and Priya asking to rearrange, so Asha's week, the team's week and the
        service users' upcoming lists all show real appointments."""
        north, asha, sam = teams["north"], accounts["clinician@demo.test"], accounts["peer@demo.test"]
        jo, priya = accounts["user1@demo.test"], accounts["user2@demo.test"]
        day = timezone.localtime().replace(minute=0, second=0, microsecond=0)
        series = session_services.appointment_series_book(
            actor=Actor(asha, via="command"), service_user=jo, team=north, practitioner=asha,
            starts_at=(day + timedelta(days=1)).replace(hour=14), frequency="weekly", count=6,
            modalities_offered=[Modality.VIDEO, Modality.PHONE, Modality.FACE_TO_FACE], kind=Appointment.Kind.TREATMENT,
        )
        session_services.appointment_reschedule(
            actor=Actor(asha, via="command"), appointment=series[2], starts_at=series[2].starts_at + timedelta(days=1, hours=1),
            reason="Asha is at a training day on the usual day that week.",
        )
        peer = session_services.appointment_book(
            actor=Actor(sam, via="command"), service_user=priya, team=north, practitioner=sam,
            starts_at=(day + timedelta(days=3)).replace(hour=11, minute=30), duration_minutes=45,
            modalities_offered=[Modality.PHONE, Modality.FACE_TO_FACE], kind=Appointment.Kind.REVIEW,
        )
        session_services.appointment_rearrange_request(
            actor=Actor(priya, via="command"), appointment=peer, reason="I have a hospital appointment that morning; any afternoon would suit me.",
        )


    def _seed_clinic_today(self, accounts, teams):
        """Today's clinic, so the team waiting area and the carer's home show something real: Priya is
        waiting for a phone session booked with Asha (Sam, the peer worker, can admit her and run it);
        Jo's video session this afternoon has a Polish interpreter added and Chris, Jo's partner, invited."""
        clinician, north = accounts["clinician@demo.test"], teams["north"]
        by_clinician = Actor(clinician, via="command")
        soon = timezone.now() + timedelta(minutes=5)
        priya = session_services.appointment_book(
            actor=by_clinician, service_user=accounts["user2@demo.test"], team=north, starts_at=soon,
            modalities_offered=[Modality.FACE_TO_FACE, Modality.PHONE], kind=Appointment.Kind.TREATMENT,
        )
        session_services.safety_check_record(actor=by_clinician, appointment=priya, current_location="At home",
                                             is_private=True, emergency_contact_confirmed=True, identity_confirmed=True)
        session_services.waiting_room_enter(actor=Actor(accounts["user2@demo.test"], via="command"), appointment=priya)
        later = max(soon + timedelta(hours=1), timezone.localtime().replace(hour=16, minute=0, second=0, microsecond=0))
        jo = session_services.appointment_book(
            actor=by_clinician, service_user=accounts["user1@demo.test"], team=north, starts_at=later,
            modalities_offered=list(Modality.values), kind=Appointment.Kind.TREATMENT,
        )
        session_services.guest_add(actor=by_clinician, appointment=jo, name="Marta Nowak", guest_role="interpreter", language="Polish")
        session_services.carer_invite(actor=by_clinician, appointment=jo, carer=accounts["carer@demo.test"])

    def _seed_outcomes(self, accounts, teams):
        """Measure schedules, and earlier care brought in through the historic import: Jo's open course
        (improving, by video and phone) and Priya's finished one, so charts and paired outcomes show.
        Then one answer given today that raises a risk flag for Asha."""
        north, admin = teams["north"], accounts["admin@demo.test"]
        for code, when in (("phq9", "every_session"), ("gad7", "every_session"), ("core10", "first_and_last")):
            outcome_services.schedule_set(actor=Actor(admin, via="command"), team=north, instrument=instrument_by_code(code), when=when)
        for email, reference in (("user1@demo.test", "DEMO-JO"), ("user2@demo.test", "DEMO-PRIYA")):
            ServiceUserReference.objects.get_or_create(organisation=north.organisation, reference=reference,
                                                       defaults={"service_user": accounts[email]})
        today = timezone.localdate()
        header = ["service_user_ref", "course_ref", "referral_date", "end_date", "ending_reason", "appointment_ref", "date", "type",
                  "modality", "attended", *[f"phq9_{n}" for n in range(1, 10)], *[f"gad7_{n}" for n in range(1, 8)]]
        rows = []
        # (person, course, weeks ago, kind, modality, attended, PHQ-9 answers, GAD-7 answers)
        jo = [(10, "assessment", "face_to_face", [2, 3, 2, 2, 2, 2, 2, 1, 0], [2, 2, 3, 2, 1, 2, 2]),
              (8, "treatment", "video", [2, 2, 2, 2, 1, 2, 2, 1, 0], [2, 2, 2, 2, 1, 1, 2]),
              (6, "treatment", "video", [2, 2, 1, 2, 1, 1, 1, 0, 0], [1, 2, 2, 1, 1, 1, 1]),
              (4, "treatment", "phone", [1, 1, 1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1, 1]),
              (2, "treatment", "video", [1, 1, 1, 1, 0, 1, 0, 0, 0], [1, 1, 1, 0, 0, 1, 0])]
        for weeks, kind, modality, phq, gad in jo:
            rows.append(["DEMO-JO", "DEMO-JO-2025", "", "", "", f"DEMO-JO-{weeks}", str(today - timedelta(weeks=weeks)), kind,
                         modality, "yes", *phq, *gad])
        priya_end = today - timedelta(weeks=20)
        priya = [(32, "assessment", "face_to_face", "yes", [2, 2, 2, 1, 2, 2, 1, 1, 0], [2, 2, 2, 2, 1, 1, 1]),
                 (29, "treatment", "face_to_face", "no", [], []),
                 (27, "treatment", "phone", "yes", [1, 1, 1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1, 1]),
                 (22, "treatment", "face_to_face", "yes", [1, 0, 1, 0, 0, 1, 0, 0, 0], [0, 1, 1, 0, 0, 1, 0])]
        for weeks, kind, modality, attended, phq, gad in priya:
            rows.append(["DEMO-PRIYA", "DEMO-PRIYA-2025", str(today - timedelta(weeks=34)), str(priya_end), "completed",
                         f"DEMO-PRIYA-{weeks}", str(today - timedelta(weeks=weeks)), kind, modality, attended,
                         *(phq or [""] * 9), *(gad or [""] * 7)])
        text = "\n".join(",".join(str(v) for v in line) for line in [header, *rows]) + "\n"
        imports.import_csv(actor=Actor(admin, via="command"), team=north, text=text)
        jo_course = CourseOfCare.objects.get(team=north, reference="DEMO-JO-2025")
        outcome_services.response_submit(
            actor=Actor(accounts["clinician@demo.test"], via="command"),
            submission=outcome_services.Submission(
                instrument=instrument_by_code("phq9"), service_user=accounts["user1@demo.test"], course=jo_course, appointment=None,
                mode="clinician_phone", answers={1: 1, 2: 2, 3: 1, 4: 1, 5: 0, 6: 2, 7: 1, 8: 0, 9: 1}, completed_at=timezone.now(),
            ),
            idempotency_key="demo-risk-flag",
        )

    def _seed_network(self, accounts):
        """A directory of four resources, Jo's connection map (made with Asha, shared with the care team
        and with Chris, who is on it), two saved maps showing a change, and two signposts, one followed up.
        Phone numbers are in Ofcom's drama range; web and email addresses are example.org."""
        admin, jo, asha = accounts["admin@demo.test"], accounts["user1@demo.test"], accounts["clinician@demo.test"]
        today = timezone.localdate()
        directory = [
            dict(name="Hyde Park walking group", description="A gentle walk round the park every Saturday, with a cup of tea after.",
                 categories=["physical_activity", "social_groups"], scope="local", delivery="in_person", postcode_district="LS6",
                 address="Meets at the park gates, Hyde Park Road", wheelchair_access="yes", transport_links="Buses 1 and 6 stop outside",
                 opening_times="Saturdays, 10am to 11:30am", contact_phone="0113 496 0100", last_checked_on=today - timedelta(days=40)),
            dict(name="Money and benefits helpline", description="Free, confidential advice on debt and benefits.",
                 categories=["money"], scope="national", delivery="online", contact_phone="0113 496 0101",
                 contact_website="https://example.org/money-help", opening_times="Monday to Friday, 9am to 8pm",
                 last_checked_on=today - timedelta(days=90)),
            dict(name="Open art studio", description="Drop-in painting and crafts; materials provided.", categories=["arts_music", "social_groups"],
                 scope="local", delivery="in_person", postcode_district="LS2", address="Community centre, Merrion Street",
                 wheelchair_access="no", transport_links="Ten minutes' walk from the bus station; steps at the entrance",
                 opening_times="Wednesdays, 1pm to 4pm", contact_email="studio@example.org", last_checked_on=today - timedelta(days=200)),
            dict(name="Online peer support group", description="A weekly video group run by people with lived experience.",
                 categories=["peer_support"], scope="national", delivery="online", contact_website="https://example.org/peer-group",
                 opening_times="Thursdays, 7pm", last_checked_on=today - timedelta(days=14)),
        ]
        as_admin = Actor(admin, via="command")
        resources = [network_services.resource_create(actor=as_admin, **entry) for entry in directory]
        with_asha, as_jo = Actor(asha, via="command"), Actor(jo, via="command")
        network_services.map_start(actor=with_asha, service_user=jo, care_team=True, postcode_district="LS6")
        carer = accounts["carer@demo.test"]
        members = [
            dict(kind="person", label="Chris", circle=1, relationship="partner", contact_frequency="daily", everyday_support=True,
                 emotional_support=True, carer_id=carer.pk),
            dict(kind="person", label="Mum", circle=1, relationship="family", contact_frequency="weekly", emotional_support=True),
            dict(kind="professional", label="Asha (clinician)", circle=2, relationship="professional", contact_frequency="monthly",
                 illness_support=True),
            dict(kind="place", label="The corner café", circle=3, contact_frequency="weekly"),
        ]
        for member in members:
            network_services.member_add(actor=with_asha, service_user=jo, **member)
        network_services.interests_set(actor=with_asha, service_user=jo, interests=["physical_activity", "arts_music"], needs=["money"])
        network_services.snapshot_take(actor=with_asha, service_user=jo, setting="in_session", note="First map, made together.")
        network_services.member_add(actor=as_jo, service_user=jo, kind="group", label="Walking group", circle=2, contact_frequency="weekly",
                                    emotional_support=True)
        network_services.snapshot_take(actor=as_jo, service_user=jo, setting="on_own")
        if carer.pk in [c.pk for c in network_services.selectors.carers_to_share_with(jo)]:
            network_services.sharing_set(actor=as_jo, service_user=jo, care_team=True, carer_ids=[carer.pk])
        walk = network_services.signpost_offer(actor=with_asha, service_user=jo, resource_id=resources[0].pk, follow_up_on=today)
        network_services.follow_up_record(actor=as_jo, service_user=jo, signpost=walk, outcome="went", happened_on=today)
        network_services.signpost_offer(actor=with_asha, service_user=jo, resource_id=resources[1].pk, follow_up_on=today + timedelta(days=14))

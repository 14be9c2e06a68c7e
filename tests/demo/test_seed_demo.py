"""The demo data: stable logins that the docs and test tools rely on, and idempotent."""

from django.core.management import call_command

from backend.accounts import selectors
from backend.accounts.models import CarerLink, Organisation, Role, Team, User
from backend.audit.selectors import audit_chain_verify
from backend.consent.models import ConsentRecord
from backend.outcomes.models import Response, RiskFlag
from backend.sessions.models import Appointment, AppointmentEvent, CourseOfCare, RearrangeRequest

LOGINS = {
    "clinician@demo.test": Role.CLINICIAN, "clinician2@demo.test": Role.CLINICIAN, "peer@demo.test": Role.PEER_WORKER,
    "user1@demo.test": Role.SERVICE_USER, "user2@demo.test": Role.SERVICE_USER, "user3@demo.test": Role.SERVICE_USER,
    "user4@demo.test": Role.SERVICE_USER, "carer@demo.test": Role.CARER, "evaluator@demo.test": Role.EVALUATOR,
    "admin@demo.test": Role.ADMIN,
}


def test_seed_demo_creates_the_documented_logins_and_is_idempotent(db, capsys):
    call_command("seed_demo", "--password", "another-demo-pass")
    out = capsys.readouterr().out
    counts = (User.objects.count(), Team.objects.count(), Organisation.objects.count(), CarerLink.objects.count())
    call_command("seed_demo", "--password", "another-demo-pass")
    assert (User.objects.count(), Team.objects.count(), Organisation.objects.count(), CarerLink.objects.count()) == counts
    assert counts == (12, 2, 1, 1)  # the eleven documented logins and today's guest interpreter (no login)
    # The relatives' space: two relatives (one from the carer link), a supporter, the starter modules,
    # a conversation with a reply, a published welcome with a held reply, and a held post.
    from backend.relatives.models import ForumPost, ModuleVersion, Relative, Supporter, ThreadMessage

    assert Relative.objects.count() == 2 and Supporter.objects.get().user.email == "peer@demo.test"
    assert ModuleVersion.objects.filter(published_at__isnull=False).count() == 2 and ThreadMessage.objects.count() == 2
    assert sorted(ForumPost.objects.values_list("state", flat=True)) == ["held", "held", "published"]
    # Three upcoming appointments, Jo's weekly series of six with Asha and Priya's review with Sam (the
    # clinic to look at), two today (Priya waiting now, Jo later with an interpreter and her carer
    # invited), and nine from earlier care brought in by the historic import.
    assert Appointment.objects.count() == 21 and ConsentRecord.objects.count() == 7
    assert Appointment.objects.exclude(series=None).count() == 6
    assert [r.requested_by.email for r in RearrangeRequest.objects.filter(answered_at=None)] == ["user2@demo.test"]
    assert AppointmentEvent.objects.filter(kind="rescheduled").count() == 1
    peer = User.objects.get(email="peer@demo.test")
    from backend.sessions.selectors import sessions_invited_to, team_waiting_area_for

    assert [p.user.email for p in team_waiting_area_for(peer)] == ["user2@demo.test"]
    assert [p.appointment.service_user.email for p in sessions_invited_to(User.objects.get(email="carer@demo.test"))] == ["user1@demo.test"]
    jo = User.objects.get(email="user1@demo.test")
    assert Response.objects.filter(service_user=jo, instrument__code="phq9").count() == 6
    assert [f.service_user for f in RiskFlag.objects.all()] == [jo]
    assert CourseOfCare.objects.filter(ended_on__isnull=False).count() == 1
    # Messages (docs/messaging.md): each team sends under a neutral name; the bookings queued their
    # messages; Jo gets reminders by text and email, Mo none; Jo's carer gets copies of appointment times.
    from backend.messaging.models import Message, TeamMessaging

    assert set(TeamMessaging.objects.values_list("sender_name", flat=True)) == {"Demo NHS"}
    queued = Message.objects.filter(status=Message.Status.QUEUED)
    assert set(queued.filter(recipient=jo, kind="reminder").values_list("channel", flat=True)) == {"sms", "email"}
    assert not queued.filter(recipient__email="user3@demo.test", kind="reminder").exists()
    assert queued.filter(recipient__email="carer@demo.test").exists()
    # The Recovery College: two runs co-led by a peer trainer (one a carer peer trainer, still a carer), one full
    # with a waiting list.
    from backend.college.models import CourseRun, Enrolment, TrainerRecord

    assert CourseRun.objects.filter(state="published").count() == 2
    assert sorted(TrainerRecord.objects.values_list("kind", flat=True)) == ["carer_peer", "peer", "professional"]
    assert User.objects.get(email="carer@demo.test").role == Role.CARER
    assert sorted(Enrolment.objects.values_list("state", flat=True)) == ["enrolled"] * 4 + ["waiting"]
    assert Enrolment.objects.get(state="waiting").student.email == "user4@demo.test"
    for email, role in LOGINS.items():
        assert email in out
        assert User.objects.get(email=email).role == role
    clinician = User.objects.get(email="clinician@demo.test")
    assert clinician.check_password("another-demo-pass")
    other = User.objects.get(email="clinician2@demo.test")
    assert set(selectors.teams_visible_to(clinician)).isdisjoint(selectors.teams_visible_to(other))
    carer = User.objects.get(email="carer@demo.test")
    assert [u.email for u in selectors.service_users_visible_to(carer)] == ["user1@demo.test"]
    # A directory, Jo's connection map shared with her team and with Chris, two saved maps, and signposts.
    from backend.network import selectors as network
    from backend.network.models import MapSnapshot, Resource, Signpost

    assert Resource.objects.count() == 4 and Signpost.objects.filter(service_user=jo).count() == 2
    assert [s.measures["size"] for s in MapSnapshot.objects.order_by("id")] == [4, 5]
    assert list(network.network_people_visible_to(clinician)) == [jo] and list(network.network_people_visible_to(carer)) == [jo]
    assert list(network.network_people_visible_to(other)) == []
    assert [x["resource"].name for x in network.suggestions(jo, network.map_of(jo))][:1] == ["Hyde Park walking group"]
    # Peer work: three supervisions of Sam by Asha, seen by both of them only.
    from backend.peerwork.selectors import supervision_entries_visible_to

    assert [e.held_on for e in supervision_entries_visible_to(peer)] == [e.held_on for e in supervision_entries_visible_to(clinician)]
    assert len(supervision_entries_visible_to(peer)) == 3 and not supervision_entries_visible_to(other).exists()
    assert audit_chain_verify().intact
    # Groups (docs/groups.md): a weekly series of six with Jo, Priya and Mo (only Jo agreed to video), last week's
    # meeting with its register (attended, left early with one correction, did not attend), and a carers' group
    # of four with Chris; staff, the people booked and the carer each see theirs.
    from backend.groups.models import GroupAttendee, GroupSession
    from backend.groups.selectors import groups_visible_to, media_allowed

    assert GroupSession.objects.filter(title="Managing anxiety").count() == 6
    past = GroupSession.objects.get(title="Sleeping better", status="ended")
    register = {a.person.email: (a.attendance, a.attendance_corrected_by_id is not None) for a in past.attendees.select_related("person")}
    assert register == {"user1@demo.test": ("attended", False), "user2@demo.test": ("left_early", True), "user3@demo.test": ("dna", False)}
    carers = GroupSession.objects.filter(for_carers=True)
    assert carers.count() == 4 and all(media_allowed(a) == (True, True) for a in GroupAttendee.objects.filter(group__in=carers))
    first = GroupSession.objects.filter(title="Managing anxiety").order_by("starts_at").first()
    assert [media_allowed(a) for a in first.attendees.order_by("person__email")] == [(True, True), (True, False), (True, False)]
    assert groups_visible_to(clinician).count() == 18 and groups_visible_to(other).count() == 0
    assert groups_visible_to(carer).count() == 4 and groups_visible_to(jo).count() == 11

"""Test data, made through the real services (so every row is one the product would write).

Accounts are created without a password (the service then makes them unable to log in) because
Argon2 hashing costs ~0.1 s; tests of logging in give a password explicitly.

Organisations made here let staff log in with a password alone (`staff_two_factor_required=False`),
so tests of other features log in in one step; the two-factor tests (tests/accounts/test_two_factor.py,
tests/browser/test_account_pages.py) turn it on, or use `enrol_totp` and `totp_code` below.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from datetime import timedelta

from django.utils import timezone

from backend.accounts import services
from backend.accounts.models import CarerLink, Organisation, Role, Team, User
from backend.audit.actor import Actor
from backend.consent import services as consent_services
from backend.consent.models import Access, ConsentPurpose, ConsentRecord, Modality, ModalityPreference, PurposeCode
from backend.consent.selectors import current_wording
from backend.sessions import services as session_services
from backend.sessions.models import Appointment, CourseOfCare

SYSTEM = Actor.system(via="test")
_numbers = itertools.count(1)


def current_organisation() -> Organisation:
    """The first organisation made (one is made if there is none; the world's, where there is a world):
    where make_user puts staff and registers service users unless told otherwise."""
    return Organisation.objects.order_by("pk").first() or services.organisation_create(actor=SYSTEM, name=f"Trust {next(_numbers)}", staff_two_factor_required=False)


def make_user(role: Role, *, email: str | None = None, full_name: str | None = None, password: str | None = None,
              organisation: Organisation | None = None, **fields) -> User:
    """An account. Staff work for `organisation`, and a service user is registered with it (by default
    the current organisation); carers belong to none."""
    n = next(_numbers)
    if organisation is None and role != Role.CARER:
        organisation = current_organisation()
    return services.user_create(
        actor=SYSTEM, email=email or f"{role}{n}@example.test", full_name=full_name or f"{role.label} {n}",
        role=role, password=password, organisation=organisation, **fields,
    )


def make_team(organisation: Organisation | None = None, name: str | None = None) -> Team:
    organisation = organisation or services.organisation_create(actor=SYSTEM, name=f"Trust {next(_numbers)}", staff_two_factor_required=False)
    return services.team_create(
        actor=SYSTEM, organisation=organisation, name=name or f"Team {next(_numbers)}", service="Talking therapies", site="Leeds"
    )


def link_carer(service_user: User, carer: User, relationship=CarerLink.Relationship.PARENT, *, consent: bool = True,
               accept: bool = True) -> CarerLink:
    """The service user proposes a carer, the carer accepts (unless accept=False) and the person
    (unless consent=False) consents to sharing with them."""
    link = services.carer_link_create(
        actor=Actor(service_user, via="test"), service_user=service_user, carer_email=carer.email, relationship=relationship
    )
    if not accept:
        return link
    link = services.carer_link_accept(actor=Actor(carer, via="test"), link=link)
    if consent:
        give_consent(service_user, PurposeCode.CARER_INVOLVEMENT, carer=carer)
    return link


def decide(service_user: User, purpose_code: str, decision: str, *, by: User | None = None, carer: User | None = None,
           share_outcomes: bool = False, note: str = "") -> ConsentRecord:
    purpose = ConsentPurpose.objects.get(code=purpose_code)
    version = current_wording(purpose).version if decision != ConsentRecord.Decision.WITHDRAWN else None
    return consent_services.consent_record(
        actor=Actor(by or service_user, via="test"), service_user=service_user, purpose=purpose, decision=decision,
        wording_version=version, carer=carer, share_outcomes=share_outcomes, note=note,
    )


def give_consent(service_user: User, purpose_code: str, **kwargs) -> ConsentRecord:
    return decide(service_user, purpose_code, ConsentRecord.Decision.GIVEN, **kwargs)


def withdraw_consent(service_user: User, purpose_code: str, **kwargs) -> ConsentRecord:
    return decide(service_user, purpose_code, ConsentRecord.Decision.WITHDRAWN, **kwargs)


def set_preference(service_user: User, ranking=(Modality.VIDEO, Modality.PHONE, Modality.FACE_TO_FACE), **answers) -> ModalityPreference:
    fields = {"has_suitable_device": Access.YES, "has_enough_data": Access.YES, "has_private_space": Access.YES,
              "confident_using": Access.YES, "reasons": [], **answers}
    return consent_services.preference_set(actor=Actor(service_user, via="test"), service_user=service_user, ranking=list(ranking), **fields)


def book(clinician: User, service_user: User, team: Team, *, in_hours: float = 72, offered=tuple(Modality.values), **kwargs) -> Appointment:
    return session_services.appointment_book(
        actor=Actor(clinician, via="test"), service_user=service_user, team=team,
        starts_at=timezone.now() + timedelta(hours=in_hours), modalities_offered=list(offered), **kwargs,
    )


def let_time_pass(appointment: Appointment, *, hours_ago: float = 1) -> Appointment:
    """Move an appointment into the past, as if its time had come (the booking service only books the future)."""
    start = timezone.now() - timedelta(hours=hours_ago)
    Appointment.objects.filter(pk=appointment.pk).update(starts_at=start, choice_closes_at=start - timedelta(hours=24))
    appointment.refresh_from_db()
    return appointment


@dataclass
class World:
    """Two teams in one trust, with one of every role. `north` holds service_user; `south` other_service_user."""

    organisation: Organisation
    north: Team
    south: Team
    clinician: User
    other_clinician: User
    peer_worker: User
    service_user: User
    other_service_user: User
    carer: User
    unlinked_carer: User
    evaluator: User
    admin: User
    carer_link: CarerLink
    appointment: Appointment
    past_appointment: Appointment
    course: CourseOfCare

    def as_role(self, role: str) -> User | None:
        """The account that plays `role` in permission tests (None: anonymous)."""
        return {
            "clinician": self.clinician, "peer_worker": self.peer_worker, "service_user": self.service_user,
            "carer": self.carer, "evaluator": self.evaluator, "admin": self.admin, "anonymous": None,
        }[role]


def seed_reference_data() -> None:
    """Transactional tests empty the database, seeded rows included: put the consent catalogue and the
    published instruments back."""
    from backend.consent.catalogue import seed_catalogue
    from backend.consent.models import ConsentWording
    from backend.outcomes.models import Instrument, InstrumentBand, InstrumentItem, InstrumentOption
    from backend.outcomes.seed import seed_instruments

    seed_catalogue(ConsentPurpose, ConsentWording)
    seed_instruments(Instrument, InstrumentOption, InstrumentItem, InstrumentBand)


@dataclass
class Elsewhere:
    """A second trust beside the world's, with one of each staff role, a team and a service user of its own."""

    organisation: Organisation
    team: Team
    clinician: User
    admin: User
    evaluator: User
    service_user: User


def build_elsewhere() -> Elsewhere:
    organisation = services.organisation_create(actor=SYSTEM, name=f"Elsewhere Trust {next(_numbers)}", staff_two_factor_required=False)
    team = make_team(organisation, "Elsewhere")
    clinician = make_user(Role.CLINICIAN, organisation=organisation, full_name="Elsa Where")
    service_user = make_user(Role.SERVICE_USER, organisation=organisation, full_name="Ellis Secret", phone_number="07700 900555")
    services.team_member_add(actor=SYSTEM, team=team, user=clinician)
    services.caseload_add(actor=SYSTEM, team=team, service_user=service_user)
    return Elsewhere(
        organisation=organisation, team=team, clinician=clinician, service_user=service_user,
        admin=make_user(Role.ADMIN, organisation=organisation), evaluator=make_user(Role.EVALUATOR, organisation=organisation),
    )


def build_world() -> World:
    seed_reference_data()
    organisation = services.organisation_create(actor=SYSTEM, name=f"Test Trust {next(_numbers)}", staff_two_factor_required=False)
    north, south = make_team(organisation, "North"), make_team(organisation, "South")
    clinician, other_clinician = make_user(Role.CLINICIAN), make_user(Role.CLINICIAN)
    peer_worker = make_user(Role.PEER_WORKER)
    service_user, other_service_user = make_user(Role.SERVICE_USER), make_user(Role.SERVICE_USER)
    carer, unlinked_carer = make_user(Role.CARER), make_user(Role.CARER)
    services.team_member_add(actor=SYSTEM, team=north, user=clinician)
    services.team_member_add(actor=SYSTEM, team=north, user=peer_worker)
    services.team_member_add(actor=SYSTEM, team=south, user=other_clinician)
    services.caseload_add(actor=SYSTEM, team=north, service_user=service_user)
    services.caseload_add(actor=SYSTEM, team=south, service_user=other_service_user)
    give_consent(service_user, PurposeCode.REMOTE_CARE)
    give_consent(service_user, PurposeCode.VIDEO)
    set_preference(service_user)
    appointment, past_appointment = book(clinician, service_user, north), let_time_pass(book(clinician, service_user, north))
    course = session_services.course_open(
        actor=Actor(clinician, via="test"), service_user=service_user, team=north, started_on=timezone.localdate() - timedelta(days=30)
    )
    return World(
        organisation=organisation, north=north, south=south, clinician=clinician, other_clinician=other_clinician,
        peer_worker=peer_worker, service_user=service_user, other_service_user=other_service_user, carer=carer,
        unlinked_carer=unlinked_carer, evaluator=make_user(Role.EVALUATOR), admin=make_user(Role.ADMIN),
        carer_link=link_carer(service_user, carer),
        appointment=Appointment.objects.get(pk=appointment.pk), past_appointment=Appointment.objects.get(pk=past_appointment.pk),
        course=course,
    )


def enrol_totp(user: User):
    """Give `user` a confirmed authenticator device, as the set-up page does (through the services)."""
    from backend.accounts import two_factor

    enrolment = two_factor.totp_enrolment_start(user=user)
    two_factor.totp_enrolment_confirm(actor=SYSTEM, user=user, device=enrolment.device, code=totp_code(enrolment.device))
    enrolment.device.refresh_from_db()
    return enrolment.device


def totp_code(device, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now for `device` (`steps_ahead=1`: the next 30 seconds' code,
    which the device also accepts, for a second sign-in within the same 30 seconds)."""
    from django_otp.oath import totp

    return str(totp(device.bin_key, device.step, device.t0, device.digits, device.drift + steps_ahead)).zfill(device.digits)


def totp_code_from_secret(secret: str, *, steps_ahead: int = 0) -> str:
    """The code for a base32 secret as shown on the set-up page (what a person's app computes)."""
    import base64

    from django_otp.oath import totp

    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return str(totp(key, 30, 0, 6, steps_ahead)).zfill(6)


def book_group(world: World, *, people: list[User] | None = None):
    """A group of North's, run by the clinician with the peer worker, with the world's service user booked."""
    from backend.groups.services import group_book

    return group_book(
        actor=Actor(world.clinician, via="test"), team=world.north, title="Managing anxiety group", facilitator=world.clinician,
        co_facilitator=world.peer_worker, starts_at=timezone.now() + timedelta(hours=2), people=people or [world.service_user],
    )[0]

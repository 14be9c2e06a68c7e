"""Actions that change accounts, teams, caseloads and carer links. Each is one transaction that
writes its own audit event. Callers have already checked the asker's role; object rules that depend
on who is acting (only a service user makes their own carer links) are checked here."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from knox.models import AuthToken

from backend.accounts.hooks import access_changed
from backend.accounts.models import (
    PRACTITIONER_ROLES,
    STAFF_ROLES,
    CarerLink,
    CaseloadEntry,
    Organisation,
    OrganisationRegistration,
    Role,
    ServiceUserReference,
    Team,
    TeamMembership,
    User,
)
from backend.accounts.selectors import NOT_ADMISSIBLE
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_record
from backend.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.core.phone import normalise_phone_number

A = AuditEvent.Action


# --- Logging in ----------------------------------------------------------------------------------
def api_token_issue(*, actor: Actor, user: User) -> tuple[str, datetime]:
    """Give a logged-in user an expiring API token. Only a hash of it is stored."""
    with transaction.atomic():
        # Expired tokens are swept here, not on every request (backend/accounts/authentication.py).
        AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
        instance, token = AuthToken.objects.create(user=user)
        audit_record(actor=actor.as_user(user), action=A.LOGIN, obj=user)
    return token, instance.expiry


def api_token_revoke(*, actor: Actor, token: AuthToken) -> None:
    with transaction.atomic():
        token.delete()
        audit_record(actor=actor, action=A.LOGOUT, obj=actor.user)


def login_record(*, actor: Actor, user: User) -> None:
    audit_record(actor=actor.as_user(user), action=A.LOGIN, obj=user)


def logout_record(*, actor: Actor) -> None:
    if actor.user is not None:
        audit_record(actor=actor, action=A.LOGOUT, obj=actor.user)


def login_failure_record(*, actor: Actor, email: str, locked_out: bool) -> None:
    audit_record(
        actor=actor, action=A.LOGIN_FAILED, object_type="accounts.user",
        detail={"email": email[:254], "locked_out": locked_out},
    )


# --- Accounts ------------------------------------------------------------------------------------
def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as error:
        raise InvalidInput(" ".join(error.messages), field="password") from error


def user_create(
    *, actor: Actor, email: str, full_name: str, role: str, password: str | None, preferred_name: str = "", phone_number: str = "",
    organisation: Organisation | None = None,
) -> User:
    """Create an account. With `password=None` the account exists but cannot log in until one is set.

    Staff need `organisation` (the one they work for); a service user made with one is registered
    with it; carers belong to no organisation (it is ignored), and a new carer account takes over the
    carer-link proposals waiting for its email.
    """
    email = User.objects.normalize_email(email).lower()
    if role in STAFF_ROLES and organisation is None:
        raise InvalidInput("Staff accounts belong to an organisation: name it.", field="organisation", code="required")
    if password is not None:
        _check_password(password, User(email=email, full_name=full_name, preferred_name=preferred_name, role=role))
    with transaction.atomic():
        if User.objects.filter(email=email).exists():
            raise Conflict("An account with this email address already exists.", field="email", code="email_taken")
        user = User.objects.create_user(
            email, password, full_name=full_name, role=role, preferred_name=preferred_name, phone_number=phone_number,
            organisation=organisation if role in STAFF_ROLES else None,
        )
        detail = {"role": role, "organisation": organisation.pk if organisation and role != Role.CARER else None}
        if role == Role.CARER:
            detail["proposals_waiting"] = CarerLink.objects.open().filter(carer__isnull=True, carer_email=email).update(carer=user)
        audit_record(actor=actor, action=A.CREATE, obj=user, detail=detail)
        if role == Role.SERVICE_USER and organisation is not None:
            service_user_register(actor=actor, organisation=organisation, service_user=user)
    return user


def service_user_register(*, actor: Actor, organisation: Organisation, service_user: User) -> OrganisationRegistration:
    """Register a service user with an organisation, so its teams may take them onto a caseload."""
    if service_user.role != Role.SERVICE_USER:
        raise InvalidInput("Only service users are registered with an organisation.", field="service_user_id", code="wrong_role")
    try:
        with transaction.atomic():
            registration = OrganisationRegistration.objects.create(
                organisation=organisation, service_user=service_user, registered_by=actor.user
            )
            audit_record(actor=actor, action=A.CREATE, obj=registration,
                         detail={"organisation": organisation.pk, "service_user": service_user.pk})
    except IntegrityError as error:
        raise Conflict("This person is already registered with the organisation.", field="service_user_id",
                       code="already_registered") from error
    return registration


def user_update(*, actor: Actor, user: User, **changes) -> User:
    """Change an account's details. Email is fixed. A staff member's role may change to another staff
    role (a clinician becoming an admin, say); a practitioner who stops being one leaves their teams,
    since only clinicians and peer workers are team members. Service users and carers keep their role:
    theirs is a different kind of account, so a new role there is a new account."""
    allowed = {"full_name", "preferred_name", "phone_number", "is_active", "role"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(f"{sorted(unknown)[0]} cannot be changed.", field=sorted(unknown)[0])
    if changes.get("is_active") is False and user.pk == getattr(actor.user, "pk", None):
        raise Conflict("You cannot deactivate your own account.", field="is_active")
    if "role" in changes and changes["role"] != user.role:
        if user.role not in STAFF_ROLES or changes["role"] not in STAFF_ROLES:
            raise InvalidInput("Only staff roles can change, and only to another staff role (clinician, peer support worker, "
                               "evaluator or administrator).", field="role", code="not_a_staff_role")
        if user.pk == getattr(actor.user, "pk", None):
            raise Conflict("You cannot change your own role: ask another administrator.", field="role")
    with transaction.atomic():
        before = {name: getattr(user, name) for name in changes}
        for name, value in changes.items():
            setattr(user, name, value)
        user.save(update_fields=list(changes) or None)
        if changes.get("is_active") is False:
            AuthToken.objects.filter(user=user).delete()
            access_changed(reason="account_deactivated", user_ids=[user.pk])  # its open sockets close too
        if "role" in changes and before["role"] in PRACTITIONER_ROLES and changes["role"] not in PRACTITIONER_ROLES:
            # No longer a team member: end every membership, as team_member_remove does one at a time.
            for membership in TeamMembership.objects.select_for_update().filter(user=user):
                audit_record(actor=actor, action=A.END, obj=membership, detail={"team": membership.team_id, "user": user.pk, "reason": "role_changed"})
                membership.delete()
            access_changed(reason="team_member_removed", user_ids=[user.pk])
        audit_record(actor=actor, action=A.UPDATE, obj=user, detail={"changed": sorted(n for n in changes if before[n] != changes[n])})
    return user


def phone_number_update(*, actor: Actor, person: User, number: str) -> User:
    """A service user records or changes their own phone number, or a clinician of a team with them on
    its caseload does it for them (so a phone session can go ahead). Stored as E.164; "" clears it."""
    user = actor.user
    is_self = user is not None and user.pk == person.pk and person.role == Role.SERVICE_USER
    is_their_clinician = (
        user is not None and user.role == Role.CLINICIAN and person.role == Role.SERVICE_USER
        and CaseloadEntry.objects.filter(service_user=person, team__memberships__user=user).exists()
    )
    if not (is_self or is_their_clinician):
        raise Forbidden("Only the person, or a clinician of their care team, can change their phone number.")
    try:
        number = normalise_phone_number(number)
    except ValueError as error:
        raise InvalidInput(str(error), field="phone_number", code="invalid_phone_number") from None
    with transaction.atomic():
        changed = person.phone_number != number
        person.phone_number = number
        person.save(update_fields=["phone_number"])
        audit_record(actor=actor, action=A.UPDATE, obj=person, detail={"changed": ["phone_number"] if changed else []})
    return person


# --- Organisations and teams ---------------------------------------------------------------------
def organisation_create(*, actor: Actor, name: str, staff_two_factor_required: bool = True) -> Organisation:
    """A new organisation. Its staff sign in with two factors unless `staff_two_factor_required=False`."""
    with transaction.atomic():
        if Organisation.objects.filter(name__iexact=name).exists():
            raise Conflict("An organisation with this name already exists.", field="name", code="name_taken")
        organisation = Organisation.objects.create(name=name, staff_two_factor_required=staff_two_factor_required)
        audit_record(actor=actor, action=A.CREATE, obj=organisation, detail={"staff_two_factor_required": staff_two_factor_required})
    return organisation


def organisation_update(*, actor: Actor, organisation: Organisation, name: str | None = None,
                        staff_two_factor_required: bool | None = None) -> Organisation:
    changes = {k: v for k, v in {"name": name, "staff_two_factor_required": staff_two_factor_required}.items() if v is not None}
    with transaction.atomic():
        if "name" in changes and Organisation.objects.filter(name__iexact=name).exclude(pk=organisation.pk).exists():
            raise Conflict("An organisation with this name already exists.", field="name", code="name_taken")
        for field, value in changes.items():
            setattr(organisation, field, value)
        if changes:
            organisation.save(update_fields=list(changes))
        audit_record(actor=actor, action=A.UPDATE, obj=organisation, detail={"changed": sorted(changes), **(
            {"staff_two_factor_required": staff_two_factor_required} if staff_two_factor_required is not None else {})})
    return organisation


def team_create(
    *, actor: Actor, organisation: Organisation, name: str, service: str, site: str,
    phone_number: str = "", face_to_face_address: str = "", opening_hours: str = "",
) -> Team:
    with transaction.atomic():
        if organisation.teams.filter(name__iexact=name).exists():
            raise Conflict("This organisation already has a team with this name.", field="name", code="name_taken")
        team = Team.objects.create(
            organisation=organisation, name=name, service=service, site=site,
            phone_number=phone_number, face_to_face_address=face_to_face_address, opening_hours=opening_hours,
        )
        audit_record(actor=actor, action=A.CREATE, obj=team)
    return team


def team_update(*, actor: Actor, team: Team, **changes) -> Team:
    with transaction.atomic():
        if "name" in changes and team.organisation.teams.filter(name__iexact=changes["name"]).exclude(pk=team.pk).exists():
            raise Conflict("This organisation already has a team with this name.", field="name", code="name_taken")
        for name, value in changes.items():
            setattr(team, name, value)
        if changes:
            team.save(update_fields=list(changes))
        audit_record(actor=actor, action=A.UPDATE, obj=team, detail={"changed": sorted(changes)})
    return team


def team_member_add(*, actor: Actor, team: Team, user: User) -> TeamMembership:
    if user.role not in PRACTITIONER_ROLES:
        raise InvalidInput("Only clinicians and peer workers can be team members.", field="user_id", code="wrong_role")
    if user.organisation_id != team.organisation_id:
        raise InvalidInput("This person works for another organisation than the team's.", field="user_id", code="other_organisation")
    try:
        with transaction.atomic():
            membership = TeamMembership.objects.create(team=team, user=user)
            audit_record(actor=actor, action=A.CREATE, obj=membership, detail={"team": team.pk, "user": user.pk})
    except IntegrityError as error:
        raise Conflict("This person is already in the team.", field="user_id", code="already_member") from error
    return membership


def team_member_remove(*, actor: Actor, team: Team, user: User) -> None:
    with transaction.atomic():
        membership = TeamMembership.objects.select_for_update().filter(team=team, user=user).first()
        if membership is None:
            raise Conflict("This person is not in the team.", field="user_id", code="not_member")
        audit_record(actor=actor, action=A.END, obj=membership, detail={"team": team.pk, "user": user.pk})
        membership.delete()
        access_changed(reason="team_member_removed", user_ids=[user.pk])


def caseload_add(*, actor: Actor, team: Team, service_user: User) -> CaseloadEntry:
    """Take a service user onto a team's caseload. They must be registered with the team's organisation;
    anyone else answers as the selectors' unknown id does (NOT_ADMISSIBLE), whatever the reason."""
    registered = OrganisationRegistration.objects.filter(organisation_id=team.organisation_id, service_user=service_user).exists()
    if service_user.role != Role.SERVICE_USER or not registered:
        raise NotFound(NOT_ADMISSIBLE, field="service_user_id")
    try:
        with transaction.atomic():
            entry = CaseloadEntry.objects.create(team=team, service_user=service_user, added_by=actor.user)
            audit_record(actor=actor, action=A.CREATE, obj=entry, detail={"team": team.pk, "service_user": service_user.pk})
    except IntegrityError as error:
        raise Conflict("This person is already on the team's caseload.", field="service_user_id", code="already_on_caseload") from error
    return entry


def caseload_remove(*, actor: Actor, team: Team, service_user: User) -> None:
    with transaction.atomic():
        entry = CaseloadEntry.objects.select_for_update().filter(team=team, service_user=service_user).first()
        if entry is None:
            raise Conflict("This person is not on the team's caseload.", field="service_user_id", code="not_on_caseload")
        audit_record(actor=actor, action=A.END, obj=entry, detail={"team": team.pk, "service_user": service_user.pk})
        entry.delete()
        # The team's practitioners may no longer see the person (their risk flags, their record).
        access_changed(reason="caseload_removed", user_ids=team.memberships.values_list("user_id", flat=True),
                       service_user_id=service_user.pk)


# --- Carer links ---------------------------------------------------------------------------------
def carer_link_create(*, actor: Actor, service_user: User, carer_email: str, relationship: str) -> CarerLink:
    """A service user proposes to involve a carer, friend or family member. Nobody else can make the link.

    The proposal is pending until the carer accepts it, and looks the same whether or not the email
    has a carer account (the person learns nobody's name from it): with no account yet, it waits for
    a carer account with that email (user_create attaches it).
    """
    if actor.user is None or actor.user.pk != service_user.pk or service_user.role != Role.SERVICE_USER:
        raise Forbidden("Only the service user can choose who to involve in their care.")
    email = User.objects.normalize_email(carer_email.strip()).lower()
    carer = User.objects.filter(email=email, role=Role.CARER, is_active=True).first()
    try:
        with transaction.atomic():
            link = CarerLink.objects.create(service_user=service_user, carer=carer, carer_email=email, relationship=relationship)
            audit_record(actor=actor, action=A.CREATE, obj=link,
                         detail={"carer": carer.pk if carer else None, "relationship": relationship, "state": "pending"})
    except IntegrityError as error:
        raise Conflict("You have already asked this person to be involved.", field="carer_email", code="already_linked") from error
    return link


def _pending_link_of(actor: Actor, link: CarerLink) -> CarerLink:
    """The link, locked, if `actor` is its carer and it still waits for them; otherwise a domain error."""
    if actor.user is None or link.carer_id != actor.user.pk:
        raise Forbidden("Only the person asked can accept or decline.")
    locked = CarerLink.objects.select_for_update().get(pk=link.pk)
    if locked.ended_at is not None or locked.accepted_at is not None:
        raise Conflict(f"This request has already been {'accepted' if locked.accepted_at else 'ended'}.", code="not_pending")
    return locked


def carer_link_accept(*, actor: Actor, link: CarerLink) -> CarerLink:
    """The carer accepts a proposal: from now the link shares what the person's consent allows."""
    with transaction.atomic():
        locked = _pending_link_of(actor, link)
        locked.accepted_at = timezone.now()
        locked.save(update_fields=["accepted_at"])
        audit_record(actor=actor, action=A.UPDATE, obj=locked, detail={"state": "accepted"})
    return locked


def carer_link_decline(*, actor: Actor, link: CarerLink) -> CarerLink:
    """The carer declines a proposal. It ends, kept as history, and never shared anything."""
    with transaction.atomic():
        locked = _pending_link_of(actor, link)
        locked.declined_at = locked.ended_at = timezone.now()
        locked.ended_by = actor.user
        locked.save(update_fields=["declined_at", "ended_at", "ended_by"])
        audit_record(actor=actor, action=A.END, obj=locked, detail={"state": "declined"})
    return locked


def carer_link_end(*, actor: Actor, link: CarerLink) -> CarerLink:
    """End a link: the service user withdrawing it, the carer stepping back, or an admin. Kept as history."""
    user = actor.user
    if user is None or not (user.pk in (link.service_user_id, link.carer_id) or user.role == Role.ADMIN):
        raise Forbidden("Only the service user (or the carer themselves) can end this link.")
    with transaction.atomic():
        locked = CarerLink.objects.select_for_update().get(pk=link.pk)
        if locked.ended_at is not None:
            raise Conflict("This link has already ended.", code="already_ended")
        locked.ended_at = timezone.now()
        locked.ended_by = user
        locked.save(update_fields=["ended_at", "ended_by"])
        audit_record(actor=actor, action=A.END, obj=locked)
        access_changed(reason="carer_link_ended", user_ids=[locked.carer_id], service_user_id=locked.service_user_id)
    return locked


def service_user_from_reference(*, actor: Actor, organisation: Organisation, reference: str, team: Team) -> tuple[User, bool]:
    """The service user an import's reference names, created (on the team's caseload, unable to log in
    until invited) if the organisation has not seen the reference before. Returns (user, created)."""
    existing = ServiceUserReference.objects.select_related("service_user").filter(organisation=organisation, reference=reference).first()
    if existing is not None:
        return existing.service_user, False
    with transaction.atomic():
        user = user_create(
            actor=actor, email=f"ref-{organisation.pk}-{slugify(reference)}-{secrets.token_hex(4)}@imported.invalid",
            full_name=f"Imported record {reference}", role=Role.SERVICE_USER, password=None, organisation=organisation,
        )
        ServiceUserReference.objects.create(organisation=organisation, reference=reference, service_user=user)
        caseload_add(actor=actor, team=team, service_user=user)
    return user, True

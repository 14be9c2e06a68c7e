"""Test data, made through the real services (so every row is one the product would write).

Accounts are created without a password (the service then makes them unable to log in) because
Argon2 hashing costs ~0.1 s; tests of logging in give a password explicitly.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from backend.accounts import services
from backend.accounts.models import CarerLink, Organisation, Role, Team, User
from backend.audit.actor import Actor

SYSTEM = Actor.system(via="test")
_numbers = itertools.count(1)


def make_user(role: Role, *, email: str | None = None, full_name: str | None = None, password: str | None = None, **fields) -> User:
    n = next(_numbers)
    return services.user_create(
        actor=SYSTEM, email=email or f"{role}{n}@example.test", full_name=full_name or f"{role.label} {n}",
        role=role, password=password, **fields,
    )


def make_team(organisation: Organisation | None = None, name: str | None = None) -> Team:
    organisation = organisation or services.organisation_create(actor=SYSTEM, name=f"Trust {next(_numbers)}")
    return services.team_create(
        actor=SYSTEM, organisation=organisation, name=name or f"Team {next(_numbers)}", service="Talking therapies", site="Leeds"
    )


def link_carer(service_user: User, carer: User, relationship=CarerLink.Relationship.PARENT) -> CarerLink:
    return services.carer_link_create(
        actor=Actor(service_user, via="test"), service_user=service_user, carer_email=carer.email, relationship=relationship
    )


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

    def as_role(self, role: str) -> User | None:
        """The account that plays `role` in permission tests (None: anonymous)."""
        return {
            "clinician": self.clinician, "peer_worker": self.peer_worker, "service_user": self.service_user,
            "carer": self.carer, "evaluator": self.evaluator, "admin": self.admin, "anonymous": None,
        }[role]


def build_world() -> World:
    organisation = services.organisation_create(actor=SYSTEM, name=f"Test Trust {next(_numbers)}")
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
    return World(
        organisation=organisation, north=north, south=south, clinician=clinician, other_clinician=other_clinician,
        peer_worker=peer_worker, service_user=service_user, other_service_user=other_service_user, carer=carer,
        unlinked_carer=unlinked_carer, evaluator=make_user(Role.EVALUATOR), admin=make_user(Role.ADMIN),
        carer_link=link_carer(service_user, carer),
    )

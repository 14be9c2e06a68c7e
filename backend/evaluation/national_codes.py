"""NHS Talking Therapies data set codes for care contacts, worked out from what Rapport records.

Each code is an NHS Data Dictionary national code (docs/data-dictionary.md names the element and its
page); every rule for reaching it from Rapport's fields is here, so the care_contacts dataset, its
dictionary and the tests share one statement of it. Pure functions over plain values.

Codes Rapport cannot honestly produce are never produced: 6 (attended late) and 7 (arrived late and
could not be seen) need the time the person arrived against the time the practitioner was ready,
which Rapport does not record.

Group meetings (backend/groups) give one care contact per attendee per meeting, in therapy mode 3.
"""

from __future__ import annotations

from backend.accounts.models import Role
from backend.consent.models import Modality
from backend.groups.models import GroupAttendee, GroupSession
from backend.sessions.models import Appointment

# CONSULTATION MECHANISM (MENTAL HEALTH): how the practitioner and the person communicated.
FACE_TO_FACE, TELEPHONE, VIDEO_CONSULTATION = "01", "02", "11"
CONSULTATION_MECHANISMS = {Modality.FACE_TO_FACE: FACE_TO_FACE, Modality.PHONE: TELEPHONE, Modality.VIDEO: VIDEO_CONSULTATION}

# ATTENDED OR DID NOT ATTEND CODE.
ATTENDED, ATTENDED_LATE, CANCELLED_BY_PATIENT, DID_NOT_ATTEND, CANCELLED_BY_PROVIDER = "5", "6", "2", "3", "4"
# Who cancelled, by their role: the person (or someone for them) or the service.
_CANCELLED_BY = {Role.SERVICE_USER: CANCELLED_BY_PATIENT, Role.CARER: CANCELLED_BY_PATIENT,
                 Role.CLINICIAN: CANCELLED_BY_PROVIDER, Role.PEER_WORKER: CANCELLED_BY_PROVIDER,
                 Role.ADMIN: CANCELLED_BY_PROVIDER}

# Therapy mode: an appointment is one person's (a carer or guest joining does not make it a group);
# a group meeting (backend/groups) is a group's, for each attendee.
INDIVIDUAL, GROUP = "1", "3"


def consultation_mechanism(modality: str | None) -> str | None:
    """The mechanism code of a modality (None when there is none)."""
    return CONSULTATION_MECHANISMS.get(modality) if modality else None


def attendance_code(status: str, cancelled_by_role: str | None) -> str | None:
    """The attendance code of an appointment's status: 5 attended (the session ran and ended), 3 did
    not attend, 2 or 4 by who cancelled; None while it is open (not yet concluded), and for a
    cancellation whose canceller is not known."""
    if status == Appointment.Status.ENDED:
        return ATTENDED
    if status == Appointment.Status.DID_NOT_ATTEND:
        return DID_NOT_ATTEND
    if status == Appointment.Status.CANCELLED:
        return _CANCELLED_BY.get(cancelled_by_role) if cancelled_by_role else None
    return None


# A group meets through Janus (a VideoRoom), so its planned mechanism is video; there is no phone or
# face-to-face group in Rapport. An attendee without video consent joins audio only through the same room:
# coded 11 all the same, as a one-to-one video session that went on as audio only is.
GROUP_MECHANISM = VIDEO_CONSULTATION


def group_attendance_code(group_status: str, attendance: str) -> str | None:
    """The attendance code of one attendee at one group meeting, from the register: attended or left early
    is 5 (they were seen: leaving early is still attending, and the register keeps which in its own column),
    did not attend is 3. A cancelled meeting is 4: only the service can cancel a group meeting (an attendee
    can only stay away). None while the register is not yet kept (the meeting has not ended)."""
    if group_status == GroupSession.Status.CANCELLED:
        return CANCELLED_BY_PROVIDER
    if attendance in (GroupAttendee.Attendance.ATTENDED, GroupAttendee.Attendance.LEFT_EARLY):
        return ATTENDED
    if attendance == GroupAttendee.Attendance.DID_NOT_ATTEND:
        return DID_NOT_ATTEND
    return None

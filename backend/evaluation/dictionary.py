"""The data dictionary: every column of every dataset, in one place.

Exports write their columns in this order with these types; the dictionary shipped inside each
export and `docs/data-dictionary.md` are both made from it (`python manage.py export_evaluation
--dictionary`; tests/evaluation/test_dictionary.py fails when the document drifts). A column that is
not here cannot be exported.

Nothing here names a person: no names, emails, phone numbers, free-text notes (delivery notes,
cancellation reasons, safety check notes and locations, consent notes) or locations. Team and site
are exported because they describe the service, not the person.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.accounts.models import Role
from backend.consent.models import ConsentRecord, Modality
from backend.messaging.models import Message
from backend.network.models import Category, MapSnapshot, Resource, SignpostFollowUp
from backend.outcomes.models import Response
from backend.peerwork.models import Domain, Informant, SupervisionTopic
from backend.sessions.models import Appointment, CourseOfCare, Participant


def _codes(*values: str) -> str:
    return ", ".join(f"`{v}`" for v in values)


# Types, as written in the dictionary. Each has one pandas dtype and one Parquet type (exports.py).
STRING, INTEGER, NUMBER, BOOLEAN, DATE = "string", "integer", "number", "boolean", "date"
TYPE_MEANINGS = {
    STRING: "text",
    INTEGER: "whole number; empty when not known",
    NUMBER: "decimal number; empty when not known",
    BOOLEAN: "true or false",
    DATE: "a date, YYYY-MM-DD (exact or shifted), or a month, YYYY-MM, when the export coarsens dates",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    meaning: str
    allowed: str
    source: str


@dataclass(frozen=True)
class Dataset:
    code: str
    title: str
    unit: str  # what one row is
    columns: tuple[Column, ...]
    filters: frozenset[str]  # the filters that apply to it
    formats: tuple[str, ...] = ("csv", "parquet", "xlsx")  # formats.FORMATS it can be written in

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]


PERSON = Column(
    "person", STRING, "The service user's pseudonym: the same in every export and dataset, never their identity.",
    "P followed by 16 hexadecimal digits", "HMAC-SHA256 of the account id under the deployment's pseudonym key",
)
TEAM = Column("team", STRING, "The team the appointment was with.", "team names", "accounts.Team.name")
SITE = Column("site", STRING, "Where the team is based.", "site names", "accounts.Team.site")
SERVICE = Column("service", STRING, "The kind of service the team provides.", "service names", "accounts.Team.service")
MODALITIES = _codes(*Modality.values)
APPOINTMENT = Column("appointment", STRING, "The appointment's reference, stable across exports (outcome datasets point at it).",
                     "A followed by 16 hexadecimal digits", "HMAC-SHA256 of the appointment id under the pseudonym key")
COURSE = Column("course", STRING, "The course of care's reference, stable across exports (never a reference from another system).",
                "C followed by 16 hexadecimal digits; empty if the appointment is in no course",
                "HMAC-SHA256 of the course id under the pseudonym key")
STATUSES = ("attended", "did_not_attend", "cancelled", "open")

SESSIONS = Dataset(
    code="sessions",
    title="Sessions",
    unit="one row per appointment",
    filters=frozenset({"date_from", "date_to", "team", "site", "modality"}),
    columns=(
        APPOINTMENT,
        PERSON,
        COURSE,
        Column("date", DATE, "The day of the appointment, per the export's date setting.", "see type",
               "telesessions.Appointment.starts_at"),
        TEAM, SITE, SERVICE,
        Column("kind", STRING, "What the appointment was for.", _codes(*Appointment.Kind.values), "telesessions.Appointment.kind"),
        Column("practitioner_role", STRING, "The role of the practitioner the appointment was with.",
               _codes(Role.CLINICIAN, Role.PEER_WORKER), "accounts.User.role of the practitioner"),
        Column("offered_video", BOOLEAN, "Video was offered at booking.", "true, false", "telesessions.Appointment.modalities_offered"),
        Column("offered_phone", BOOLEAN, "Phone was offered at booking.", "true, false", "telesessions.Appointment.modalities_offered"),
        Column("offered_face_to_face", BOOLEAN, "Face to face was offered at booking (always, by design).", "true, false",
               "telesessions.Appointment.modalities_offered"),
        Column("chosen_modality", STRING, "How the service user chose to be seen; empty if they made no choice before the cut-off.",
               MODALITIES, "telesessions.Appointment.chosen_modality"),
        Column("delivered_modality", STRING, "How the session was delivered; empty if it did not happen.", MODALITIES,
               "telesessions.Appointment.delivered_modality"),
        Column("modality", STRING,
               "The modality the appointment counts under in the report: delivered if it happened, otherwise chosen; "
               "empty if neither.", MODALITIES, "delivered_modality, else chosen_modality"),
        Column("delivery_reason", STRING, "Why the delivered modality differs from the chosen one (coded; the free-text note is never exported).",
               _codes(*Appointment.DeliveryReason.values), "telesessions.Appointment.delivery_reason"),
        Column("switch_count", INTEGER, "How many times the session switched modality while it ran.", "0 or more",
               "telesessions.AppointmentEvent (modality_switched)"),
        Column("switched_to", STRING, "Each switch's destination in order, separated by semicolons.",
               _codes("phone", "audio_only", "video") + ", joined by ;", "telesessions.AppointmentEvent (modality_switched) data.to"),
        Column("switch_reasons", STRING, "Each switch's coded reason in order, separated by semicolons.",
               _codes(*Appointment.DeliveryReason.values) + ", joined by ;", "telesessions.AppointmentEvent (modality_switched) data.reason"),
        Column("delivery_recorded_after", BOOLEAN, "The practitioner recorded how the session was delivered after it happened.",
               "true, false", "telesessions.AppointmentEvent (delivery_recorded)"),
        Column("status", STRING,
               "What became of the appointment: attended (the session ran and ended), did_not_attend, cancelled, or open "
               "(not yet concluded).", _codes(*STATUSES), "telesessions.Appointment.status"),
        Column("cancelled_by_role", STRING, "For cancelled appointments, the role of who cancelled.",
               _codes(*Role.values), "accounts.User.role of telesessions.Appointment.cancelled_by"),
        Column("booked_minutes", INTEGER, "The length the appointment was booked for, in minutes.", "1 or more",
               "telesessions.Appointment.duration_minutes"),
        Column("duration_minutes", NUMBER, "How long the session ran, from start to end, in minutes (one decimal).",
               "0 or more; empty if it did not run", "telesessions.Appointment.started_at, ended_at"),
        Column("days_to_earliest_face_to_face", INTEGER, "Days from booking to the earliest face-to-face slot offered.",
               "0 or more; empty if not recorded", "telesessions.Appointment.created_at, earliest_face_to_face_slot"),
        Column("days_to_earliest_remote", INTEGER, "Days from booking to the earliest remote slot offered.",
               "0 or more; empty if not recorded", "telesessions.Appointment.created_at, earliest_remote_slot"),
        Column("connection_samples", INTEGER, "How many connection statistics samples the call's browsers sent.", "0 or more",
               "telesessions.ConnectionSample"),
        Column("median_round_trip_ms", NUMBER, "Median round-trip time over the call, in milliseconds.", "0 or more; empty without samples",
               "telesessions.ConnectionSample.round_trip_ms"),
        Column("median_packet_loss_pct", NUMBER, "Median inbound packet loss over the call, in percent.", "0 to 100; empty without samples",
               "telesessions.ConnectionSample.packet_loss_pct"),
        Column("median_jitter_ms", NUMBER, "Median jitter over the call, in milliseconds.", "0 or more; empty without samples",
               "telesessions.ConnectionSample.jitter_ms"),
        Column("median_inbound_kbps", NUMBER, "Median inbound bitrate over the call, in kilobits per second.", "0 or more; empty without samples",
               "telesessions.ConnectionSample.inbound_kbps"),
        Column("median_seconds_to_connect", NUMBER, "Median time for a peer connection to first connect, in seconds.",
               "0 or more; empty if none connected", "telesessions.IceStateChange"),
        Column("reconnects", INTEGER, "How many times a connection came back after dropping.", "0 or more", "telesessions.IceStateChange"),
        Column("run_by_booked_practitioner", BOOLEAN,
               "The session was run by the practitioner it was booked with (false: a colleague of the team covered); empty if it never started.",
               "true, false", "telesessions.Appointment.run_by"),
        Column("run_by_role", STRING, "The role of who actually ran the session; empty if it never started.",
               _codes(Role.CLINICIAN, Role.PEER_WORKER), "accounts.User.role of telesessions.Appointment.run_by"),
        Column("guest_roles", STRING,
               "The roles of the guests the clinician added to the session, semicolon-separated in the order added; empty if none.",
               _codes(*Participant.GuestRole.values), "telesessions.Participant.guest_role"),
        Column("interpreter_languages", STRING,
               "The languages of the interpreters added, semicolon-separated, as the clinician wrote them; empty if none.",
               "free text", "telesessions.Participant.guest_language"),
    ),
)

CONSENT = Dataset(
    code="consent",
    title="Consent states over time",
    unit="one row per consent decision",
    filters=frozenset({"date_from", "date_to", "team", "site"}),
    columns=(
        PERSON,
        Column("date", DATE, "The day the decision was recorded (for one imported from an earlier system, the day it was made "
               "there), per the export's date setting.", "see type",
               "consent.ConsentRecord.recorded_at"),
        Column("purpose", STRING, "What the decision was about (the purpose's stable code).",
               "the consent purpose codes, e.g. `remote_care`, `video`, `carer_involvement`, `evaluation`", "consent.ConsentPurpose.code"),
        Column("decision", STRING, "The decision.", _codes(*ConsentRecord.Decision.values), "consent.ConsentRecord.decision"),
        Column("wording_version", INTEGER, "The version of the wording the decision was made against.", "1 or more",
               "consent.ConsentWording.version"),
        Column("method", STRING, "How it was recorded: `online` by the person, `verbal` by a clinician, `written` on a signed form "
               "(imported from an earlier system, with the form's reference).", _codes(*ConsentRecord.Method.values),
               "consent.ConsentRecord.method"),
        Column("concerns_a_carer", BOOLEAN, "The decision is about involving a named carer (who is never exported).", "true, false",
               "consent.ConsentRecord.carer"),
        Column("shares_outcomes", BOOLEAN, "For carer decisions given: questionnaire scores are shared with the carer too.", "true, false",
               "consent.ConsentRecord.share_outcomes"),
    ),
)

# --- NHS Talking Therapies care contacts ---------------------------------------------------------------
# The NHS Data Dictionary pages each code was checked against (national_codes.py holds the rules).
NHS_DD = "https://archive.datadictionary.nhs.uk/DD%20Release%20June%202026/data_elements"
MECHANISM_PAGE = f"{NHS_DD}/consultation_mechanism_mental_health.html"
MECHANISM_CODES_PAGE = "https://v3.datadictionary.nhs.uk/data_dictionary/attributes/c/cons/consultation_mechanism_de.asp?shownav=0"
ATTENDANCE_PAGE = f"{NHS_DD}/attended_or_did_not_attend_code.html"
UNVERIFIED = ("the element and its codes could not be checked against a published NHS Data Dictionary page when this was written "
              "(docs/evaluation.md, National data set codes)")

GROUP_REF = Column("group", STRING, "The group meeting's reference, stable across exports: the groups dataset's row.",
                   "G followed by 16 hexadecimal digits", "HMAC-SHA256 of the group meeting's id under the pseudonym key")
_GROUP_ROW = "For a group meeting's row (one per attendee in evaluation per meeting: therapy_mode 3): "

CARE_CONTACTS = Dataset(
    code="care_contacts",
    title="Care contacts in NHS Talking Therapies data set codes",
    unit="one row per appointment, and one per attendee per group meeting, shaped like the NHS Talking Therapies (IAPT) data "
         "set's care contact",
    filters=frozenset({"date_from", "date_to", "team", "site", "modality"}),
    columns=(
        Column("appointment", STRING, "The appointment's reference, stable across exports (outcome datasets point at it).",
               "A followed by 16 hexadecimal digits; empty for a group meeting's row (see group)",
               "HMAC-SHA256 of the appointment id under the pseudonym key"),
        PERSON,
        Column("course", STRING, "The course of care's reference, stable across exports (never a reference from another system).",
               "C followed by 16 hexadecimal digits; empty if the appointment is in no course, and for a group meeting (a group "
               "is not part of any one person's course)", "HMAC-SHA256 of the course id under the pseudonym key"),
        Column("date", DATE, "The care contact date: the day the appointment (or group meeting) was booked for, per the export's "
               "date setting (shifted by the person's own offset, as their other rows).", "see type",
               "telesessions.Appointment.starts_at; groups.GroupSession.starts_at"),
        Column("team", STRING, "The team the appointment or group meeting was with.", "team names", "accounts.Team.name"),
        SITE,
        Column("consultation_mechanism", STRING,
               "How the practitioner and the person communicated, as a national code: 01 face to face, 02 telephone, 11 video "
               "consultation. From the DELIVERED modality when the contact happened, otherwise the one the person chose (what was "
               "planned); empty if neither is known. A video call that fell back to phone is 02: the delivered modality follows a "
               "switch to phone, however much of the session was on video (switched_to says so). A video call that went on as audio "
               "only (cameras off, same connection) stays 11: Rapport keeps it a video session; audio_only_during_video marks it, "
               "for an analyst who would code it otherwise. " + _GROUP_ROW + "always 11: every group meets in a video room (Janus); "
               "an attendee without video consent joins the same room audio only, coded 11 like a one-to-one session that went on "
               "as audio only, with audio_only_during_video true.",
               "`01`, `02`, `11`; empty if unknown",
               f"NHS Data Dictionary CONSULTATION MECHANISM (MENTAL HEALTH), used by the IAPT data set, {MECHANISM_PAGE} (code 11 "
               f"'Video Consultation': {MECHANISM_CODES_PAGE}); from telesessions.Appointment.delivered_modality, else "
               "chosen_modality; 11 for groups.GroupSession"),
        Column("mechanism_delivered", BOOLEAN, "consultation_mechanism is how the contact was delivered (false: how it was planned, "
               "for a contact that did not happen). " + _GROUP_ROW + "true when the register says they attended or left early.",
               "true, false; empty when consultation_mechanism is",
               "telesessions.Appointment.delivered_modality; groups.GroupAttendee.attendance"),
        Column("switched_to", STRING, "Each switch of modality while the session ran, in order, separated by semicolons (never for a "
               "group meeting: a group does not switch).",
               _codes("phone", "audio_only", "video") + ", joined by ;; empty if none", "telesessions.AppointmentEvent (modality_switched) data.to"),
        Column("audio_only_during_video", BOOLEAN, "The video session went on as audio only at some point (coded 11 all the same). "
               + _GROUP_ROW + "the attendee attended without video consent, so joined audio only (an attendee turning their own camera "
               "off is not recorded).", "true, false",
               "telesessions.AppointmentEvent (modality_switched) data.to = audio_only; groups.GroupAttendee.video_allowed"),
        Column("attendance_code", STRING,
               "Whether the contact took place, as a national code: 5 attended (the session ran and ended; Rapport's `ended`, "
               "including imported historic contacts recorded as attended); 3 did not attend (`did_not_attend`: no advance warning); "
               "2 cancelled by, or on behalf of, the person (`cancelled` by the service user, or a carer); 4 cancelled by the service "
               "(`cancelled` by a clinician, peer worker or administrator: Rapport records who cancelled, not on whose behalf, so a "
               "practitioner cancelling at the person's request is 4). 6 (arrived late but seen) and 7 (arrived late, not seen) are "
               "never produced: Rapport does not record when the person arrived against when the practitioner was ready. Empty for "
               "a contact not yet concluded (0, 'occurs in the future', is not given) and for a cancellation by someone unknown. "
               + _GROUP_ROW + "from the register (group_attendance): attended or left early is 5, did not attend 3; a cancelled "
               "meeting is 4 (only the service cancels a group meeting); empty until the meeting ends.",
               "`5`, `3`, `2`, `4`; empty while open",
               f"NHS Data Dictionary ATTENDED OR DID NOT ATTEND CODE, used by the IAPT data set, {ATTENDANCE_PAGE}; from "
               "telesessions.Appointment.status and the role of cancelled_by; groups.GroupAttendee.attendance"),
        Column("status", STRING, "Rapport's own outcome of the appointment, which attendance_code is worked out from (for a group "
               "meeting: attended or left early is `attended`, did not attend `did_not_attend`, a cancelled meeting `cancelled`, "
               "otherwise `open`).", _codes(*STATUSES), "telesessions.Appointment.status; groups.GroupAttendee.attendance"),
        Column("cancelled_by_role", STRING, "For cancelled appointments, the role of who cancelled (empty for group meetings: Rapport "
               "does not record who cancelled one).", _codes(*Role.values),
               "accounts.User.role of telesessions.Appointment.cancelled_by"),
        Column("planned", BOOLEAN,
               "The contact was planned (booked in advance). Always true: Rapport has no unplanned contacts; every appointment and "
               "group meeting is booked before it happens, and imported historic ones were appointments too. The data set element's "
               f"name and codes are not given: {UNVERIFIED}.", "true", "telesessions.Appointment, groups.GroupSession (every one is booked)"),
        Column("therapy_mode", STRING,
               "Who the contact was with, as the issue gives the codes: 1 individual (one person's appointment: a carer, interpreter "
               "or other guest joining does not make it a group), 3 group (a group meeting, backend/groups: one row per attendee). "
               f"For this element {UNVERIFIED}.", "`1`, `3`",
               "telesessions.Appointment (one service user each): 1; groups.GroupSession: 3"),
        Column("duration_minutes", INTEGER,
               "How long the contact lasted, from the session's start to its end, in whole minutes (rounded). Empty if it did not "
               "run, or its end was not recorded (imported historic contacts). " + _GROUP_ROW + "the attendee's own time in the "
               "room (the register's attended time, which the facilitator may correct), empty if they did not attend or the meeting "
               f"has not ended. The data set's duration element: {UNVERIFIED}.",
               "0 or more; empty if not known", "telesessions.Appointment.started_at, ended_at; groups.GroupAttendee.attended_seconds"),
        Column("kind", STRING, "What the appointment was for, as Rapport codes it: not the data set's appointment type code, since "
               f"{UNVERIFIED}. `group` for a group meeting (Rapport's own code too).", _codes(*Appointment.Kind.values, "group"),
               "telesessions.Appointment.kind; `group` for groups.GroupSession"),
        Column("treatment_appointment", BOOLEAN, "NHS Talking Therapies counts the kind as a treatment appointment: `treatment` or "
               "`assessment_and_treatment` (docs/instruments.md, Finished a course of treatment). Empty for a group meeting: Rapport "
               "does not record whether a group is a treatment (its groups include peer-led groups, carers' courses and Recovery "
               "College sessions).", "true, false; empty for a group meeting", "telesessions.Appointment.kind"),
        Column("practitioner_role", STRING, "The role of the practitioner the contact was with (for a group meeting, its facilitator); "
               "empty for an imported historic contact whose practitioner was not recorded.", _codes(Role.CLINICIAN, Role.PEER_WORKER),
               "accounts.User.role of the practitioner; of groups.GroupSession.facilitator"),
        Column("group", STRING, "The group meeting's reference, stable across exports: the groups dataset's row. Empty for an "
               "appointment.", "G followed by 16 hexadecimal digits; empty for an appointment",
               "HMAC-SHA256 of the group meeting's id under the pseudonym key"),
        Column("group_size", INTEGER, "For a group meeting: how many people were booked into it (every place taken, whatever each "
               "person's consent: how big the group was; who attended is counted only for people in evaluation, in the groups "
               "dataset). Empty for an appointment.", "1 or more; empty for an appointment",
               "groups.GroupAttendee (rows of the meeting)"),
        Column("group_attendance", STRING, "For a group meeting: the register's entry for the attendee (`attended`, `left_early`, "
               "`did_not_attend`), which the facilitator may correct; empty while the meeting has not ended, and for an appointment.",
               _codes("attended", "left_early", "did_not_attend"), "groups.GroupAttendee.attendance"),
        Column("co_facilitator_role", STRING, "For a group meeting: the role of its co-facilitator; empty if it had none, and for an "
               "appointment.", _codes(Role.CLINICIAN, Role.PEER_WORKER), "accounts.User.role of groups.GroupSession.co_facilitator"),
    ),
)

# --- Outcome measures -------------------------------------------------------------------------------
RESPONSE = Column("response", STRING, "The questionnaire response's reference: links an item row to its questionnaire row.",
                  "R followed by 16 hexadecimal digits", "HMAC-SHA256 of the response id under the pseudonym key")
RESPONSE_APPOINTMENT = Column(
    "appointment", STRING, "The appointment the questionnaire was given at (the sessions dataset's row).",
    "A followed by 16 hexadecimal digits; empty if filed without an appointment", "HMAC-SHA256 of the appointment id under the pseudonym key")
RESPONSE_COURSE = Column("course", STRING, "The course of care the questionnaire belongs to (the courses dataset's row).",
                         "C followed by 16 hexadecimal digits", "HMAC-SHA256 of the course id under the pseudonym key")
INSTRUMENT = Column("instrument", STRING, "The questionnaire's stable code.",
                    "`phq9`, `gad7`, `core10`, `swemwbs`, `wsas`, or a service's own questionnaire's code", "outcomes.Instrument.code")
MODE = Column("mode", STRING, "How the questionnaire was completed.", _codes(*Response.Mode.values), "outcomes.Response.mode")
COMPLETED = Column("date", DATE, "The day the questionnaire was completed, per the export's date setting.", "see type",
                   "outcomes.Response.completed_at")
RESPONSE_TEAM = Column("team", STRING, "The team of the course of care.", "team names", "accounts.Team.name (of the course)")
RESPONSE_SITE = Column("site", STRING, "Where that team is based.", "site names", "accounts.Team.site (of the course)")
RESPONSE_MODALITY = Column(
    "modality", STRING, "How the appointment the questionnaire was given at was delivered.",
    MODALITIES + "; empty if filed without an appointment or the appointment did not happen", "telesessions.Appointment.delivered_modality")
RISK_ITEMS = ("PHQ-9 item 9 ('Thoughts that you would be better off dead or of hurting yourself in some way') and CORE-10 item 6 "
              "('I made plans to end my life'), or an item a local questionnaire marks")
RISK_MEANING = ("raises a risk flag for the person's clinicians to review, whatever the total score: any answer above 'Not at all' on "
                "PHQ-9 item 9 or CORE-10 item 6 (docs/instruments.md). A flag means 'ask', not 'at risk': neither questionnaire is a "
                "suicide-risk assessment. Imported historic answers raise no flag for clinicians but are judged here the same way.")
CURRENT_ONLY = ("Only current responses: one corrected later is replaced by its correction (the correction's row says so), never "
                "exported beside it.")

RESPONSES_LONG = Dataset(
    code="responses_long",
    title="Questionnaire answers, one row per item",
    unit="one row per item of each current questionnaire response",
    filters=frozenset({"date_from", "date_to", "team", "site", "modality", "instrument"}),
    columns=(
        RESPONSE, PERSON, RESPONSE_APPOINTMENT, RESPONSE_COURSE, INSTRUMENT,
        Column("item", INTEGER, "The item's number on the form.", "1 or more", "outcomes.InstrumentItem.number"),
        Column("item_loinc", STRING, "The item's LOINC code, where one exists and was verified (docs/instruments.md).",
               "a LOINC code; empty if none", "outcomes.InstrumentItem.loinc"),
        Column("value", INTEGER, "The answer as recorded on the form; empty if the item was left unanswered.",
               "the instrument's option values (0 to 3 for PHQ-9 and GAD-7)", "outcomes.Answer.value"),
        Column("scored_value", INTEGER,
               "The value the item adds to the total: reverse-keyed items (CORE-10 items 2 and 3, and any a local questionnaire "
               "marks) count as lowest option + highest option - value; others as recorded. Empty if unanswered.",
               "the instrument's option values", "outcomes.Answer.value, InstrumentItem.reverse_keyed, InstrumentOption.value"),
        Column("reverse_keyed", BOOLEAN, "The item is reverse keyed.", "true, false", "outcomes.InstrumentItem.reverse_keyed"),
        Column("risk_flag", BOOLEAN,
               f"On a risk item ({RISK_ITEMS}): true when the answer {RISK_MEANING} False when the answer is not above the threshold "
               "or the item was left unanswered. Empty on every other item.",
               "true, false; empty on items that are not risk items", "outcomes.Answer.value, InstrumentItem.risk_above"),
        MODE, COMPLETED, RESPONSE_TEAM, RESPONSE_SITE, RESPONSE_MODALITY,
    ),
)

RESPONSES = Dataset(
    code="responses",
    title="Questionnaires, one row each",
    unit="one row per current questionnaire response",
    filters=frozenset({"date_from", "date_to", "team", "site", "modality", "instrument"}),
    columns=(
        RESPONSE, PERSON, RESPONSE_APPOINTMENT, RESPONSE_COURSE, INSTRUMENT,
        Column("status", STRING, "scored, or incomplete: more items unanswered than the instrument's source allows to prorate.",
               _codes(*Response.Status.values), "outcomes.Response.status"),
        Column("raw_total", INTEGER, "The sum of the item values after reverse keying (prorated where allowed); empty if incomplete.",
               "0 or more", "outcomes.Response.raw_total"),
        Column("score", NUMBER, "The reported score: the raw total, or its published conversion (SWEMWBS metric score); empty if incomplete.",
               "the instrument's score range", "outcomes.Response.score"),
        Column("band", STRING, "The published band the score falls in; empty if incomplete or the instrument has no bands.",
               "the instrument's band labels (docs/instruments.md)", "outcomes.Response.band"),
        Column("at_caseness", BOOLEAN, "The score is at or past the instrument's clinical cut-off; empty if it publishes none or incomplete.",
               "true, false", "outcomes.Response.at_caseness"),
        Column("prorated", BOOLEAN, "The total was prorated from the answered items, as the source allows.", "true, false",
               "outcomes.Response.prorated"),
        Column("unanswered_items", INTEGER, "How many items were left unanswered.", "0 or more", "outcomes.Response.unanswered_items"),
        Column("corrects_earlier", BOOLEAN, "This response corrects an earlier one (which is not exported).", "true, false",
               "outcomes.Response.replaces"),
        Column("risk_item_answer", INTEGER, f"The answer to the questionnaire's risk item ({RISK_ITEMS}; the first by number if a local "
               "questionnaire marks several), as recorded on the form. Empty if the questionnaire has no risk item or it was left unanswered.",
               "the instrument's option values (0 to 3 for PHQ-9 item 9, 0 to 4 for CORE-10 item 6)",
               "outcomes.Answer.value of the item with InstrumentItem.risk_above set"),
        Column("risk_flag", BOOLEAN,
               f"True when the risk item's answer {RISK_MEANING} False when the questionnaire has a risk item whose answer is not above "
               "the threshold or was left unanswered. Empty if the questionnaire has no risk item (GAD-7, SWEMWBS, WSAS).",
               "true, false; empty without a risk item", "risk_item_answer, outcomes.InstrumentItem.risk_above"),
        MODE, COMPLETED, RESPONSE_TEAM, RESPONSE_SITE, RESPONSE_MODALITY,
    ),
)

# The published instruments whose first and last scores the courses dataset carries (local
# questionnaires vary by service and are in the responses datasets).
COURSE_INSTRUMENTS = ("phq9", "gad7", "core10", "swemwbs", "wsas")
COURSE_MODALITIES = (*Modality.values, "mixed", "none")


def _score_columns(code: str) -> tuple[Column, ...]:
    source = f"outcomes.Response.score of current scored {code} responses in the course, by completed_at"
    return (
        Column(f"{code}_scores", INTEGER, f"How many scored {code} questionnaires the course holds.", "0 or more", source),
        Column(f"{code}_first", NUMBER, f"The course's first {code} score; empty if none.", "the instrument's score range", source),
        Column(f"{code}_last", NUMBER, f"The course's last {code} score (so far, for an open course); empty if fewer than two.",
               "the instrument's score range", source),
    )


def _outcome_column(name: str, meaning: str) -> Column:
    return Column(name, BOOLEAN, meaning, "true, false; empty when the course does not count (paired_outcome_counts false)"
                  + (" or, for recovery, was not at caseness at the start" if "recover" in name else ""),
                  "backend.outcomes.reports.paired_outcomes_of (docs/instruments.md, Paired outcomes)")


COURSES = Dataset(
    code="courses",
    title="Courses of care, one row each",
    unit="one row per course of care",
    filters=frozenset({"date_from", "date_to", "team", "site", "modality"}),
    columns=(
        Column("course", STRING, "The course of care's reference, stable across exports.", "C followed by 16 hexadecimal digits",
               "HMAC-SHA256 of the course id under the pseudonym key"),
        PERSON,
        Column("team", STRING, "The team the course is with.", "team names", "accounts.Team.name"),
        Column("site", STRING, "Where the team is based.", "site names", "accounts.Team.site"),
        SERVICE,
        Column("referral_date", DATE, "The day the referral was received, per the export's date setting; empty if not recorded.",
               "see type", "telesessions.CourseOfCare.referral_date"),
        Column("started", DATE, "The day the course started, per the export's date setting.", "see type", "telesessions.CourseOfCare.started_on"),
        Column("ended", DATE, "The day the course ended, per the export's date setting; empty while it is open.", "see type",
               "telesessions.CourseOfCare.ended_on"),
        Column("ended_reason", STRING, "Why the course ended (coded; the free-text note is never exported); empty while open.",
               _codes(*CourseOfCare.EndingReason.values), "telesessions.CourseOfCare.ending_reason"),
        Column("attended_appointments", INTEGER, "Appointments in the course that were attended (the session ran and ended), of any kind.",
               "0 or more", "telesessions.Appointment.status"),
        Column("attended_treatment_appointments", INTEGER,
               "Attended appointments that NHS Talking Therapies counts as treatment: kind `treatment` or `assessment_and_treatment` "
               "(never `assessment` or `review`). Two or more in an ended course is a finished course of treatment.",
               "0 or more", "telesessions.Appointment.status, kind"),
        Column("did_not_attend", INTEGER, "Appointments in the course the person did not attend.", "0 or more", "telesessions.Appointment.status"),
        *(Column(f"attended_{m}", INTEGER, f"Attended appointments delivered by {Modality(m).label.lower()}.", "0 or more",
                 "telesessions.Appointment.delivered_modality") for m in Modality.values),
        Column("modality", STRING,
               "The course's modality: the one more than half of its attended appointments were delivered in; mixed if none had "
               "more than half; none if no attended appointment has a delivered modality (docs/evaluation.md).",
               _codes(*COURSE_MODALITIES), "attended_video, attended_phone, attended_face_to_face"),
        *(column for code in COURSE_INSTRUMENTS for column in _score_columns(code)),
        Column("finished_treatment", BOOLEAN,
               "The course finished a course of treatment, as NHS Talking Therapies publishes it: it has ended having had at least two "
               "attended treatment appointments (attended_treatment_appointments 2 or more). False while open.", "true, false",
               "backend.outcomes.paired.finished_course_of_treatment (docs/instruments.md, Finished a course of treatment)"),
        Column("paired_outcome_counts", BOOLEAN,
               "The course counts in NHS Talking Therapies paired outcomes: it finished a course of treatment (finished_treatment) "
               "and has a first and a last PHQ-9 and GAD-7 score (from every valid score of the course, assessment included).",
               "true, false", "backend.outcomes.reports.paired_outcomes_of (docs/instruments.md, Paired outcomes)"),
        _outcome_column("at_caseness_at_start", "PHQ-9 or GAD-7 at or above its cut-off at its first score."),
        _outcome_column("recovered", "At caseness at the start and neither measure at caseness at the last score."),
        _outcome_column("reliable_improvement", "At least one measure fell by its reliable change threshold or more "
                                                "(PHQ-9 6, GAD-7 4) and neither rose by its threshold."),
        _outcome_column("reliable_deterioration", "At least one measure rose by its threshold or more and neither fell by its threshold."),
        _outcome_column("reliable_recovery", "Recovered and reliably improved."),
    ),
)

# --- FHIR ----------------------------------------------------------------------------------------------
# Not a table: each "column" is an element of the resources written (fhir.py), so the dictionary says
# what every element holds and where it comes from, like any other column.
_Q, _QR, _E, _A, _C = "Questionnaire", "QuestionnaireResponse", "Encounter", "Appointment", "Consent"
_ENCOUNTER_STATUSES = ("planned (scheduled), arrived (someone in the waiting room), in-progress, finished (attended), cancelled "
                       "(cancelled, or did not attend: the R4 status for an encounter that ended before it began)")
_APPOINTMENT_STATUSES = "booked (scheduled), arrived (waiting or in progress), fulfilled (attended), cancelled, noshow (did not attend)"
_ROLES = ("each participant's type as two codings: the v3 ParticipationType (system "
          "http://terminology.hl7.org/CodeSystem/v3-ParticipationType: PPRF primary performer for the practitioner")
FHIR = Dataset(
    code="fhir",
    title="Outcome measures, encounters and consent as HL7 FHIR R4 resources",
    unit=("FHIR Bulk Data NDJSON, one resource per line: `Questionnaire.ndjson` holds one Questionnaire per instrument with "
          "responses in the export, `QuestionnaireResponse.ndjson` one QuestionnaireResponse per current response, "
          "`Encounter.ndjson` and `Appointment.ndjson` one Encounter and one Appointment per appointment (as in the sessions "
          "dataset; left out when an instrument filter is given), `Consent.ndjson` one Consent per consent decision (as in the "
          "consent dataset; left out when an instrument or modality filter is given, since consent is not per appointment)"),
    filters=frozenset({"date_from", "date_to", "team", "site", "modality", "instrument"}),
    formats=("ndjson",),
    columns=(
        Column(f"{_Q}.id", STRING, "The instrument's code, made a valid FHIR id.", "letters, digits, - and .", "outcomes.Instrument.code"),
        Column(f"{_Q}.url", STRING, "The questionnaire's canonical URL, which responses point at.", "urn:rapport:questionnaire:<code>",
               "outcomes.Instrument.code"),
        Column(f"{_Q}.version", STRING, "The instrument's version.", "text", "outcomes.Instrument.version"),
        Column(f"{_Q}.title", STRING, "The instrument's full name.", "text", "outcomes.Instrument.title"),
        Column(f"{_Q}.status", STRING, "active, or retired for an instrument no longer given.", "`active`, `retired`",
               "outcomes.Instrument.is_active"),
        Column(f"{_Q}.copyright", STRING, "Who holds the copyright and what use is allowed.", "text", "outcomes.Instrument.licence"),
        Column(f"{_Q}.code", STRING, "The LOINC code of the panel, where one exists.", "system http://loinc.org", "outcomes.Instrument.loinc_panel"),
        Column(f"{_Q}.item", STRING,
               "One choice item per item of the form (linkId = its number, its wording, its LOINC code where one exists, required), "
               "each with the instrument's answers as answerOption valueCoding (system urn:rapport:questionnaire:<code>:answer, code = "
               "the value, display = the label, with the ordinalValue extension); then a read-only decimal item `score` for the "
               "reported score (LOINC total code where one exists).",
               "see meaning", "outcomes.InstrumentItem, InstrumentOption, Instrument.loinc_total"),
        Column(f"{_QR}.id", STRING, "The response's reference (the same as `response` in the responses datasets).",
               "R followed by 16 hexadecimal digits", "HMAC-SHA256 of the response id under the pseudonym key"),
        Column(f"{_QR}.questionnaire", STRING, "The Questionnaire answered, as its canonical URL and version.",
               "urn:rapport:questionnaire:<code>|<version>", "outcomes.Instrument"),
        Column(f"{_QR}.status", STRING, "Always completed: the person (or clinician) submitted it; unanswered items are left out.",
               "`completed`", "outcomes.Response"),
        Column(f"{_QR}.subject", STRING, "The person, as a reference to their pseudonym only: no Patient resource or identifier is exported.",
               "Patient/P followed by 16 hexadecimal digits", "HMAC-SHA256 of the account id under the pseudonym key"),
        Column(f"{_QR}.encounter", STRING, "The appointment it was given at (the sessions dataset's `appointment`), if any.",
               "Encounter/A followed by 16 hexadecimal digits", "HMAC-SHA256 of the appointment id under the pseudonym key"),
        Column(f"{_QR}.authored", DATE, "The day it was completed, per the export's date setting (a FHIR partial date, YYYY-MM, when "
               "dates are coarsened).", "see type", "outcomes.Response.completed_at"),
        Column(f"{_QR}.item", STRING, "One item per answered item: linkId (the Questionnaire item's, which carries its LOINC code) and "
               "the answer as valueCoding (as in the Questionnaire); then `score` with valueDecimal when the response was scored.", "see meaning",
               "outcomes.Answer.value, Response.score"),
        Column(f"{_E}.id", STRING, "The appointment's reference (the sessions and care_contacts datasets' `appointment`; "
               "QuestionnaireResponse.encounter points at it).", "A followed by 16 hexadecimal digits",
               "HMAC-SHA256 of the appointment id under the pseudonym key"),
        Column(f"{_E}.status", STRING, "What became of the appointment, in R4's encounter statuses.", _ENCOUNTER_STATUSES,
               "telesessions.Appointment.status"),
        Column(f"{_E}.class", STRING,
               "How the contact was made, from the v3 ActCode system (http://terminology.hl7.org/CodeSystem/v3-ActCode): VR "
               "(virtual) for video and phone, AMB (ambulatory) for face to face; from the delivered modality, else the chosen one, "
               "so a video call that fell back to phone is VR either way. UNK (v3 NullFlavor) when neither is known.",
               "`VR`, `AMB`, `UNK`", "telesessions.Appointment.delivered_modality, else chosen_modality"),
        Column(f"{_E}.type", STRING, "The appointment's kind (system urn:rapport:appointment-kind) and, where known, the modality "
               "behind the class (system urn:rapport:modality), which tells video from phone.",
               _codes(*Appointment.Kind.values) + "; " + MODALITIES, "telesessions.Appointment.kind, delivered_modality, chosen_modality"),
        Column(f"{_E}.subject", STRING, "The person, as a reference to their pseudonym only.", "Patient/P followed by 16 hexadecimal digits",
               "HMAC-SHA256 of the account id under the pseudonym key"),
        Column(f"{_E}.episodeOfCare", STRING, "The course of care (the courses dataset's `course`), if any; no EpisodeOfCare resource "
               "is written.", "EpisodeOfCare/C followed by 16 hexadecimal digits", "HMAC-SHA256 of the course id under the pseudonym key"),
        Column(f"{_E}.participant", STRING,
               f"Who took part, by role only (no Practitioner or RelatedPerson is referenced): {_ROLES}, PART for a carer who was "
               "admitted to the session), and the Rapport role (system urn:rapport:role). The person is the subject, not a "
               "participant. Absent when the practitioner is not recorded (imported historic contacts) and no carer joined.",
               "PPRF with `clinician` or `peer_worker`; PART with `carer`", "accounts.User.role of the practitioner; "
               "telesessions.AppointmentEvent (participant_changed: a carer admitted)"),
        Column(f"{_E}.appointment", STRING, "The Appointment resource of the same appointment.", "Appointment/A followed by 16 "
               "hexadecimal digits", "the appointment's reference"),
        Column(f"{_E}.period", DATE, "start: the day the session started (for one that did not run, the day it was booked for); "
               "end: the day it ended, if it did. Days per the export's date setting (a FHIR partial date when coarsened); never a "
               "time of day.", "see type", "telesessions.Appointment.started_at, ended_at, starts_at"),
        Column(f"{_E}.length", NUMBER, "How long the session ran, in minutes (UCUM `min`); absent if it did not run or its end "
               "was not recorded.", "0 or more", "telesessions.Appointment.started_at, ended_at"),
        Column(f"{_A}.id", STRING, "The appointment's reference (the same as its Encounter's).", "A followed by 16 hexadecimal digits",
               "HMAC-SHA256 of the appointment id under the pseudonym key"),
        Column(f"{_A}.status", STRING, "What became of the appointment, in R4's appointment statuses.", _APPOINTMENT_STATUSES,
               "telesessions.Appointment.status"),
        Column(f"{_A}.cancelationReason", STRING,
               "For a cancelled appointment, who cancelled (http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason): "
               "pat (the person, or a carer), prov (the service); absent when not known. The free-text reason is never exported.",
               "`pat`, `prov`", "accounts.User.role of telesessions.Appointment.cancelled_by"),
        Column(f"{_A}.appointmentType", STRING, "The appointment's kind.", _codes(*Appointment.Kind.values) + " (system "
               "urn:rapport:appointment-kind)", "telesessions.Appointment.kind"),
        Column(f"{_A}.start", STRING, "Absent, with the data-absent-reason extension `masked` (on `_start` and `_end`): R4 makes "
               "these instants, with a time of day, which exports never carry. The day is in requestedPeriod.",
               "data-absent-reason `masked`", "telesessions.Appointment.starts_at"),
        Column(f"{_A}.requestedPeriod", DATE, "The day the appointment was booked for (start and end), per the export's date setting.",
               "see type", "telesessions.Appointment.starts_at"),
        Column(f"{_A}.minutesDuration", INTEGER, "The length it was booked for, in minutes.", "1 or more",
               "telesessions.Appointment.duration_minutes"),
        Column(f"{_A}.participant", STRING, "The person (actor Patient/<pseudonym>) and, where recorded, the practitioner by role "
               "only (type PPRF and urn:rapport:role), each with status accepted.", "see meaning",
               "telesessions.Appointment.service_user, accounts.User.role of the practitioner"),
        Column(f"{_C}.id", STRING, "The consent decision's reference, stable across exports.", "D followed by 16 hexadecimal digits",
               "HMAC-SHA256 of the consent record id under the pseudonym key"),
        Column(f"{_C}.status", STRING, "active: consent given and still in force; inactive: a withdrawal, or a consent given and "
               "since replaced by a later decision of the person (for the same purpose and carer); rejected: a refusal.",
               "`active`, `inactive`, `rejected`", "consent.ConsentRecord.decision and later records"),
        Column(f"{_C}.scope", STRING, "What kind of consent it is (http://terminology.hl7.org/CodeSystem/consentscope): research for "
               "evaluation, treatment for remote care and video, patient-privacy for carer involvement and any other purpose.",
               "`research`, `treatment`, `patient-privacy`", "consent.ConsentPurpose.code"),
        Column(f"{_C}.category", STRING, "Always LOINC 59284-0, Patient Consent.", "`59284-0`", "constant"),
        Column(f"{_C}.patient", STRING, "The person, as a reference to their pseudonym only.", "Patient/P followed by 16 hexadecimal digits",
               "HMAC-SHA256 of the account id under the pseudonym key"),
        Column(f"{_C}.dateTime", DATE, "The day the decision was recorded, per the export's date setting.", "see type",
               "consent.ConsentRecord.recorded_at"),
        Column(f"{_C}.policy", STRING, "The wording the decision was made against, as a reference to its purpose and version.",
               "urn:rapport:consent:<purpose>:wording:<version>", "consent.ConsentWording.version"),
        Column(f"{_C}.provision", STRING, "type: permit when consent was given, deny when refused or withdrawn; purpose: the consent "
               "purpose's code (system urn:rapport:consent-purpose). Whom a carer decision concerns is never written.",
               "`permit`, `deny`; the consent purpose codes", "consent.ConsentRecord.decision, ConsentPurpose.code"),
    ),
)

# --- Connection maps and signposting (docs/network.md) ------------------------------------------------
# Measures only: no member's label, relationship to a named person, note or resource name is exported.
_CATEGORY_CODES = "category codes separated by spaces: " + _codes(*Category.values)


def _count(name: str, meaning: str, source: str) -> Column:
    return Column(name, INTEGER, meaning, "0 or more", source)


NETWORK_MAPS = Dataset(
    code="network_maps",
    title="Social connection maps (measures)",
    unit="one row per saved map (snapshot)",
    filters=frozenset({"date_from", "date_to", "team", "site"}),
    columns=(
        PERSON,
        Column("date", DATE, "The day the map was saved, per the export's date setting.", "see type", "network.MapSnapshot.taken_at"),
        Column("setting", STRING, "Where it was made: in a session, with a practitioner outside one, or by the person on their own.",
               _codes(*MapSnapshot.Setting.values), "network.MapSnapshot.setting"),
        _count("members", "Members on the map (people, groups, activities, places and professionals).", "network.MapSnapshot.measures size"),
        _count("circle_1", "Members on circle 1 (closest).", "network.MapSnapshot.measures by_circle"),
        _count("circle_2", "Members on circle 2.", "network.MapSnapshot.measures by_circle"),
        _count("circle_3", "Members on circle 3.", "network.MapSnapshot.measures by_circle"),
        _count("people", "Members who are people.", "network.MapSnapshot.measures by_kind"),
        _count("groups", "Members who are groups.", "network.MapSnapshot.measures by_kind"),
        _count("activities", "Members who are activities.", "network.MapSnapshot.measures by_kind"),
        _count("places", "Members who are places.", "network.MapSnapshot.measures by_kind"),
        _count("professionals", "Members who are professionals or services.", "network.MapSnapshot.measures by_kind"),
        _count("illness_support", "Members giving illness-related support (GENIE's illness work).", "network.MapSnapshot.measures support_counts"),
        _count("everyday_support", "Members giving everyday support (GENIE's everyday work).", "network.MapSnapshot.measures support_counts"),
        _count("emotional_support", "Members giving emotional support (GENIE's emotional work).", "network.MapSnapshot.measures support_counts"),
        Column("support_types_covered", INTEGER, "How many of the three kinds of support at least one member gives.", "0 to 3",
               "network.MapSnapshot.measures support_types_covered"),
        _count("giving_no_support", "Members recorded as giving none of the three kinds of support.", "network.MapSnapshot.measures"),
        _count("linked_carers", "Members who are carers linked in Rapport (never identified).", "network.MapSnapshot.members"),
        Column("interests", STRING, "The person's interests then.", _CATEGORY_CODES, "network.MapSnapshot.interests"),
        Column("needs", STRING, "What the person wanted help with then.", _CATEGORY_CODES, "network.MapSnapshot.needs"),
    ),
)

OUTCOMES_OF_SIGNPOSTS = (*SignpostFollowUp.Outcome.values, "none")
SIGNPOSTS = Dataset(
    code="signposts",
    title="Signposting and its outcomes",
    unit="one row per resource offered to a person",
    filters=frozenset({"date_from", "date_to", "team", "site"}),
    columns=(
        PERSON,
        Column("date", DATE, "The day the resource was offered, per the export's date setting.", "see type", "network.Signpost.offered_on"),
        Column("categories", STRING, "What the resource offers.", _CATEGORY_CODES, "network.Resource.categories"),
        Column("scope", STRING, "Local or national.", _codes(*Resource.Scope.values), "network.Resource.scope"),
        Column("delivery", STRING, "In person, online or both.", _codes(*Resource.Delivery.values), "network.Resource.delivery"),
        Column("offered_by", STRING, "Who offered it: the person themselves, or a practitioner.", _codes("service_user", "clinician", "peer_worker"),
               "accounts.User.role of network.Signpost.offered_by"),
        Column("from_suggestions", BOOLEAN, "Offered from the suggestions for the person's interests and needs.", "true, false",
               "network.Signpost.from_suggestions"),
        Column("follow_up_date", DATE, "When to ask how it went, per the export's date setting.", "see type", "network.Signpost.follow_up_on"),
        Column("outcome", STRING, "The latest outcome recorded (`none`: nothing recorded yet).", _codes(*OUTCOMES_OF_SIGNPOSTS),
               "network.SignpostFollowUp.outcome (latest)"),
        Column("reason", STRING, "Why they did not go (empty otherwise).", _codes(*SignpostFollowUp.Reason.values),
               "network.SignpostFollowUp.reason (latest)"),
        Column("outcome_date", DATE, "The day the latest outcome is about, per the export's date setting; empty when none.", "see type",
               "network.SignpostFollowUp.happened_on (latest)"),
        Column("days_to_outcome", INTEGER, "Days from the offer to the day of the latest outcome (the same whatever the date setting).",
               "0 or more; empty when none", "network.SignpostFollowUp.happened_on - network.Signpost.offered_on"),
    ),
)

# --- Messages (SMS and email) ----------------------------------------------------------------------------
MESSAGES = Dataset(
    code="messages",
    title="Messages sent about appointments",
    unit="one row per text message or email for an appointment (never its content, number or address)",
    filters=frozenset({"date_from", "date_to", "team", "site", "modality"}),
    columns=(
        APPOINTMENT,
        PERSON,
        Column("date", DATE, "The day of the appointment the message was about, per the export's date setting.", "see type",
               "telesessions.Appointment.starts_at"),
        TEAM, SITE,
        Column("kind", STRING, "What the message was.", _codes(*Message.Kind.values), "messaging.Message.kind"),
        Column("channel", STRING, "How it was sent.", _codes(*Message.Channel.values), "messaging.Message.channel"),
        Column("status", STRING, "What became of it: `delivered` (the provider says it arrived), `sent` (the provider took it; no "
               "word of delivery), `failed` (not sent, or did not arrive), `cancelled` (stopped before sending, e.g. the appointment "
               "moved), `queued`/`sending` (not yet).", _codes(*Message.Status.values), "messaging.Message.status"),
        Column("hours_before_appointment", NUMBER, "How long before the appointment's start it was due to be sent (negative: after "
               "it), in hours to one decimal place.", "any number", "messaging.Message.send_after, telesessions.Appointment.starts_at"),
        Column("sent_hours_before_appointment", NUMBER, "How long before the appointment's start the provider took it; empty if it "
               "was never sent.", "any number, or empty", "messaging.Message.sent_at, telesessions.Appointment.starts_at"),
        Column("attempts", INTEGER, "How many times it was handed to a provider (more than 1: retried after a temporary failure).",
               "0 or more", "messaging.Message.attempts"),
        Column("appointment_modality", STRING, "The modality the appointment counts under (as in the sessions dataset: delivered "
               "if it happened, otherwise chosen).", MODALITIES, "telesessions.Appointment.delivered_modality or chosen_modality"),
        Column("appointment_status", STRING, "The appointment's outcome, for attendance: did reminders go with fewer non-attendances?",
               _codes(*STATUSES), "telesessions.Appointment.status"),
    ),
)

# --- Group meetings (backend/groups; docs/evaluation.md, Groups) -----------------------------------------
_IN_EVALUATION = ("Counted among the meeting's attendees in evaluation only (service users whose evaluation consent holds now, "
                  "registered with the organisation): nobody else's attendance is used.")
GROUPS = Dataset(
    code="groups",
    title="Group meetings",
    unit="one row per meeting of a group (each meeting of a recurring group is a row); its attendees are care_contacts rows",
    filters=frozenset({"date_from", "date_to", "team", "site"}),
    columns=(
        GROUP_REF,
        Column("series", STRING, "The recurring group the meeting belongs to: the same for every meeting of one group booked as a "
               "series.", "S followed by 16 hexadecimal digits", "HMAC-SHA256 of groups.GroupSession.series under the pseudonym key"),
        Column("date", DATE, "The day the meeting was booked for, per the export's date setting. Shifted dates move every meeting of "
               "one series by the series' own offset (a meeting is no one person's), so the weeks between meetings hold.", "see type",
               "groups.GroupSession.starts_at"),
        Column("team", STRING, "The team whose group it is.", "team names", "accounts.Team.name"),
        SITE, SERVICE,
        Column("for_carers", BOOLEAN, "A carers' group: its attendees are carers, not service users. Carers give no evaluation consent "
               "in Rapport, so a carers' group's attendance counts are always 0 here: places_booked says how full it was.",
               "true, false", "groups.GroupSession.for_carers"),
        Column("status", STRING, "What became of the meeting.", _codes("scheduled", "in_progress", "ended", "cancelled"),
               "groups.GroupSession.status"),
        Column("facilitator_role", STRING, "The role of the facilitator.", _codes(Role.CLINICIAN, Role.PEER_WORKER),
               "accounts.User.role of groups.GroupSession.facilitator"),
        Column("co_facilitator_role", STRING, "The role of the co-facilitator; empty if none.", _codes(Role.CLINICIAN, Role.PEER_WORKER),
               "accounts.User.role of groups.GroupSession.co_facilitator"),
        Column("capacity", INTEGER, "How many places the meeting had.", "1 or more", "groups.GroupSession.capacity"),
        Column("places_booked", INTEGER, "How many places were taken (every booking, whatever each person's consent: the group's size; "
               "it says nothing about any one person's attendance).", "0 or more", "groups.GroupAttendee (rows of the meeting)"),
        Column("booked_minutes", INTEGER, "The length the meeting was booked for, in minutes.", "1 or more",
               "groups.GroupSession.duration_minutes"),
        Column("duration_minutes", NUMBER, "How long the meeting ran, from start to end, in minutes (one decimal); empty if it did "
               "not run to an end.", "0 or more; empty if not known", "groups.GroupSession.started_at, ended_at"),
        _count("booked", "Attendees booked. " + _IN_EVALUATION, "groups.GroupAttendee"),
        _count("attended", "Attendees the register says attended to the end. " + _IN_EVALUATION, "groups.GroupAttendee.attendance"),
        _count("left_early", "Attendees the register says left early. " + _IN_EVALUATION, "groups.GroupAttendee.attendance"),
        _count("did_not_attend", "Attendees the register says did not attend. " + _IN_EVALUATION, "groups.GroupAttendee.attendance"),
        _count("audio_only", "Attendees who attended (to the end or not) audio only, without video consent. " + _IN_EVALUATION,
               "groups.GroupAttendee.video_allowed"),
        Column("median_attended_minutes", NUMBER, "The median time in the room of those who attended (to the end or not), in "
               "minutes (one decimal); empty if none did. " + _IN_EVALUATION, "0 or more; empty if none",
               "groups.GroupAttendee.attended_seconds"),
    ),
)



def as_rows(dataset: Dataset) -> list[dict[str, str]]:
    """The dictionary of one dataset as rows (name, type, meaning, allowed values, source)."""
    return [{"name": c.name, "type": c.type, "meaning": c.meaning, "allowed_values": c.allowed, "source": c.source}
            for c in dataset.columns]


def section(dataset: Dataset) -> list[str]:
    """One dataset's part of the dictionary, as Markdown lines."""
    return [
        f"## {dataset.title} (`{dataset.code}`)", "",
        (f"One file, {dataset.unit}" if "csv" in dataset.formats else dataset.unit[0].upper() + dataset.unit[1:]) + ". Formats: "
        + ", ".join(f"`{f}`" for f in dataset.formats) + ". Filters: " + ", ".join(f"`{f}`" for f in sorted(dataset.filters)) + ".",
        "", f"| {'Column' if 'csv' in dataset.formats else 'Element'} | Type | Meaning | Allowed values | Source |", "|---|---|---|---|---|",
        *(f"| `{c.name}` | {c.type} | {c.meaning} | {c.allowed} | {c.source} |" for c in dataset.columns),
    ]


def markdown(datasets: list[Dataset] | None = None) -> str:
    """docs/data-dictionary.md, and the dictionary inside each export (for one dataset)."""
    datasets = datasets if datasets is not None else list(DATASETS.values())
    lines = [
        "# Data dictionary",
        "",
        "<!-- Generated from backend/evaluation/dictionary.py by `python manage.py export_evaluation --dictionary`."
        " Do not edit by hand: tests/evaluation/test_dictionary.py fails when the two differ. -->",
        "",
        "Every column of every evaluation dataset. Every export ships this dictionary beside its data. "
        "Methods and safeguards: [evaluation.md](evaluation.md).",
        "",
        "Types: " + "; ".join(f"`{name}`: {meaning}" for name, meaning in TYPE_MEANINGS.items()) + ".",
    ]
    for dataset in datasets:
        lines += ["", *section(dataset)]
    return "\n".join(lines) + "\n"

# --- The relatives' space (backend/relatives; docs/relatives.md, Evaluation) -----------------------------
_WITHIN = " Counted within the export's dates (all time without them)."
RELATIVES = Dataset(
    code="relatives",
    title="The relatives' space: use by relatives who agree to be counted",
    unit="one row per relative's membership of an organisation's relatives' space (a relative who left and was invited "
         "again has two)",
    filters=frozenset({"date_from", "date_to"}),
    columns=(
        Column("relative", STRING, "The relative's reference: the same in every export, never their identity. Relatives are not "
               "service users and are never given a service user's pseudonym; whom a carer link is with is never exported.",
               "F followed by 16 hexadecimal digits", "HMAC-SHA256 of the relative's account id under the pseudonym key"),
        Column("joined", DATE, "The day they were invited into the space, per the export's date setting (shifted by the relative's "
               "own offset).", "see type", "relatives.Relative.invited_at"),
        Column("left", DATE, "The day the membership ended (they left, or an administrator ended it); empty while it is open.",
               "see type", "relatives.Relative.ended_at"),
        Column("linked_to_care", BOOLEAN, "They were invited from a carer link (they care for someone the service cares for), not "
               "on their own.", "true, false", "relatives.Relative.carer_link"),
        Column("trained_supporter", BOOLEAN, "The organisation has at some time made them a supporter (a trained relative).",
               "true, false", "relatives.Supporter (kind trained_relative)"),
        _count("modules_opened", "Modules of which they opened at least one page." + _WITHIN, "relatives.PageOpen.module"),
        _count("pages_opened", "Pages they opened (each opening counts)." + _WITHIN, "relatives.PageOpen"),
        Column("reading_minutes", NUMBER, "About how long they read, in minutes (one decimal): each page's time until they opened "
               "the next within 30 minutes; the last page of a sitting counts nothing, so this is an under-estimate "
               "(docs/relatives.md, Progress)." + _WITHIN, "0 or more", "relatives.PageOpen.seconds"),
        _count("conversations", "Conversations with supporters they started." + _WITHIN, "relatives.Thread"),
        _count("messages_written", "Messages they wrote to supporters." + _WITHIN, "relatives.ThreadMessage (by_supporter false)"),
        _count("supporter_replies", "Replies supporters wrote in their conversations." + _WITHIN, "relatives.ThreadMessage (by_supporter true)"),
        _count("forum_posts", "Forum posts they started." + _WITHIN, "relatives.ForumPost (no parent)"),
        _count("forum_replies", "Forum replies they wrote." + _WITHIN, "relatives.ForumPost (with a parent)"),
        _count("posts_held", "Of their posts and replies, those held for a supporter (the forum's mode, or a name check they asked "
               "for)." + _WITHIN, "relatives.ForumPost.held_reason"),
        _count("posts_removed", "Of their posts and replies, those a supporter removed." + _WITHIN, "relatives.ForumPost.state"),
        _count("reports_made", "Forum posts they reported for a supporter to look at, while a member." + _WITHIN, "relatives.ForumReport"),
        _count("safety_flags", "Their messages and posts that held a word from the organisation's risk list, so were flagged to "
               "supporters: a prompt to look, not a clinical judgement (docs/relatives.md, Safety)." + _WITHIN,
               "relatives.SafetyFlag"),
    ),
)


# --- Recovery College (backend/college; docs/college.md) -----------------------------------------------------
# Students who are service users appear in rows only while their consent to evaluation holds and they are
# registered with the organisation (as everywhere). Carers and staff have no evaluation consent to give in
# Rapport, so they never appear as rows: only in course_runs' counts of places, which the public prospectus shows.
COLLEGE_RUN = Column("run", STRING, "The course run's reference, stable across exports (the college datasets point at it).",
                     "K followed by 16 hexadecimal digits", "HMAC-SHA256 of college.CourseRun.id under the deployment's pseudonym key")
COLLEGE_FILTERS = frozenset({"date_from", "date_to", "team", "site"})
_ATTENDANCE_CODES = ("attended", "left_early", "dna", "unknown")
COURSE_RUNS = Dataset(
    code="course_runs",
    title="Recovery College course runs",
    unit="one row per published or cancelled run (drafts are left out); filtered by the first session's date and the hosting team",
    filters=COLLEGE_FILTERS,
    columns=(
        COLLEGE_RUN,
        Column("course", STRING, "The course's title, as in the prospectus (a course, not a person).", "course titles", "college.Course.title"),
        Column("audience", STRING, "Who the course is for.", _codes("service_users", "carers", "staff", "anyone"), "college.Course.audience"),
        Column("delivery", STRING, "How this run met.", _codes("online", "in_person"), "college.CourseRun.delivery"),
        Column("term", STRING, "The term's name.", "term names", "college.Term.name"),
        Column("month", STRING, "The month of the first session (runs are public, so not shifted).", "YYYY-MM", "college.CourseRun.first_session_at"),
        TEAM, SITE,
        Column("state", STRING, "Published or cancelled.", _codes("published", "cancelled"), "college.CourseRun.state"),
        Column("sessions", INTEGER, "Sessions in the run.", "1 to 52", "college.Course.sessions"),
        Column("sessions_held", INTEGER, "Sessions held so far: ended online, or with a register taken.", "0 or more", "groups.GroupSession.status, groups.GroupAttendee.attendance"),
        Column("capacity", INTEGER, "Places on the run.", "1 to 20", "college.CourseRun.capacity"),
        Column("places_taken", INTEGER, "Students with a place now (every student, whatever their role: the prospectus shows this).", "0 or more",
               "college.Enrolment.state = enrolled"),
        Column("waiting", INTEGER, "Students on the waiting list now.", "0 or more", "college.Enrolment.state = waiting"),
        Column("facilitators", INTEGER, "Facilitators of the run.", "2 or more", "college.Facilitator"),
        Column("peer_facilitators", INTEGER, "Facilitators who are peer trainers (of either kind).", "1 or more", "college.TrainerRecord.kind"),
        Column("carer_peer_facilitators", INTEGER, "Facilitators who are carer peer trainers.", "0 or more", "college.TrainerRecord.kind"),
        Column("professional_facilitators", INTEGER, "Facilitators who are professional trainers.", "0 or more", "college.TrainerRecord.kind"),
    ),
)
ENROLMENTS = Dataset(
    code="enrolments",
    title="Recovery College enrolments",
    unit="one row per enrolment (a place or a place on the waiting list, including withdrawn ones) of a service user in evaluation",
    filters=COLLEGE_FILTERS,
    columns=(
        COLLEGE_RUN, PERSON,
        Column("date", DATE, "The day they enrolled, per the export's date setting.", "see type", "college.Enrolment.created_at"),
        Column("state", STRING, "Their enrolment now.", _codes("enrolled", "waiting", "withdrawn"), "college.Enrolment.state"),
        Column("waited", BOOLEAN, "They went on the waiting list first (and were promoted, are still waiting, or withdrew while waiting).",
               "true, false", "college.Enrolment.promoted, placed_at"),
        Column("days_waiting", INTEGER, "Days from enrolling to getting a place (0: a place at once; empty: no place yet or never).", "0 or more",
               "college.Enrolment.placed_at - created_at"),
        Column("enrolled_by_staff", BOOLEAN, "A member of staff enrolled them, with them (otherwise they enrolled themselves).", "true, false",
               "college.Enrolment.enrolled_by"),
        Column("withdrawn_date", DATE, "The day they withdrew, per the export's date setting; empty if they did not.", "see type",
               "college.Enrolment.withdrawn_at"),
    ),
)
COURSE_ATTENDANCE = Dataset(
    code="course_attendance",
    title="Recovery College attendance",
    unit="one row per session of a run per student with a place (a service user in evaluation)",
    filters=COLLEGE_FILTERS,
    columns=(
        COLLEGE_RUN, PERSON,
        Column("session", INTEGER, "The session's number in the run.", "1 or more", "college.RunSession.number"),
        Column("date", DATE, "The session's day, per the export's date setting.", "see type", "groups.GroupSession.starts_at"),
        Column("delivery", STRING, "Online (a group session on Janus) or in person.", _codes("online", "in_person"), "college.CourseRun.delivery"),
        Column("attendance", STRING, "The register: `unknown` until it is taken.", _codes(*_ATTENDANCE_CODES), "groups.GroupAttendee.attendance"),
        Column("attended_minutes", INTEGER, "Minutes in the online room (empty in person).", "0 or more", "groups.GroupAttendee.attended_seconds"),
    ),
)
COMPLETIONS = Dataset(
    code="completions",
    title="Recovery College completions",
    unit="one row per student with a place on a run (a service user in evaluation)",
    filters=COLLEGE_FILTERS,
    columns=(
        COLLEGE_RUN, PERSON,
        Column("sessions", INTEGER, "Sessions in the run.", "1 or more", "college.RunSession"),
        Column("sessions_held", INTEGER, "Sessions held so far.", "0 or more", "groups.GroupSession, groups.GroupAttendee"),
        Column("attended", INTEGER, "Sessions they attended (attended or left early on the register).", "0 or more", "groups.GroupAttendee.attendance"),
        Column("required", INTEGER, "Sessions needed to complete: COLLEGE_COMPLETION_SHARE of the sessions, rounded up.", "1 or more",
               "settings.COLLEGE_COMPLETION_SHARE"),
        Column("completed", BOOLEAN, "They attended the sessions needed (and may download a certificate).", "true, false", "attended >= required"),
        Column("goals_written", BOOLEAN, "Their learning plan has goals (never the text).", "true, false", "college.LearningPlan.goals"),
        Column("reflection_written", BOOLEAN, "Their learning plan has a reflection (never the text).", "true, false", "college.LearningPlan.reflection"),
        Column("feedback_given", BOOLEAN, "They answered the college's feedback form (Rapport's own, not a validated measure).", "true, false",
               "college.FeedbackResponse"),
    ),
)

# --- Engagement, supervision and fidelity by practitioner role and site (issue 17, docs/peerwork.md) ----
# The roles the evaluation reports by. Peer support is derived, never recorded twice: an appointment counts
# under the role of whoever ran it (else the practitioner it was booked with); a group session under its
# facilitator's role, or `peer_worker` when a peer worker co-facilitated it with someone else; a Recovery
# College course session (a group session of a college run) counts under `peer_trainer` when the run is
# co-led by a peer trainer of either kind: a carer peer trainer is reported as `peer_trainer` too, and the
# kinds stay apart in course_runs' facilitator counts (evaluation/roles.py, college_session_roles).
REPORTED_ROLES = ("clinician", "peer_worker", "peer_trainer")
STAFF = Column("peer_worker", STRING, "The peer worker's reference: the same in every export and dataset, never their identity.",
               "W followed by 16 hexadecimal digits", "HMAC-SHA256 of the account id under the pseudonym key (its own purpose)")
ENGAGEMENT_STATUSES = ("attended", "did_not_attend", "cancelled", "open")

ENGAGEMENT = Dataset(
    code="engagement",
    title="Engagement by practitioner role and site",
    unit="one row per session offered to a person: a one-to-one appointment, or their place in a group session",
    filters=frozenset({"date_from", "date_to", "team", "site"}),
    columns=(
        Column("session", STRING, "The session's reference: an appointment's (the same as in the sessions dataset) or a place in a group session.",
               "A or L followed by 16 hexadecimal digits", "HMAC-SHA256 of the appointment or group attendee id under the pseudonym key"),
        PERSON,
        Column("date", DATE, "The day of the session, per the export's date setting.", "see type",
               "telesessions.Appointment.starts_at, groups.GroupSession.starts_at"),
        TEAM, SITE,
        Column("session_type", STRING, "One to one (an appointment) or a group session.", _codes("one_to_one", "group"),
               "telesessions.Appointment or groups.GroupAttendee"),
        Column("practitioner_role", STRING,
               "The role the session counts under: for an appointment, of whoever ran it, else of the practitioner it was booked with; "
               "for a group, `peer_worker` when a peer worker facilitated or co-facilitated it, else the facilitator's role; "
               "`peer_trainer` for a Recovery College course session whose run is co-led by a peer trainer (a peer or a carer peer "
               "trainer alike). Empty if not recorded (an imported appointment without a practitioner).", _codes(*REPORTED_ROLES),
               "accounts.User.role of Appointment.run_by or practitioner; of GroupSession.facilitator and co_facilitator; "
               "college.RunSession, college.Facilitator and TrainerRecord.kind"),
        Column("peer_support", BOOLEAN, "The session was peer support: practitioner_role is `peer_worker` or `peer_trainer`.", "true, false",
               "derived from practitioner_role"),
        Column("status", STRING, "attended; did_not_attend; cancelled; open (not yet concluded, or a group place whose attendance was "
               "not recorded). A group place counts as attended when the register says attended or left early.",
               _codes(*ENGAGEMENT_STATUSES), "telesessions.Appointment.status, groups.GroupAttendee.attendance and GroupSession.status"),
    ),
)

SUPERVISION = Dataset(
    code="supervision",
    title="Peer workers' supervision",
    unit="one row per supervision recorded in the log",
    filters=frozenset({"date_from", "date_to", "team", "site"}),
    columns=(
        Column("supervision", STRING, "The supervision entry's reference.", "V followed by 16 hexadecimal digits",
               "HMAC-SHA256 of the entry id under the pseudonym key"),
        STAFF,
        Column("supervisor", STRING, "The supervisor's reference (the same scheme as peer_worker).", "W followed by 16 hexadecimal digits",
               "HMAC-SHA256 of the account id under the pseudonym key"),
        Column("supervisor_role", STRING, "The supervisor's role.", _codes("clinician", "peer_worker"), "accounts.User.role of the supervisor"),
        Column("date", DATE, "The day of the supervision, per the export's date setting (shifted by the peer worker's offset).", "see type",
               "peerwork.SupervisionEntry.held_on"),
        Column("team", STRING, "The peer worker's team the supervision was about.", "team names", "accounts.Team.name"),
        SITE,
        Column("topics", STRING, "What it covered, as codes separated by semicolons (the notes and actions are never exported).",
               _codes(*SupervisionTopic.values) + ", joined by ;", "peerwork.SupervisionEntry.topics"),
        Column("topic_count", INTEGER, "How many topics.", "1 or more", "peerwork.SupervisionEntry.topics"),
    ),
)

_DOMAIN_NOTE = ("Rapport's descriptive summary, not the index's published scoring (which Rapport does not have): apply the "
                "licensed scoring to fidelity_answers.")
FIDELITY = Dataset(
    code="fidelity",
    title="Fidelity to peer support principles (ratings)",
    unit="one row per fidelity rating by one informant about one peer worker in one team",
    filters=frozenset({"date_from", "date_to", "team", "site"}),
    columns=(
        Column("rating", STRING, "The rating's reference (fidelity_answers points at it).", "Y followed by 16 hexadecimal digits",
               "HMAC-SHA256 of the rating id under the pseudonym key"),
        STAFF,
        Column("informant", STRING, "Who rated: the peer worker, their supervisor, or a person they supported (never who).",
               _codes(*Informant.values), "peerwork.FidelityRating.informant"),
        Column("date", DATE, "The day of the rating, per the export's date setting (shifted by the peer worker's offset).", "see type",
               "peerwork.FidelityRating.rated_on"),
        Column("team", STRING, "The peer worker's team the rating is about.", "team names", "accounts.Team.name"),
        SITE,
        Column("instrument", STRING, "The code of the local questionnaire holding the licensed items.", "instrument codes",
               "outcomes.Instrument.code"),
        Column("instrument_version", STRING, "Its version.", "text", "outcomes.Instrument.version"),
        Column("items", INTEGER, "Items in the questionnaire.", "1 or more", "outcomes.InstrumentItem"),
        Column("unanswered_items", INTEGER, "Items left unanswered.", "0 or more", "peerwork.FidelityRating.unanswered_items"),
        Column("score", NUMBER, "The total as the loaded questionnaire's own definition scores it (sum with its reverse keys; prorated "
               "only as far as the admin's definition allows); empty when too many items were unanswered.", "any number, or empty",
               "peerwork.FidelityRating.score"),
        *(Column(f"{d.value}_items", INTEGER, f"Items answered in the domain '{d.label}'.", "0 or more",
                 "peerwork.FidelityAnswer, peerwork.FidelityQuestionnaire.item_domains") for d in Domain),
        *(Column(f"{d.value}_mean", NUMBER, f"Mean scored value (reverse-keyed items reversed) of the items answered in the domain "
                 f"'{d.label}', two decimals; empty when none was answered. {_DOMAIN_NOTE}", "any number, or empty",
                 "peerwork.FidelityAnswer") for d in Domain),
    ),
)

FIDELITY_ANSWERS = Dataset(
    code="fidelity_answers",
    title="Fidelity ratings, item by item",
    unit="one row per item of each fidelity rating",
    filters=frozenset({"date_from", "date_to", "team", "site"}),
    columns=(
        Column("rating", STRING, "The rating's reference (as in the fidelity dataset).", "Y followed by 16 hexadecimal digits",
               "HMAC-SHA256 of the rating id under the pseudonym key"),
        STAFF,
        Column("informant", STRING, "Who rated.", _codes(*Informant.values), "peerwork.FidelityRating.informant"),
        Column("site", STRING, "Where the peer worker's team is based.", "site names", "accounts.Team.site"),
        Column("instrument", STRING, "The local questionnaire's code.", "instrument codes", "outcomes.Instrument.code"),
        Column("item", INTEGER, "The item's number in the questionnaire.", "1 or more", "outcomes.InstrumentItem.number"),
        Column("domain", STRING, "The item's domain, as the admin registered it.", _codes(*Domain.values),
               "peerwork.FidelityQuestionnaire.item_domains"),
        Column("value", INTEGER, "The value of the answer chosen; empty when left unanswered.", "the questionnaire's option values",
               "peerwork.FidelityAnswer.value"),
        Column("scored_value", INTEGER, "The value as scored: reverse-keyed items count as lowest + highest option - value.",
               "the questionnaire's option values", "peerwork.FidelityAnswer.value, outcomes.InstrumentItem.reverse_keyed"),
    ),
)

SITE_ALL = "All sites"
SITE_FIDELITY_ENGAGEMENT = Dataset(
    code="site_fidelity_engagement",
    title="Fidelity and engagement by site",
    unit="one row per site, then one for all sites together: fidelity summaries beside engagement, to ask whether sites with "
         "higher fidelity see higher engagement (Gillard et al. 2024). Counts from 1 to 4, and any count that would give one "
         "away (as a total less the rest), are empty; so are means over fewer than 5 ratings and rates whose parts are empty",
    filters=frozenset({"date_from", "date_to", "team", "site"}),
    columns=(
        Column("site", STRING, f"The site, or `{SITE_ALL}`.", "site names", "accounts.Team.site"),
        Column("peer_workers_rated", INTEGER, "Peer workers with at least one rating (suppressed 1 to 4).", "0 or more; empty when suppressed",
               "peerwork.FidelityRating"),
        Column("ratings", INTEGER, "Fidelity ratings, all informants.", "0 or more; empty when suppressed", "peerwork.FidelityRating"),
        *(Column(f"ratings_by_{i.value}", INTEGER, f"Ratings by {i.label.lower()}.", "0 or more; empty when suppressed",
                 "peerwork.FidelityRating.informant") for i in Informant),
        Column("fidelity_mean", NUMBER, "Mean over the ratings of each rating's mean scored item value (all domains), two decimals; "
               f"empty under 5 ratings. {_DOMAIN_NOTE}", "any number, or empty", "the fidelity dataset"),
        *(Column(f"{d.value}_mean", NUMBER, f"Mean over the ratings of the domain mean '{d.label}'; empty under 5 ratings with it.",
                 "any number, or empty", "the fidelity dataset") for d in Domain),
        *(Column(f"{prefix}{name}", INTEGER, f"{what}: {meaning}", "0 or more; empty when suppressed", "the engagement dataset")
          for prefix, what in (("peer_support_", "Peer support sessions (peer worker or peer trainer)"), ("all_", "All sessions"))
          for name, meaning in (("offered", "attended and did not attend together (cancelled and open ones are not counted)."),
                                ("attended", "attended."), ("did_not_attend", "did not attend."))),
        *(Column(f"{prefix}attendance_rate", NUMBER, f"{what}: attended / offered, four decimals; empty when either is suppressed.",
                 "0 to 1, or empty", "the engagement dataset")
          for prefix, what in (("peer_support_", "Peer support sessions"), ("all_", "All sessions"))),
        Column("courses_completed", INTEGER, "Recovery College courses completed: students in evaluation with a place on a run "
               "hosted by one of the site's teams who completed it (as in the completions dataset: runs whose first session is within "
               "the dates); one student completing two runs counts twice. Suppressed along the sites and their total as the other counts.",
               "0 or more; empty when suppressed", "college.Enrolment, college.RunSession, groups.GroupAttendee.attendance"),
    ),
)


# One registry, in the order docs/data-dictionary.md lists the datasets (new datasets go at the end).
DATASETS: dict[str, Dataset] = {dataset.code: dataset for dataset in (
    SESSIONS, CARE_CONTACTS, CONSENT, RESPONSES_LONG, RESPONSES, COURSES, FHIR, NETWORK_MAPS, SIGNPOSTS, MESSAGES, GROUPS, RELATIVES,
    COURSE_RUNS, ENROLMENTS, COURSE_ATTENDANCE, COMPLETIONS, ENGAGEMENT, SUPERVISION, FIDELITY, FIDELITY_ANSWERS, SITE_FIDELITY_ENGAGEMENT,
)}

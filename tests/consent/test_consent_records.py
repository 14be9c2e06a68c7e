"""Consent records: append-only, against the current wording, and recorded only by the right people."""

import threading
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from backend.audit.actor import Actor
from backend.audit.append_only import AppendOnlyViolation
from backend.consent import selectors, services
from backend.consent.models import ConsentPurpose, ConsentRecord, ConsentWording, PurposeCode
from backend.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.factories import decide, give_consent, withdraw_consent

G, R, W = ConsentRecord.Decision.GIVEN, ConsentRecord.Decision.REFUSED, ConsentRecord.Decision.WITHDRAWN


def test_seeded_purposes_each_have_a_current_wording(db):
    codes = set(ConsentPurpose.objects.values_list("code", flat=True))
    assert set(PurposeCode.values) <= codes
    for purpose in ConsentPurpose.objects.all():
        assert selectors.current_wording(purpose).version == 1


def test_the_current_state_is_the_latest_record_and_history_is_kept(world):
    person = world.service_user
    give_consent(person, PurposeCode.EVALUATION)
    assert selectors.has_consent(person, PurposeCode.EVALUATION)
    withdraw_consent(person, PurposeCode.EVALUATION)
    assert not selectors.has_consent(person, PurposeCode.EVALUATION)
    give_consent(person, PurposeCode.EVALUATION)
    assert selectors.has_consent(person, PurposeCode.EVALUATION)
    history = [r.decision for r in selectors.consent_history(person).filter(purpose__code=PurposeCode.EVALUATION)]
    assert history == [G, W, G]  # newest first, nothing rewritten


def test_records_cannot_be_changed_or_deleted_in_the_orm_or_the_database(world):
    record = give_consent(world.service_user, PurposeCode.EVALUATION)
    record.decision = W
    with pytest.raises(AppendOnlyViolation):
        record.save()
    with pytest.raises(AppendOnlyViolation):
        ConsentRecord.objects.filter(pk=record.pk).delete()
    for statement in ("UPDATE consent_consentrecord SET decision = 'withdrawn'", "DELETE FROM consent_consentrecord",
                      "UPDATE consent_consentwording SET text = 'other words'"):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)


def test_a_clinician_records_verbal_consent_with_a_note(world):
    record = give_consent(world.service_user, PurposeCode.EVALUATION, by=world.clinician, note="Agreed by phone, 3 May.")
    assert (record.method, record.recorded_by, record.note) == ("verbal", world.clinician, "Agreed by phone, 3 May.")
    with pytest.raises(InvalidInput) as error:
        withdraw_consent(world.service_user, PurposeCode.EVALUATION, by=world.clinician)
    assert error.value.field == "note"


@pytest.mark.parametrize("who, error", [("other_clinician", NotFound), ("carer", Forbidden), ("peer_worker", Forbidden),
                                        ("admin", Forbidden), ("evaluator", Forbidden), ("other_service_user", Forbidden)])
def test_nobody_else_records_consent(world, who, error):
    before = ConsentRecord.objects.count()
    with pytest.raises(error):
        give_consent(world.service_user, PurposeCode.EVALUATION, by=getattr(world, who), note="said so")
    assert ConsentRecord.objects.count() == before


def test_consent_must_be_to_the_current_wording(world):
    purpose = ConsentPurpose.objects.get(code=PurposeCode.EVALUATION)
    with pytest.raises(InvalidInput) as error:
        services.consent_record(actor=Actor(world.service_user), service_user=world.service_user, purpose=purpose,
                                decision=G, wording_version=2)
    assert (error.value.field, error.value.code) == ("wording_version", "not_current")
    with pytest.raises(InvalidInput):
        services.consent_record(actor=Actor(world.service_user), service_user=world.service_user, purpose=purpose, decision=G)


def test_a_future_wording_is_not_current_until_its_day(world):
    purpose = ConsentPurpose.objects.get(code=PurposeCode.EVALUATION)
    services.wording_publish(actor=Actor(world.admin), purpose=purpose, text="New words.",
                             effective_from=timezone.localdate() + timedelta(days=7), requires_reconsent=True)
    assert selectors.current_wording(purpose).version == 1
    give_consent(world.service_user, PurposeCode.EVALUATION)  # to version 1, still current
    assert selectors.has_consent(world.service_user, PurposeCode.EVALUATION)


def test_a_wording_that_requires_reconsent_makes_earlier_consent_stale_until_renewed(world):
    person = world.service_user
    assert selectors.has_consent(person, PurposeCode.VIDEO)
    purpose = ConsentPurpose.objects.get(code=PurposeCode.VIDEO)
    services.wording_publish(actor=Actor(world.admin), purpose=purpose, text="Video calls now use a new provider.",
                             effective_from=timezone.localdate(), requires_reconsent=True)
    assert not selectors.has_consent(person, PurposeCode.VIDEO)
    state = next(s for s in selectors.consent_states(person) if s.purpose.code == PurposeCode.VIDEO)
    assert (state.status, state.wording.version) == ("stale", 2)
    give_consent(person, PurposeCode.VIDEO)
    assert selectors.has_consent(person, PurposeCode.VIDEO)


def test_a_new_wording_without_reconsent_keeps_consent(world):
    purpose = ConsentPurpose.objects.get(code=PurposeCode.VIDEO)
    services.wording_publish(actor=Actor(world.admin), purpose=purpose, text="Clearer words, same meaning.",
                             effective_from=timezone.localdate())
    assert selectors.has_consent(world.service_user, PurposeCode.VIDEO)
    assert ConsentWording.objects.filter(purpose=purpose).count() == 2


@pytest.mark.parametrize("decision, code", [(G, "already_given"), (R, "withdraw_instead")])
def test_transitions_that_make_no_sense_are_refused(world, decision, code):
    with pytest.raises(Conflict) as error:
        decide(world.service_user, PurposeCode.VIDEO, decision)
    assert error.value.code == code


def test_nothing_to_withdraw(world):
    with pytest.raises(Conflict) as error:
        withdraw_consent(world.service_user, PurposeCode.EVALUATION)
    assert error.value.code == "nothing_to_withdraw"


def test_refusing_is_recorded_and_can_later_become_consent(world):
    decide(world.service_user, PurposeCode.EVALUATION, R)
    with pytest.raises(Conflict):
        decide(world.service_user, PurposeCode.EVALUATION, R)
    give_consent(world.service_user, PurposeCode.EVALUATION)
    assert selectors.has_consent(world.service_user, PurposeCode.EVALUATION)


def test_carer_consent_names_a_linked_carer(world):
    with pytest.raises(InvalidInput) as error:
        give_consent(world.service_user, PurposeCode.CARER_INVOLVEMENT)
    assert error.value.field == "carer_id"
    with pytest.raises(InvalidInput) as error:
        give_consent(world.service_user, PurposeCode.CARER_INVOLVEMENT, carer=world.unlinked_carer)
    assert error.value.code == "not_linked"
    with pytest.raises(InvalidInput):
        give_consent(world.service_user, PurposeCode.EVALUATION, carer=world.carer)


@pytest.mark.django_db(transaction=True)
def test_concurrent_give_and_withdraw_leave_a_consistent_history():
    """Many give and withdraw requests at once on PostgreSQL: each sees the one before, so the history
    alternates given/withdrawn, and the current state is its last entry."""
    from tests.factories import build_world

    world = build_world()
    person = world.service_user
    barrier = threading.Barrier(8)
    outcomes = []

    def act(n):
        try:
            barrier.wait()
            (give_consent if n % 2 == 0 else withdraw_consent)(person, PurposeCode.EVALUATION)
            outcomes.append("ok")
        except Conflict as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=act, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    decisions = list(ConsentRecord.objects.filter(service_user=person, purpose__code=PurposeCode.EVALUATION).order_by("id").values_list("decision", flat=True))
    assert len(decisions) == outcomes.count("ok") >= 1
    assert decisions[0] == G
    assert all(a != b for a, b in zip(decisions, decisions[1:])), decisions  # strictly alternating
    assert set(outcomes) <= {"ok", "already_given", "nothing_to_withdraw"}
    assert selectors.has_consent(person, PurposeCode.EVALUATION) == (decisions[-1] == G)


def test_consents_holding_answers_as_has_consent_does_for_several_purposes_at_once(world):
    """The signalling join asks for remote care and video in one query; each answer must be has_consent's."""
    person = world.service_user
    codes = [PurposeCode.REMOTE_CARE, PurposeCode.VIDEO, PurposeCode.EVALUATION]

    def agree():
        expected = {code for code in codes if selectors.has_consent(person, code)}
        assert selectors.consents_holding(person, codes) == expected
        return expected

    assert agree() >= {PurposeCode.REMOTE_CARE, PurposeCode.VIDEO}
    withdraw_consent(person, PurposeCode.VIDEO)
    assert PurposeCode.VIDEO not in agree()
    give_consent(person, PurposeCode.VIDEO)
    purpose = ConsentPurpose.objects.get(code=PurposeCode.REMOTE_CARE)
    services.wording_publish(actor=Actor(world.admin), purpose=purpose, text="Remote care now works differently.",
                             effective_from=timezone.localdate(), requires_reconsent=True)
    assert PurposeCode.REMOTE_CARE not in agree() and PurposeCode.VIDEO in agree()  # stale until renewed
    give_consent(person, PurposeCode.REMOTE_CARE)
    assert PurposeCode.REMOTE_CARE in agree()
    assert selectors.consents_holding(world.clinician, codes) == set()  # never asked: nothing holds
    assert selectors.consents_holding(person, []) == set()

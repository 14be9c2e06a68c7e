"""Peer work's API shapes: strict inputs (unknown fields refused by name) and outputs."""

from __future__ import annotations

from rest_framework import serializers

from backend.core.limits import is_ascii_integer
from backend.core.serializers import StrictInputSerializer

from .models import Domain, FidelityQuestionnaire, FidelityRating, Informant, SupervisionEntry, SupervisionTopic

TOPICS = serializers.ChoiceField(choices=SupervisionTopic.choices)


class SupervisionInput(StrictInputSerializer):
    peer_worker_id = serializers.IntegerField(min_value=1)
    team_id = serializers.IntegerField(min_value=1, help_text="The peer worker's team the supervision is about.")
    held_on = serializers.DateField()
    topics = serializers.ListField(child=serializers.ChoiceField(choices=SupervisionTopic.choices), allow_empty=False, max_length=20)
    actions = serializers.CharField(max_length=4000, help_text="The actions agreed.")
    notes = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class PersonOut(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()


class SupervisionOut(serializers.ModelSerializer):
    supervisor = PersonOut()
    peer_worker = PersonOut()
    team_id = serializers.IntegerField()
    topics = serializers.ListField(child=serializers.ChoiceField(choices=SupervisionTopic.choices))

    class Meta:
        model = SupervisionEntry
        fields = ["id", "supervisor", "peer_worker", "team_id", "held_on", "topics", "actions", "notes", "recorded_at"]


class QuestionnaireInput(StrictInputSerializer):
    instrument = serializers.SlugField(max_length=40, help_text="The code of the local questionnaire holding the licensed items.")
    informant = serializers.ChoiceField(choices=Informant.choices)
    item_domains = serializers.DictField(
        child=serializers.ChoiceField(choices=Domain.choices), allow_empty=False,
        help_text="Item number (as text) to its domain, for every item.",
    )
    licence = serializers.CharField(max_length=2000)
    source = serializers.CharField(max_length=2000)

    def validate_item_domains(self, value):
        if len(value) > 200:
            raise serializers.ValidationError("At most 200 items.", code="max_length")
        for key in value:
            if not is_ascii_integer(str(key)) or int(key) < 1:
                raise serializers.ValidationError(f"'{str(key)[:20]}' is not an item number.", code="invalid_item")
        return {str(int(key)): domain for key, domain in value.items()}


class QuestionnaireOut(serializers.ModelSerializer):
    instrument = serializers.CharField(source="instrument.code")
    in_use = serializers.BooleanField(source="instrument.is_active")

    class Meta:
        model = FidelityQuestionnaire
        fields = ["id", "informant", "instrument", "item_domains", "licence", "source", "registered_at", "in_use"]


class RatingInput(StrictInputSerializer):
    peer_worker_id = serializers.IntegerField(min_value=1)
    team_id = serializers.IntegerField(min_value=1)
    rated_on = serializers.DateField()
    answers = serializers.DictField(
        child=serializers.IntegerField(allow_null=True, min_value=-100, max_value=100), allow_empty=False,
        help_text="Item number (as text) to the value of the answer chosen; null for an item left unanswered.",
    )

    def validate_answers(self, answers):
        if len(answers) > 200:
            raise serializers.ValidationError("At most 200 items.", code="max_length")
        parsed = {}
        for key, value in answers.items():
            if not is_ascii_integer(str(key)) or int(key) < 1:
                raise serializers.ValidationError(f"'{str(key)[:20]}' is not an item number.", code="invalid_item")
            parsed[int(key)] = value
        return parsed


class RatingAnswerOut(serializers.Serializer):
    item = serializers.IntegerField(source="item.number")
    value = serializers.IntegerField(allow_null=True)


class RatingOut(serializers.ModelSerializer):
    peer_worker = PersonOut()
    team_id = serializers.IntegerField()
    instrument = serializers.CharField(source="questionnaire.instrument.code")
    answers = RatingAnswerOut(many=True)

    class Meta:
        model = FidelityRating
        fields = ["id", "peer_worker", "team_id", "informant", "rated_on", "instrument", "score", "unanswered_items", "answers", "recorded_at"]


class SupervisionListQuery(StrictInputSerializer):
    as_role = serializers.ChoiceField(choices=[("supervisor", "supervisor"), ("peer_worker", "peer_worker")], required=False,
                                      help_text="Only the entries where you are the supervisor, or the peer worker.")

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backend.accounts.serializers import UserSummary
from backend.core.serializers import StrictInputSerializer
from backend.network.models import Category, MapMember, MapSharing, MapSnapshot, Resource, Signpost, SignpostFollowUp

CIRCLE_HELP = "1 (closest, most important), 2 or 3. Anything else is refused."


class MeasuresOut(serializers.Serializer):
    size = serializers.IntegerField()
    by_circle = serializers.DictField(child=serializers.IntegerField(), help_text='Members on each circle: keys "1", "2", "3".')
    by_kind = serializers.DictField(child=serializers.IntegerField())
    support_counts = serializers.DictField(child=serializers.IntegerField(), help_text="Members giving each kind of support.")
    support_types_covered = serializers.ListField(child=serializers.CharField())
    giving_no_support = serializers.IntegerField()


class MemberOut(serializers.ModelSerializer):
    is_linked_carer = serializers.SerializerMethodField()

    class Meta:
        model = MapMember
        fields = ["id", "kind", "label", "circle", "relationship", "contact_frequency", "illness_support", "everyday_support",
                  "emotional_support", "is_linked_carer", "carer_id"]

    def get_is_linked_carer(self, member) -> bool:
        return member.carer_id is not None


class SharingOut(serializers.ModelSerializer):
    recorded_by = UserSummary()

    class Meta:
        model = MapSharing
        fields = ["care_team", "carers", "recorded_at", "recorded_by"]


class MapOut(serializers.Serializer):
    service_user_id = serializers.IntegerField()
    started = serializers.BooleanField()
    members = MemberOut(many=True)
    interests = serializers.ListField(child=serializers.ChoiceField(choices=Category.choices))
    needs = serializers.ListField(child=serializers.ChoiceField(choices=Category.choices))
    postcode_district = serializers.CharField(allow_blank=True)
    measures = MeasuresOut()
    sharing = SharingOut(allow_null=True, help_text="Who the person shares the map with (not shown to carers).")


class MapStartInput(StrictInputSerializer):
    care_team = serializers.BooleanField(help_text="The person agrees that their care team can see and change the map with them.")
    carer_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=20, default=list,
                                     help_text="Linked carers to share with (the person only).")
    postcode_district = serializers.CharField(max_length=8, required=False, default="", allow_blank=True)


class SharingInput(StrictInputSerializer):
    care_team = serializers.BooleanField()
    carer_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=20, default=list)


class InterestsInput(StrictInputSerializer):
    interests = serializers.ListField(child=serializers.ChoiceField(choices=Category.choices), max_length=len(Category.values))
    needs = serializers.ListField(child=serializers.ChoiceField(choices=Category.choices), max_length=len(Category.values))
    postcode_district = serializers.CharField(max_length=8, required=False, allow_blank=True)


class MemberInput(StrictInputSerializer):
    kind = serializers.ChoiceField(choices=MapMember.Kind.choices)
    label = serializers.CharField(max_length=60, help_text="What the person calls them; no full name needed.")
    circle = serializers.IntegerField(help_text=CIRCLE_HELP)
    relationship = serializers.ChoiceField(choices=MapMember.Relationship.choices, required=False, default="", allow_blank=True)
    contact_frequency = serializers.ChoiceField(choices=MapMember.Frequency.choices)
    illness_support = serializers.BooleanField(default=False)
    everyday_support = serializers.BooleanField(default=False)
    emotional_support = serializers.BooleanField(default=False)
    carer_id = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None,
                                        help_text="A carer linked to the person in Rapport, if the member is one.")


class SnapshotInput(StrictInputSerializer):
    setting = serializers.ChoiceField(choices=MapSnapshot.Setting.choices)
    note = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)


class SnapshotOut(serializers.ModelSerializer):
    measures = MeasuresOut()
    taken_by = UserSummary()
    members = serializers.ListField(child=serializers.DictField())

    class Meta:
        model = MapSnapshot
        fields = ["id", "setting", "taken_at", "taken_by", "note", "interests", "needs", "members", "measures"]


class DirectoryResourceOut(serializers.ModelSerializer):
    categories = serializers.ListField(child=serializers.ChoiceField(choices=Category.choices))
    # Plain strings: empty when not given (an email or URL field that may be blank is two shapes in the schema).
    contact_email = serializers.CharField(help_text="An email address, or empty.")
    contact_website = serializers.CharField(help_text="A web address, or empty.")

    class Meta:
        model = Resource
        fields = ["id", "name", "description", "categories", "scope", "delivery", "postcode_district", "address", "wheelchair_access",
                  "transport_links", "opening_times", "contact_phone", "contact_email", "contact_website", "last_checked_on", "is_active"]


class ResourceInput(StrictInputSerializer):
    name = serializers.CharField(max_length=200, allow_blank=True, help_text="Required.")
    description = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)
    categories = serializers.ListField(child=serializers.ChoiceField(choices=Category.choices), max_length=len(Category.values))
    scope = serializers.ChoiceField(choices=Resource.Scope.choices)
    delivery = serializers.ChoiceField(choices=Resource.Delivery.choices)
    postcode_district = serializers.CharField(max_length=8, required=False, default="", allow_blank=True,
                                              help_text="Required for a local resource met in person, e.g. LS6.")
    address = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)
    wheelchair_access = serializers.ChoiceField(choices=Resource.Access.choices, required=False, default=Resource.Access.UNKNOWN)
    transport_links = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)
    opening_times = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)
    contact_phone = serializers.CharField(max_length=32, required=False, default="", allow_blank=True)
    contact_email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    contact_website = serializers.URLField(max_length=300, required=False, allow_blank=True)
    last_checked_on = serializers.DateField()
    is_active = serializers.BooleanField(required=False, default=True)


class SuggestionOut(serializers.Serializer):
    resource = DirectoryResourceOut()
    matched = serializers.ListField(child=serializers.ChoiceField(choices=Category.choices), help_text="The person's interests and needs it matches.")
    near = serializers.IntegerField(help_text="2: in the person's postcode district; 1: in their area; 0: neither or not known.")
    remote = serializers.BooleanField(help_text="Online, by phone, or national.")


class FollowUpOut(serializers.ModelSerializer):
    recorded_by = UserSummary()

    class Meta:
        model = SignpostFollowUp
        fields = ["id", "outcome", "reason", "note", "happened_on", "recorded_at", "recorded_by"]


class SignpostOut(serializers.ModelSerializer):
    resource = DirectoryResourceOut()
    offered_by = UserSummary()
    follow_ups = FollowUpOut(many=True)
    outcome = serializers.SerializerMethodField()

    class Meta:
        model = Signpost
        fields = ["id", "resource", "from_suggestions", "offered_on", "follow_up_on", "note", "offered_at", "offered_by", "follow_ups", "outcome"]

    @extend_schema_field(serializers.ChoiceField(choices=SignpostFollowUp.Outcome.choices, allow_null=True))
    def get_outcome(self, signpost):
        follow_ups = list(signpost.follow_ups.all())
        return follow_ups[-1].outcome if follow_ups else None


class SignpostInput(StrictInputSerializer):
    resource_id = serializers.IntegerField(min_value=1)
    follow_up_on = serializers.DateField(help_text="When to ask how it went: today or later.")
    note = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)
    from_suggestions = serializers.BooleanField(default=True)


class FollowUpInput(StrictInputSerializer):
    outcome = serializers.ChoiceField(choices=SignpostFollowUp.Outcome.choices)
    happened_on = serializers.DateField(help_text="The day it is about: never before the signpost, never in the future.")
    reason = serializers.ChoiceField(choices=SignpostFollowUp.Reason.choices, required=False, default="", allow_blank=True,
                                     help_text="Required when they did not go.")
    note = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)


class CategoryOut(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


CATEGORIES = [{"code": code, "label": label} for code, label in Category.choices]

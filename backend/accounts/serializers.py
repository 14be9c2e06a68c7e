"""Request and response shapes for the accounts API. Input serializers refuse unknown fields."""

from django.contrib.auth.password_validation import password_validators_help_texts
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backend.accounts.models import CarerLink, CaseloadEntry, Organisation, OrganisationRegistration, Role, Team, TeamMembership, User
from backend.core.serializers import StrictInputSerializer
from backend.core.phone import PhoneNumberField


# --- Input ----------------------------------------------------------------------------------------
class LoginInput(StrictInputSerializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, max_length=256, style={"input_type": "password"})


class UserCreateInput(StrictInputSerializer):
    email = serializers.EmailField()
    full_name = serializers.CharField(max_length=200)
    preferred_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    # Guests are made only by a clinician adding them to one session (sessions.services.guest_add).
    role = serializers.ChoiceField(choices=[choice for choice in Role.choices if choice[0] != Role.GUEST])
    phone_number = PhoneNumberField(required=False, default="")
    password = serializers.CharField(
        trim_whitespace=False, max_length=256, write_only=True, required=False, default=None,
        help_text="Leave out to make an account without a login; invite the person (POST /users/{id}/invitation/) "
        "to let them set one. " + " ".join(password_validators_help_texts()),
    )


class InvitationInput(StrictInputSerializer):
    email = serializers.EmailField(
        required=False, default=None, help_text="Give the account this address first (e.g. a person imported without one)."
    )


class PasswordResetInput(StrictInputSerializer):
    email = serializers.EmailField()


class SetPasswordInput(StrictInputSerializer):
    kind = serializers.ChoiceField(choices=[("invitation", "invitation"), ("reset", "reset")],
                                   help_text="Which email the link came from: an invitation or a forgotten password.")
    uid = serializers.CharField(max_length=64, help_text="The link's part after the kind: /set-password/<kind>/<uid>/<token>/.")
    token = serializers.CharField(max_length=128)
    password = serializers.CharField(trim_whitespace=False, max_length=256, help_text=" ".join(password_validators_help_texts()))


class PasswordChangeInput(StrictInputSerializer):
    old_password = serializers.CharField(trim_whitespace=False, max_length=256)
    new_password = serializers.CharField(trim_whitespace=False, max_length=256, help_text=" ".join(password_validators_help_texts()))


class UserUpdateInput(StrictInputSerializer):
    full_name = serializers.CharField(max_length=200, required=False)
    preferred_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    phone_number = PhoneNumberField(required=False)
    is_active = serializers.BooleanField(required=False)
    role = serializers.ChoiceField(
        choices=Role.choices, required=False,
        help_text="Staff only, to another staff role; a practitioner who stops being one leaves their teams.",
    )


class OrganisationInput(StrictInputSerializer):
    name = serializers.CharField(max_length=200, required=False)
    staff_two_factor_required = serializers.BooleanField(
        required=False, help_text="Staff must sign in with an authenticator app's code as well as their password."
    )


class TeamCreateInput(StrictInputSerializer):
    organisation_id = serializers.IntegerField(min_value=1)
    name = serializers.CharField(max_length=200)
    service = serializers.CharField(max_length=200)
    site = serializers.CharField(max_length=200)
    phone_number = PhoneNumberField(required=False, default="")
    face_to_face_address = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    opening_hours = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class TeamUpdateInput(StrictInputSerializer):
    name = serializers.CharField(max_length=200, required=False)
    service = serializers.CharField(max_length=200, required=False)
    site = serializers.CharField(max_length=200, required=False)
    phone_number = PhoneNumberField(required=False)
    face_to_face_address = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    opening_hours = serializers.CharField(max_length=200, required=False, allow_blank=True)


class TeamMemberInput(StrictInputSerializer):
    user_id = serializers.IntegerField(min_value=1)


class CaseloadInput(StrictInputSerializer):
    service_user_id = serializers.IntegerField(min_value=1)


class RegistrationInput(StrictInputSerializer):
    service_user_id = serializers.IntegerField(min_value=1)


class CarerLinkCreateInput(StrictInputSerializer):
    carer_email = serializers.EmailField()
    relationship = serializers.ChoiceField(choices=CarerLink.Relationship.choices)


# --- Output ---------------------------------------------------------------------------------------
class SubjectRecordSectionOut(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    rows = serializers.ListField(child=serializers.DictField(), help_text="One object per record; values are text, numbers, booleans or ISO 8601 times.")


class SubjectRecordOut(serializers.Serializer):
    person = serializers.CharField()
    produced_at = serializers.DateTimeField()
    produced_for = serializers.CharField()
    sections = SubjectRecordSectionOut(many=True)


class MyDetailsInput(StrictInputSerializer):
    preferred_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    phone_number = PhoneNumberField(required=False)


class EmailChangeInput(StrictInputSerializer):
    email = serializers.EmailField(help_text="A link is emailed to this address; the account's email changes when it is followed.")


class EmailConfirmInput(StrictInputSerializer):
    token = serializers.CharField(max_length=1000, help_text="The last part of the emailed link /account/email/confirm/<token>/.")


class LoginOtpInput(StrictInputSerializer):
    challenge = serializers.CharField(max_length=1000, help_text="The `challenge` the login answered with.")
    code = serializers.CharField(max_length=32, help_text="The 6 numbers from the authenticator app, or a recovery code.")


class LoginOtpRequired(serializers.Serializer):
    otp_required = serializers.BooleanField(help_text="Always true: send a code to /auth/login/otp/ to get a token.")
    challenge = serializers.CharField(help_text="Send back with the code. Works once the password was right, for a few minutes.")
    challenge_expiry = serializers.DateTimeField()


class LoginOutput(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")
    expiry = serializers.DateTimeField(help_text="When the token stops working; log in again after it.")
    user = serializers.SerializerMethodField()

    def get_user(self, data) -> dict:
        return UserSummary(data["user"]).data


class UserSummary(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "full_name", "preferred_name", "role"]


class TeamOut(serializers.ModelSerializer):
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)

    class Meta:
        model = Team
        fields = ["id", "organisation", "organisation_name", "name", "service", "site", "phone_number", "face_to_face_address", "opening_hours"]


class OrganisationOut(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "created_at", "staff_two_factor_required"]


class AccountOut(serializers.ModelSerializer):
    """An account as its owner or an admin sees it."""

    organisation = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The organisation a staff member works for; null for service users and carers."
    )

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "preferred_name", "role", "phone_number", "is_active", "date_joined", "organisation"]


class MeOut(serializers.Serializer):
    account = AccountOut()
    teams = TeamOut(many=True, help_text="A practitioner's teams, or the teams whose caseload a service user is on.")


class PhoneNumberInput(StrictInputSerializer):
    phone_number = PhoneNumberField(help_text="The number to phone the person on, as they would dial it; empty to clear it.")


class ServiceUserOut(serializers.ModelSerializer):
    teams = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "preferred_name", "phone_number", "teams"]

    def get_teams(self, user) -> list[dict]:
        return [{"id": entry.team_id, "name": entry.team.name} for entry in user.caseload_entries.all()]


class TeamMemberOut(serializers.ModelSerializer):
    user = UserSummary()

    class Meta:
        model = TeamMembership
        fields = ["user", "joined_at"]


class CaseloadEntryOut(serializers.ModelSerializer):
    service_user = UserSummary()

    class Meta:
        model = CaseloadEntry
        fields = ["service_user", "added_at"]


class RegistrationOut(serializers.ModelSerializer):
    service_user = UserSummary()

    class Meta:
        model = OrganisationRegistration
        fields = ["id", "organisation", "service_user", "registered_at"]


class CarerLinkOut(serializers.ModelSerializer):
    """A carer link. The carer is named only once they have accepted; before that only the email the
    service user typed is shown, so a proposal never reveals whose account an email is."""

    service_user = UserSummary()
    carer = serializers.SerializerMethodField()
    state = serializers.ChoiceField(choices=CarerLink.State.choices, read_only=True)
    is_active = serializers.BooleanField(read_only=True, help_text="Accepted and not ended.")

    class Meta:
        model = CarerLink
        fields = ["id", "service_user", "carer", "carer_email", "relationship", "state", "created_at", "accepted_at", "ended_at",
                  "is_active"]

    @extend_schema_field(UserSummary(allow_null=True))
    def get_carer(self, link) -> dict | None:
        return UserSummary(link.carer).data if link.carer_id and link.accepted_at else None


class AccountHistoryOut(serializers.Serializer):
    """One snapshot in an account's history: its details as they were after a change, and who made it."""

    at = serializers.DateTimeField(source="pgh_created_at", help_text="When the change was made.")
    change = serializers.ChoiceField(
        source="pgh_label", choices=["baseline", "insert", "update", "delete"],
        help_text="insert: created; update: changed; delete: removed; baseline: as it was when history began.",
    )
    changed_by = serializers.SerializerMethodField(help_text="The account id of who made the change; empty when not known.")
    via = serializers.SerializerMethodField(help_text="api, web or command; empty when not known.")
    email = serializers.EmailField()
    full_name = serializers.CharField()
    preferred_name = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)
    phone_number = serializers.CharField()
    is_active = serializers.BooleanField()

    def get_changed_by(self, row) -> int | None:
        return (row.pgh_context or {}).get("user")

    def get_via(self, row) -> str:
        return (row.pgh_context or {}).get("via", "")

"""The accounts REST API: thin views that parse, call one selector or service, and render.

Role checks sit on each view (`permission_classes`); which objects a role may see is decided by the
selectors; every read of an identifiable record is audited here, every change by its service.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate, user_logged_in
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts import invitations, records, selectors, services, two_factor
from backend.accounts import serializers as s
from backend.accounts.lockout import LOCKED_OUT_DETAIL
from backend.accounts.models import Role, User
from backend.accounts.permissions import ADMIN_ONLY, roles
from backend.audit.actor import Actor
from backend.audit.history import history_of
from backend.audit.models import AuditEvent
from backend.audit.services import audit_list, audit_record
from backend.core.errors import DomainError, Forbidden, InvalidInput, NotFound
from backend.core.pagination import CursorPaged
from backend.core.serializers import parse_input as parse

CARE_TEAM_OR_ADMIN = roles(Role.CLINICIAN, Role.PEER_WORKER, Role.ADMIN)
CLINICIAN_OR_ADMIN = roles(Role.CLINICIAN, Role.ADMIN)
SEES_SERVICE_USERS = roles(Role.CLINICIAN, Role.PEER_WORKER, Role.SERVICE_USER, Role.ADMIN)
SEES_CARER_LINKS = roles(Role.CLINICIAN, Role.PEER_WORKER, Role.SERVICE_USER, Role.CARER, Role.ADMIN)
# Lists of people page in the order they were added: a cursor carries the first ordering field's
# value in the URL, and a name must not travel there (access logs, browser history).
PEOPLE_ORDER = ("id",)


class LockedOut(DomainError):
    status = 429
    code = "locked_out"


# --- Authentication -------------------------------------------------------------------------------
class LoginApi(APIView):
    """Log in with email and password; get an expiring token. The contract integrators rely on."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=s.LoginInput, responses={200: s.LoginOutput, 202: s.LoginOtpRequired}, auth=[], operation_id="auth_login")
    def post(self, request):
        data = parse(s.LoginInput, request)
        actor = Actor.from_request(request)
        user = authenticate(request._request, username=data["email"].lower(), password=data["password"])
        if user is None:
            locked_out = bool(getattr(request._request, "axes_locked_out", False))
            services.login_failure_record(actor=actor, email=data["email"], locked_out=locked_out)
            if locked_out:
                raise LockedOut(LOCKED_OUT_DETAIL)
            raise InvalidInput("The email address or password is not right. Check them and try again.", code="invalid_credentials")
        if two_factor.enrolment_needed(user):
            raise Forbidden("Your organisation asks staff to use two-factor sign-in. Log in on the web once to set it up, "
                            "then log in here again.", code="two_factor_setup_required")
        if two_factor.second_factor_needed(user):
            expiry = timezone.now() + timedelta(seconds=settings.TWO_FACTOR_CHALLENGE_SECONDS)
            return Response(s.LoginOtpRequired({"otp_required": True, "challenge": two_factor.challenge_issue(user),
                                                "challenge_expiry": expiry}).data, status=status.HTTP_202_ACCEPTED)
        return _token_response(request, actor, user)


def _token_response(request, actor: Actor, user: User) -> Response:
    token, expiry = services.api_token_issue(actor=actor, user=user)
    # As django.contrib.auth.login does for sessions: records last_login and clears the failed-login count.
    user_logged_in.send(sender=user.__class__, request=request._request, user=user)
    return Response(s.LoginOutput({"token": token, "expiry": expiry, "user": user}).data)


class LoginOtpApi(APIView):
    """The second step of logging in, for people with two-factor sign-in: the login's challenge and a code."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=s.LoginOtpInput, responses={200: s.LoginOutput}, auth=[], operation_id="auth_login_otp")
    def post(self, request):
        data = parse(s.LoginOtpInput, request)
        actor = Actor.from_request(request)
        user = two_factor.challenge_user(data["challenge"])
        try:
            two_factor.second_factor_verify(user=user, code=data["code"], request=request)
        except two_factor.LockedOut:
            services.login_failure_record(actor=actor, email=user.email, locked_out=True)
            raise
        except InvalidInput:
            services.login_failure_record(actor=actor, email=user.email, locked_out=False)
            raise
        return _token_response(request, actor, user)


class LogoutApi(APIView):
    """End this token's session. Other tokens of the same account keep working."""

    @extend_schema(request=None, responses={204: OpenApiResponse(description="Logged out.")}, operation_id="auth_logout")
    def post(self, request):
        if request.auth is None:
            raise InvalidInput("Log out with the token you want to end (Authorization: Token <token>).", code="no_token")
        services.api_token_revoke(actor=Actor.from_request(request), token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetApi(APIView):
    """Ask for a set-password link by email. Always 202: nobody learns whether the address has an account."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=s.PasswordResetInput, responses={202: OpenApiResponse(description="If the address has a login, a link was emailed.")},
                   auth=[], operation_id="auth_password_reset")
    def post(self, request):
        data = parse(s.PasswordResetInput, request)
        invitations.password_reset_request(actor=Actor.from_request(request), email=data["email"],
                                           request_base_url=request.build_absolute_uri("/"))
        return Response(status=status.HTTP_202_ACCEPTED)


class SetPasswordApi(APIView):
    """Set a password with the parts of an invitation's or a forgotten-password email's link (works once)."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=s.SetPasswordInput, responses={204: OpenApiResponse(description="Password set: log in with it.")},
                   auth=[], operation_id="auth_set_password")
    def post(self, request):
        data = parse(s.SetPasswordInput, request)
        invitations.password_set_from_link(actor=Actor.from_request(request), kind=data["kind"], uidb64=data["uid"],
                                           token=data["token"], password=data["password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyPasswordApi(APIView):
    """Change your own password. Your other API tokens end; the one you used keeps working."""

    @extend_schema(request=s.PasswordChangeInput, responses={204: OpenApiResponse(description="Password changed.")})
    def post(self, request):
        data = parse(s.PasswordChangeInput, request)
        invitations.password_change(actor=Actor.from_request(request), user=request.user, old_password=data["old_password"],
                                    new_password=data["new_password"], keep_token_key=getattr(request.auth, "token_key", None))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    """Your own account and teams."""

    @extend_schema(responses={200: s.MeOut})
    def get(self, request):
        user = request.user
        audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.READ, obj=user)
        return Response(s.MeOut({"account": user, "teams": selectors.teams_of(user)}).data)

    @extend_schema(request=s.MyDetailsInput, responses={200: s.MeOut})
    def patch(self, request):
        """Change what you are called and your phone number (your full name is changed by an admin)."""
        user = services.user_update(actor=Actor.from_request(request), user=request.user, **parse(s.MyDetailsInput, request, partial=True))
        return Response(s.MeOut({"account": user, "teams": selectors.teams_of(user)}).data)


class MyEmailApi(APIView):
    """Ask to change your email address: a link goes to the new one, and the change happens when it is followed."""

    @extend_schema(request=s.EmailChangeInput, responses={202: OpenApiResponse(description="A link was emailed to the new address.")})
    def post(self, request):
        data = parse(s.EmailChangeInput, request)
        invitations.email_change_request(actor=Actor.from_request(request), user=request.user, new_email=data["email"],
                                         request_base_url=request.build_absolute_uri("/"))
        return Response(status=status.HTTP_202_ACCEPTED)


class EmailConfirmApi(APIView):
    """Follow the link sent to a new address, with its token (works once, for 24 hours)."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=s.EmailConfirmInput, responses={204: OpenApiResponse(description="The email address has changed.")},
                   auth=[], operation_id="auth_email_confirm")
    def post(self, request):
        invitations.email_change_confirm(actor=Actor.from_request(request), token=parse(s.EmailConfirmInput, request)["token"])
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Accounts (admin) -----------------------------------------------------------------------------
class UserListApi(CursorPaged, APIView):
    permission_classes = [ADMIN_ONLY]

    @extend_schema(responses={200: s.AccountOut(many=True)})
    def get(self, request):
        page = self.page(selectors.users_for_admin(request.user), ordering=PEOPLE_ORDER)
        audit_list(actor=Actor.from_request(request), object_type="accounts.user", ids=[u.pk for u in page.items])
        return page.response(s.AccountOut(page.items, many=True).data)

    @extend_schema(request=s.UserCreateInput, responses={201: s.AccountOut})
    def post(self, request):
        # Staff join the admin's organisation; a service user is registered with it; carers join none.
        user = services.user_create(
            actor=Actor.from_request(request), organisation=request.user.organisation, **parse(s.UserCreateInput, request)
        )
        return Response(s.AccountOut(user).data, status=status.HTTP_201_CREATED)


class UserDetailApi(APIView):
    permission_classes = [ADMIN_ONLY]

    def _get(self, request, user_id) -> User:
        user = selectors.users_for_admin(request.user).filter(pk=user_id).first()
        if user is None:
            raise NotFound(f"No account {user_id}.", field="user_id")
        return user

    @extend_schema(responses={200: s.AccountOut})
    def get(self, request, user_id: int):
        user = self._get(request, user_id)
        audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.READ, obj=user)
        return Response(s.AccountOut(user).data)

    @extend_schema(request=s.UserUpdateInput, responses={200: s.AccountOut})
    def patch(self, request, user_id: int):
        user = self._get(request, user_id)
        user = services.user_update(actor=Actor.from_request(request), user=user, **parse(s.UserUpdateInput, request, partial=True))
        return Response(s.AccountOut(user).data)


class UserInvitationApi(APIView):
    """Email a person of your organisation a one-time link to set their password (their first login)."""

    permission_classes = [ADMIN_ONLY]

    @extend_schema(request=s.InvitationInput, responses={202: OpenApiResponse(description="Invitation sent.")})
    def post(self, request, user_id: int):
        user = selectors.users_for_admin(request.user).filter(pk=user_id).first()
        if user is None:
            raise NotFound(f"No account {user_id}.", field="user_id")
        data = parse(s.InvitationInput, request)
        invitations.invitation_send(actor=Actor.from_request(request), user=user, email=data["email"],
                                    request_base_url=request.build_absolute_uri("/"))
        return Response(status=status.HTTP_202_ACCEPTED)


class ServiceUserRecordsApi(APIView):
    """Everything Rapport holds about a service user (backend/accounts/records.py): the person themselves,
    or an admin of an organisation they are registered with (a subject access request). Audited."""

    permission_classes = [roles(Role.SERVICE_USER, Role.ADMIN)]

    @extend_schema(responses={200: s.SubjectRecordOut})
    def get(self, request, service_user_id: int):
        subject = User.objects.filter(pk=service_user_id).first()
        if subject is None:
            raise NotFound(f"No record {service_user_id}.", field="service_user_id")
        return Response(records.subject_record_for(actor=Actor.from_request(request), subject=subject))


class UserTwoFactorResetApi(APIView):
    """Reset a colleague's two-factor sign-in (a lost phone): they set up a new app at their next sign-in. Audited."""

    permission_classes = [ADMIN_ONLY]

    @extend_schema(request=None, responses={204: OpenApiResponse(description="Their authenticator app and recovery codes are removed.")})
    def post(self, request, user_id: int):
        user = selectors.users_for_admin(request.user).filter(pk=user_id).first()
        if user is None:
            raise NotFound(f"No account {user_id}.", field="user_id")
        two_factor.two_factor_reset(actor=Actor.from_request(request), user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserHistoryApi(CursorPaged, APIView):
    """Every earlier version of an account's details (backend/audit/history.py), oldest first, with who
    changed them. Kept on PostgreSQL only: empty on the embedded SQLite database."""

    permission_classes = [ADMIN_ONLY]

    @extend_schema(responses={200: s.AccountHistoryOut(many=True)})
    def get(self, request, user_id: int):
        user = selectors.users_for_admin(request.user).filter(pk=user_id).first()
        if user is None:
            raise NotFound(f"No account {user_id}.", field="user_id")
        audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.READ, obj=user, detail={"history": True})
        page = self.page(history_of(user), ordering=("pgh_id",))
        return page.response(s.AccountHistoryOut(page.items, many=True).data)


# --- Organisations and teams ----------------------------------------------------------------------
class OrganisationListApi(CursorPaged, APIView):
    """Your own organisation. New organisations are made by the operator (`manage.py organisation_create`),
    not through the API: an admin's powers end at their organisation's boundary."""

    permission_classes = [ADMIN_ONLY]

    @extend_schema(responses={200: s.OrganisationOut(many=True)})
    def get(self, request):
        page = self.page(selectors.organisations_visible_to(request.user), ordering=("id",))
        return page.response(s.OrganisationOut(page.items, many=True).data)


class OrganisationDetailApi(APIView):
    permission_classes = [ADMIN_ONLY]

    @extend_schema(responses={200: s.OrganisationOut})
    def get(self, request, organisation_id: int):
        return Response(s.OrganisationOut(selectors.organisation_for(request.user, organisation_id)).data)

    @extend_schema(request=s.OrganisationInput, responses={200: s.OrganisationOut})
    def patch(self, request, organisation_id: int):
        organisation = services.organisation_update(
            actor=Actor.from_request(request), organisation=selectors.organisation_for(request.user, organisation_id),
            **parse(s.OrganisationInput, request),
        )
        return Response(s.OrganisationOut(organisation).data)


class TeamListApi(CursorPaged, APIView):
    """Teams you can see: your own as a practitioner or service user; all for admins and evaluators."""

    def get_permissions(self):
        return [ADMIN_ONLY()] if self.request.method == "POST" else super().get_permissions()

    @extend_schema(responses={200: s.TeamOut(many=True)})
    def get(self, request):
        page = self.page(selectors.teams_visible_to(request.user), ordering=("id",))
        return page.response(s.TeamOut(page.items, many=True).data)

    @extend_schema(request=s.TeamCreateInput, responses={201: s.TeamOut})
    def post(self, request):
        data = parse(s.TeamCreateInput, request)
        organisation = selectors.organisations_visible_to(request.user).filter(pk=data.pop("organisation_id")).first()
        if organisation is None:
            raise InvalidInput("No organisation with this id that you manage.", field="organisation_id", code="does_not_exist")
        team = services.team_create(actor=Actor.from_request(request), organisation=organisation, **data)
        return Response(s.TeamOut(team).data, status=status.HTTP_201_CREATED)


class TeamDetailApi(APIView):
    def get_permissions(self):
        return [ADMIN_ONLY()] if self.request.method == "PATCH" else super().get_permissions()

    @extend_schema(responses={200: s.TeamOut})
    def get(self, request, team_id: int):
        return Response(s.TeamOut(selectors.team_for(request.user, team_id)).data)

    @extend_schema(request=s.TeamUpdateInput, responses={200: s.TeamOut})
    def patch(self, request, team_id: int):
        team = selectors.team_for(request.user, team_id)
        team = services.team_update(actor=Actor.from_request(request), team=team, **parse(s.TeamUpdateInput, request, partial=True))
        return Response(s.TeamOut(team).data)


class TeamMemberListApi(CursorPaged, APIView):
    """A team's clinicians and peer workers. Admins add and remove them."""

    def get_permissions(self):
        return [ADMIN_ONLY()] if self.request.method == "POST" else [CARE_TEAM_OR_ADMIN()]

    @extend_schema(responses={200: s.TeamMemberOut(many=True)})
    def get(self, request, team_id: int):
        team = selectors.team_for_caseload(request.user, team_id)
        page = self.page(selectors.team_members(team), ordering=PEOPLE_ORDER)
        audit_list(actor=Actor.from_request(request), object_type="accounts.user", ids=[m.user_id for m in page.items],
                   detail={"team": team.pk, "members": True})
        return page.response(s.TeamMemberOut(page.items, many=True).data)

    @extend_schema(request=s.TeamMemberInput, responses={201: s.TeamMemberOut})
    def post(self, request, team_id: int):
        team = selectors.team_for(request.user, team_id)
        user_id = parse(s.TeamMemberInput, request)["user_id"]
        user = selectors.users_for_admin(request.user).filter(pk=user_id).first()
        if user is None:
            raise InvalidInput("No account with this id.", field="user_id", code="does_not_exist")
        membership = services.team_member_add(actor=Actor.from_request(request), team=team, user=user)
        return Response(s.TeamMemberOut(membership).data, status=status.HTTP_201_CREATED)


class TeamMemberDetailApi(APIView):
    permission_classes = [ADMIN_ONLY]

    @extend_schema(request=None, responses={204: OpenApiResponse(description="Removed from the team.")})
    def delete(self, request, team_id: int, user_id: int):
        team = selectors.team_for(request.user, team_id)
        user = selectors.users_for_admin(request.user).filter(pk=user_id).first()
        if user is None:
            raise NotFound(f"No account {user_id}.", field="user_id")
        services.team_member_remove(actor=Actor.from_request(request), team=team, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CaseloadListApi(CursorPaged, APIView):
    """The service users on a team's caseload. The team's clinicians (and admins) add people."""

    def get_permissions(self):
        return [CLINICIAN_OR_ADMIN()] if self.request.method == "POST" else [CARE_TEAM_OR_ADMIN()]

    @extend_schema(responses={200: s.CaseloadEntryOut(many=True)})
    def get(self, request, team_id: int):
        team = selectors.team_for_caseload(request.user, team_id)
        page = self.page(selectors.team_caseload(team), ordering=PEOPLE_ORDER)
        audit_list(actor=Actor.from_request(request), object_type="accounts.user",
                   ids=[e.service_user_id for e in page.items], detail={"team": team.pk})
        return page.response(s.CaseloadEntryOut(page.items, many=True).data)

    @extend_schema(request=s.CaseloadInput, responses={201: s.CaseloadEntryOut})
    def post(self, request, team_id: int):
        team = selectors.team_for_caseload(request.user, team_id)
        service_user_id = parse(s.CaseloadInput, request)["service_user_id"]
        # 404 with one body for an unknown id, another role, or someone registered elsewhere.
        service_user = selectors.service_user_for_admission(team, service_user_id)
        entry = services.caseload_add(actor=Actor.from_request(request), team=team, service_user=service_user)
        return Response(s.CaseloadEntryOut(entry).data, status=status.HTTP_201_CREATED)


class CaseloadDetailApi(APIView):
    permission_classes = [CLINICIAN_OR_ADMIN]

    @extend_schema(request=None, responses={204: OpenApiResponse(description="Taken off the caseload.")})
    def delete(self, request, team_id: int, service_user_id: int):
        team = selectors.team_for_caseload(request.user, team_id)
        service_user = selectors.team_caseload(team).filter(service_user_id=service_user_id).first()
        if service_user is None:
            raise NotFound(f"Service user {service_user_id} is not on this team's caseload.", field="service_user_id")
        services.caseload_remove(actor=Actor.from_request(request), team=team, service_user=service_user.service_user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Registration with an organisation ------------------------------------------------------------
class RegistrationListApi(CursorPaged, APIView):
    """Service users registered with your organisation. Registering someone lets its teams take them
    onto a caseload; an admin registers people with their own organisation only."""

    permission_classes = [ADMIN_ONLY]

    @extend_schema(responses={200: s.RegistrationOut(many=True)})
    def get(self, request):
        page = self.page(selectors.registrations_for_admin(request.user), ordering=("id",))
        audit_list(actor=Actor.from_request(request), object_type="accounts.user", ids=[r.service_user_id for r in page.items],
                   detail={"registrations": True})
        return page.response(s.RegistrationOut(page.items, many=True).data)

    @extend_schema(request=s.RegistrationInput, responses={201: s.RegistrationOut})
    def post(self, request):
        service_user_id = parse(s.RegistrationInput, request)["service_user_id"]
        service_user = selectors.service_user_for_registration(request.user, service_user_id)
        registration = services.service_user_register(
            actor=Actor.from_request(request), organisation=request.user.organisation, service_user=service_user
        )
        return Response(s.RegistrationOut(registration).data, status=status.HTTP_201_CREATED)


# --- Service users --------------------------------------------------------------------------------
class ServiceUserListApi(CursorPaged, APIView):
    """Service users you may see: your caseloads' as a practitioner, yourself as a service user."""

    permission_classes = [SEES_SERVICE_USERS]

    @extend_schema(responses={200: s.ServiceUserOut(many=True)})
    def get(self, request):
        page = self.page(selectors.service_users_with_teams(request.user), ordering=PEOPLE_ORDER)
        audit_list(actor=Actor.from_request(request), object_type="accounts.user", ids=[p.pk for p in page.items])
        return page.response(s.ServiceUserOut(page.items, many=True).data)


class ServiceUserDetailApi(APIView):
    permission_classes = [SEES_SERVICE_USERS]

    @extend_schema(responses={200: s.ServiceUserOut})
    def get(self, request, service_user_id: int):
        person = selectors.service_user_for(request.user, service_user_id)
        audit_record(actor=Actor.from_request(request), action=AuditEvent.Action.READ, obj=person)
        return Response(s.ServiceUserOut(person).data)


class ServiceUserPhoneNumberApi(APIView):
    """Record or change a service user's phone number: the person themselves, or a clinician of their care team."""

    permission_classes = [roles(Role.CLINICIAN, Role.SERVICE_USER)]

    @extend_schema(request=s.PhoneNumberInput, responses={200: s.ServiceUserOut})
    def put(self, request, service_user_id: int):
        person = selectors.service_user_for(request.user, service_user_id)
        number = parse(s.PhoneNumberInput, request)["phone_number"]
        person = services.phone_number_update(actor=Actor.from_request(request), person=person, number=number)
        return Response(s.ServiceUserOut(person).data)


# --- Carer links ----------------------------------------------------------------------------------
class CarerLinkListApi(CursorPaged, APIView):
    """Carers, friends and family a service user has chosen to involve. Only the service user proposes
    one (by email); it is pending until the carer accepts. The answer is the same whether or not the
    email has a carer account, and names nobody: the carer's name shows once they accept."""

    def get_permissions(self):
        return [roles(Role.SERVICE_USER)()] if self.request.method == "POST" else [SEES_CARER_LINKS()]

    @extend_schema(responses={200: s.CarerLinkOut(many=True)})
    def get(self, request):
        page = self.page(selectors.carer_links_visible_to(request.user), ordering=("id",))
        audit_list(actor=Actor.from_request(request), object_type="accounts.carerlink", ids=[link.pk for link in page.items])
        return page.response(s.CarerLinkOut(page.items, many=True).data)

    @extend_schema(request=s.CarerLinkCreateInput, responses={201: s.CarerLinkOut})
    def post(self, request):
        link = services.carer_link_create(
            actor=Actor.from_request(request), service_user=request.user, **parse(s.CarerLinkCreateInput, request)
        )
        return Response(s.CarerLinkOut(link).data, status=status.HTTP_201_CREATED)


class CarerLinkAcceptApi(APIView):
    """The carer accepts a proposal to be involved. Until then the link shares nothing."""

    permission_classes = [roles(Role.CARER)]

    @extend_schema(request=None, responses={200: s.CarerLinkOut})
    def post(self, request, link_id: int):
        link = services.carer_link_accept(actor=Actor.from_request(request), link=selectors.carer_link_for(request.user, link_id))
        return Response(s.CarerLinkOut(link).data)


class CarerLinkDeclineApi(APIView):
    """The carer declines a proposal. It ends, kept as history."""

    permission_classes = [roles(Role.CARER)]

    @extend_schema(request=None, responses={200: s.CarerLinkOut})
    def post(self, request, link_id: int):
        link = services.carer_link_decline(actor=Actor.from_request(request), link=selectors.carer_link_for(request.user, link_id))
        return Response(s.CarerLinkOut(link).data)


class CarerLinkEndApi(APIView):
    """End a carer link. The link stays in the history with who ended it and when."""

    permission_classes = [roles(Role.SERVICE_USER, Role.CARER, Role.ADMIN)]

    @extend_schema(request=None, responses={200: s.CarerLinkOut})
    def post(self, request, link_id: int):
        link = selectors.carer_link_for(request.user, link_id)
        link = services.carer_link_end(actor=Actor.from_request(request), link=link)
        return Response(s.CarerLinkOut(link).data)



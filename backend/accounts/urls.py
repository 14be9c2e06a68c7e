from django.urls import path

from backend.accounts import apis

urlpatterns = [
    path("auth/login/", apis.LoginApi.as_view(), name="auth-login"),
    path("auth/logout/", apis.LogoutApi.as_view(), name="auth-logout"),
    path("me/", apis.MeApi.as_view(), name="me"),
    path("users/", apis.UserListApi.as_view(), name="user-list"),
    path("users/<int:user_id>/", apis.UserDetailApi.as_view(), name="user-detail"),
    path("users/<int:user_id>/history/", apis.UserHistoryApi.as_view(), name="user-history"),
    path("organisations/", apis.OrganisationListApi.as_view(), name="organisation-list"),
    path("organisations/<int:organisation_id>/", apis.OrganisationDetailApi.as_view(), name="organisation-detail"),
    path("teams/", apis.TeamListApi.as_view(), name="team-list"),
    path("teams/<int:team_id>/", apis.TeamDetailApi.as_view(), name="team-detail"),
    path("teams/<int:team_id>/members/", apis.TeamMemberListApi.as_view(), name="team-member-list"),
    path("teams/<int:team_id>/members/<int:user_id>/", apis.TeamMemberDetailApi.as_view(), name="team-member-detail"),
    path("teams/<int:team_id>/caseload/", apis.CaseloadListApi.as_view(), name="caseload-list"),
    path("teams/<int:team_id>/caseload/<int:service_user_id>/", apis.CaseloadDetailApi.as_view(), name="caseload-detail"),
    path("registrations/", apis.RegistrationListApi.as_view(), name="registration-list"),
    path("service-users/", apis.ServiceUserListApi.as_view(), name="service-user-list"),
    path("service-users/<int:service_user_id>/", apis.ServiceUserDetailApi.as_view(), name="service-user-detail"),
    path("service-users/<int:service_user_id>/phone-number/", apis.ServiceUserPhoneNumberApi.as_view(), name="service-user-phone-number"),
    path("carer-links/", apis.CarerLinkListApi.as_view(), name="carer-link-list"),
    path("carer-links/<int:link_id>/accept/", apis.CarerLinkAcceptApi.as_view(), name="carer-link-accept"),
    path("carer-links/<int:link_id>/decline/", apis.CarerLinkDeclineApi.as_view(), name="carer-link-decline"),
    path("carer-links/<int:link_id>/end/", apis.CarerLinkEndApi.as_view(), name="carer-link-end"),
]

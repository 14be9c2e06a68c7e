from django.urls import path

from backend.accounts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/two-factor/", views.login_two_factor, name="login-two-factor"),
    path("login/two-factor/set-up/", views.login_two_factor_setup, name="login-two-factor-setup"),
    path("account/two-factor/set-up/", views.login_two_factor_setup, name="two-factor-setup"),
    path("account/two-factor/recovery-codes/", views.recovery_codes_new, name="two-factor-recovery-codes"),
    path("account/two-factor/remove/", views.two_factor_remove, name="two-factor-remove"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("login/forgotten-password/", views.password_reset, name="password-reset"),
    path("set-password/<str:kind>/<str:uidb64>/<str:token>/", views.set_password, name="set-password"),
    path("account/", views.account, name="account"),
    path("account/records/", views.my_records, name="records"),
    path("account/records.json", views.my_records_json, name="records-json"),
    path("people/<int:service_user_id>/records/", views.my_records, name="records-admin"),
    path("people/<int:service_user_id>/records.json", views.my_records_json, name="records-json-admin"),
    path("account/email/", views.email_change, name="email-change"),
    path("account/email/confirm/<str:token>/", views.email_confirm, name="email-confirm"),
    path("account/password/", views.password_change, name="password-change"),
    path("people/<int:service_user_id>/phone-number/", views.phone_number_update, name="phone-number-update"),
    path("carers/add/", views.carer_link_add, name="carer-link-add"),
    path("carers/<int:link_id>/end/", views.carer_link_end, name="carer-link-end-web"),
    path("carers/<int:link_id>/accept/", views.carer_link_answer, {"answer": "accept"}, name="carer-link-accept-web"),
    path("carers/<int:link_id>/decline/", views.carer_link_answer, {"answer": "decline"}, name="carer-link-decline-web"),
]

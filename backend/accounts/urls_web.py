from django.urls import path

from backend.accounts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("people/<int:service_user_id>/phone-number/", views.phone_number_update, name="phone-number-update"),
    path("carers/add/", views.carer_link_add, name="carer-link-add"),
    path("carers/<int:link_id>/end/", views.carer_link_end, name="carer-link-end-web"),
    path("carers/<int:link_id>/accept/", views.carer_link_answer, {"answer": "accept"}, name="carer-link-accept-web"),
    path("carers/<int:link_id>/decline/", views.carer_link_answer, {"answer": "decline"}, name="carer-link-decline-web"),
]

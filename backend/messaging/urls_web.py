from django.urls import path

from backend.messaging import views

urlpatterns = [
    path("contact/", views.contact, name="contact-preferences"),
    path("people/<int:service_user_id>/contact/", views.person_contact, name="person-contact"),
    path("q/<str:token>/", views.questionnaire_link, name="questionnaire-link"),
]

from django.urls import path

from backend.consent import views

urlpatterns = [
    path("consent/", views.consent_page, name="consent-page"),
    path("consent/decide/", views.consent_decide, name="consent-decide"),
    path("preferences/", views.preferences_page, name="preferences-page"),
]

from django.urls import path

from backend.consent import apis

urlpatterns = [
    path("consent/purposes/", apis.PurposeListApi.as_view(), name="consent-purpose-list"),
    path("consent/purposes/<slug:code>/wordings/", apis.WordingListApi.as_view(), name="consent-wording-list"),
    path("consent/reason-codes/", apis.ReasonCodeListApi.as_view(), name="modality-reason-list"),
    path("service-users/<int:service_user_id>/consent/", apis.ConsentStateApi.as_view(), name="consent-state"),
    path("service-users/<int:service_user_id>/consent/history/", apis.ConsentHistoryApi.as_view(), name="consent-history"),
    path("service-users/<int:service_user_id>/preference/", apis.PreferenceApi.as_view(), name="preference"),
    path("service-users/<int:service_user_id>/preference/history/", apis.PreferenceHistoryApi.as_view(), name="preference-history"),
]

from django.urls import path

from . import apis

urlpatterns = [
    path("peer-work/supervision/", apis.SupervisionListApi.as_view(), name="peerwork-supervision-list"),
    path("peer-work/supervision/<int:entry_id>/", apis.SupervisionDetailApi.as_view(), name="peerwork-supervision-detail"),
    path("peer-work/fidelity-questionnaires/", apis.QuestionnaireListApi.as_view(), name="peerwork-questionnaire-list"),
    path("peer-work/fidelity-ratings/", apis.RatingListApi.as_view(), name="peerwork-rating-list"),
]

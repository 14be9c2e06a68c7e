from django.urls import path

from . import views

urlpatterns = [
    path("peer-work/", views.home, name="peerwork-home"),
    path("peer-work/supervision/new/", views.supervision_new, name="peerwork-supervision-new"),
    path("peer-work/supervision/<int:entry_id>/", views.supervision_page, name="peerwork-supervision"),
    path("peer-work/fidelity/<int:peer_worker_id>/<int:team_id>/", views.rating_page, name="peerwork-rate"),
]

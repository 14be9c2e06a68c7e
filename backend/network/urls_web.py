from django.urls import path

from backend.network import views

urlpatterns = [
    path("network/", views.home, name="network-home"),
    path("network/people/<int:service_user_id>/", views.map_page, name="network-map"),
    path("network/people/<int:service_user_id>/start/", views.start, name="network-start"),
    path("network/people/<int:service_user_id>/members/", views.member_add, name="network-member-add"),
    path("network/people/<int:service_user_id>/members/<int:member_id>/", views.member_edit, name="network-member-edit"),
    path("network/people/<int:service_user_id>/members/<int:member_id>/remove/", views.member_remove, name="network-member-remove"),
    path("network/people/<int:service_user_id>/interests/", views.interests, name="network-interests"),
    path("network/people/<int:service_user_id>/sharing/", views.sharing, name="network-sharing"),
    path("network/people/<int:service_user_id>/snapshots/", views.snapshots, name="network-snapshots"),
    path("network/people/<int:service_user_id>/suggestions/", views.suggestions, name="network-suggestions"),
    path("network/people/<int:service_user_id>/signposts/", views.signposts, name="network-signposts"),
    path("network/people/<int:service_user_id>/signposts/<int:signpost_id>/follow-up/", views.follow_up, name="network-follow-up"),
]

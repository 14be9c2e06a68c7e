from django.urls import path

from backend.network import apis

urlpatterns = [
    path("service-users/<int:service_user_id>/network/", apis.MapApi.as_view(), name="network-map-api"),
    path("service-users/<int:service_user_id>/network/sharing/", apis.SharingApi.as_view(), name="network-sharing-api"),
    path("service-users/<int:service_user_id>/network/interests/", apis.InterestsApi.as_view(), name="network-interests-api"),
    path("service-users/<int:service_user_id>/network/members/", apis.MemberListApi.as_view(), name="network-member-list"),
    path("service-users/<int:service_user_id>/network/members/<int:member_id>/", apis.MemberDetailApi.as_view(), name="network-member-detail"),
    path("service-users/<int:service_user_id>/network/snapshots/", apis.SnapshotListApi.as_view(), name="network-snapshot-list"),
    path("service-users/<int:service_user_id>/network/snapshots/<int:snapshot_id>/", apis.SnapshotDetailApi.as_view(),
         name="network-snapshot-detail"),
    path("service-users/<int:service_user_id>/network/suggestions/", apis.SuggestionListApi.as_view(), name="network-suggestion-list"),
    path("service-users/<int:service_user_id>/signposts/", apis.SignpostListApi.as_view(), name="signpost-list"),
    path("service-users/<int:service_user_id>/signposts/<int:signpost_id>/follow-ups/", apis.FollowUpListApi.as_view(),
         name="signpost-follow-up-list"),
    path("resources/", apis.ResourceListApi.as_view(), name="resource-list"),
    path("resources/<int:resource_id>/", apis.ResourceDetailApi.as_view(), name="resource-detail"),
    path("network/categories/", apis.CategoryListApi.as_view(), name="network-category-list"),
]

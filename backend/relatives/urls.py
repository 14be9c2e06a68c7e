from django.urls import path

from backend.relatives import apis

urlpatterns = [
    path("relatives/modules/", apis.ModuleListApi.as_view(), name="relatives-module-list"),
    path("relatives/modules/<int:module_id>/", apis.ModuleDetailApi.as_view(), name="relatives-module-detail"),
    path("relatives/pages/<int:page_id>/open/", apis.PageOpenApi.as_view(), name="relatives-page-open"),
    path("relatives/threads/", apis.ThreadListApi.as_view(), name="relatives-thread-list"),
    path("relatives/threads/<int:thread_id>/", apis.ThreadDetailApi.as_view(), name="relatives-thread-detail"),
    path("relatives/threads/<int:thread_id>/messages/", apis.ThreadMessageApi.as_view(), name="relatives-thread-messages"),
    path("relatives/forum/posts/", apis.PostListApi.as_view(), name="relatives-post-list"),
    path("relatives/forum/posts/<int:post_id>/report/", apis.PostReportApi.as_view(), name="relatives-post-report-api"),
    path("relatives/forum/posts/<int:post_id>/moderation/", apis.PostModerationApi.as_view(), name="relatives-post-moderation"),
    path("relatives/safety-flags/", apis.SafetyFlagListApi.as_view(), name="relatives-safety-flag-list"),
    path("relatives/invitations/", apis.InvitationApi.as_view(), name="relatives-invitation"),
    path("relatives/usage/", apis.UsageApi.as_view(), name="relatives-usage"),
]

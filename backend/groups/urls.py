from django.urls import path

from backend.groups import apis

urlpatterns = [
    path("groups/", apis.GroupListApi.as_view(), name="group-list"),
    path("groups/<int:group_id>/", apis.GroupDetailApi.as_view(), name="group-detail"),
    path("groups/<int:group_id>/start/", apis.GroupStartApi.as_view(), name="group-start"),
    path("groups/<int:group_id>/mute-all/", apis.GroupMuteAllApi.as_view(), name="group-mute-all"),
    path("groups/<int:group_id>/end/", apis.GroupEndApi.as_view(), name="group-end"),
    path("groups/<int:group_id>/people/", apis.GroupPeopleApi.as_view(), name="group-people-add"),
    path("groups/<int:group_id>/cancel/", apis.GroupCancelApi.as_view(), name="group-cancel"),
    path("groups/<int:group_id>/attendees/<int:attendee_id>/unbook/", apis.GroupUnbookApi.as_view(), name="group-attendee-unbook"),
    path("groups/<int:group_id>/media/", apis.GroupMediaApi.as_view(), name="group-media"),
    path("groups/<int:group_id>/attendees/<int:attendee_id>/admit/", apis.GroupAdmitApi.as_view(), name="group-attendee-admit"),
    path("groups/<int:group_id>/attendees/<int:attendee_id>/remove/", apis.GroupRemoveApi.as_view(), name="group-attendee-remove"),
    path("groups/<int:group_id>/attendees/<int:attendee_id>/attendance/", apis.GroupAttendanceApi.as_view(), name="group-attendee-attendance"),
]

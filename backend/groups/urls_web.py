"""Group pages, under /groups/ (backend/urls.py). Staff pages: group_list, group_book, group_detail, group_register_*."""
"""Group pages (included once under /groups/ by backend/urls.py)."""

from django.urls import path

from backend.groups import views

urlpatterns = [
    path("", views.group_list, name="group_list"),
    path("book/", views.group_book, name="group_book"),
    path("<int:group_id>/", views.group_detail, name="group_detail"),
    path("<int:group_id>/cancel/", views.group_book_cancel, name="group_book_cancel"),
    path("<int:group_id>/people/", views.group_register_add, name="group_register_add"),
    path("<int:group_id>/people/<int:attendee_id>/unbook/", views.group_register_unbook, name="group_register_unbook"),
    path("<int:group_id>/register/<int:attendee_id>/", views.group_register_correct, name="group_register_correct"),
    # Live: the attendee's waiting room and call, the facilitator's live view (issue #16 points 2 and 3).
    path("<int:group_id>/room/", views.group_room_page, name="group_room_page"),
    path("<int:group_id>/room/status/", views.group_room_status, name="group_room_status"),
    path("<int:group_id>/room/arrive/", views.group_room_arrive, name="group_room_arrive"),
    path("<int:group_id>/room/leave/", views.group_room_leave, name="group_room_leave"),
    path("<int:group_id>/call/", views.group_call_page, name="group_call_page"),
    path("<int:group_id>/facilitate/", views.group_facilitate_page, name="group_facilitate_page"),
    path("<int:group_id>/facilitate/attendees/", views.group_facilitate_attendees, name="group_facilitate_attendees"),
    path("<int:group_id>/facilitate/start/", views.group_facilitate_start, name="group_facilitate_start"),
    path("<int:group_id>/facilitate/admit-all/", views.group_facilitate_admit_all, name="group_facilitate_admit_all"),
    path("<int:group_id>/facilitate/message/", views.group_facilitate_message, name="group_facilitate_message"),
    path("<int:group_id>/facilitate/mute-all/", views.group_facilitate_mute_all, name="group_facilitate_mute_all"),
    path("<int:group_id>/facilitate/end/", views.group_facilitate_end, name="group_facilitate_end"),
    path("<int:group_id>/facilitate/<int:attendee_id>/admit/", views.group_facilitate_admit, name="group_facilitate_admit"),
    path("<int:group_id>/facilitate/<int:attendee_id>/hold/", views.group_facilitate_hold, name="group_facilitate_hold"),
    path("<int:group_id>/facilitate/<int:attendee_id>/remove/", views.group_facilitate_remove, name="group_facilitate_remove"),
    path("<int:group_id>/facilitate/<int:attendee_id>/safety/", views.group_facilitate_safety, name="group_facilitate_safety"),
]

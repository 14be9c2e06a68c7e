"""Group pages, under /groups/ (backend/urls.py). Staff pages: group_list, group_book, group_detail, group_register_*."""

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
]

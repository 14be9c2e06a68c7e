from django.urls import path

from backend.relatives import views

urlpatterns = [
    path("relatives/", views.home, name="relatives-home"),
    path("relatives/modules/<int:module_id>/", views.module_page, name="relatives-module"),
    path("relatives/pages/<int:page_id>/", views.page_read, name="relatives-page"),
    path("relatives/messages/", views.threads, name="relatives-threads"),
    path("relatives/messages/<int:thread_id>/", views.thread, name="relatives-thread"),
    path("relatives/help-now/", views.help_now, name="relatives-help-now"),
    path("relatives/forum/", views.forum, name="relatives-forum"),
    path("relatives/forum/<int:post_id>/", views.post, name="relatives-post"),
    path("relatives/forum/<int:post_id>/report/", views.post_report, name="relatives-post-report"),
    path("relatives/forum/<int:post_id>/moderate/", views.post_moderate, name="relatives-post-moderate"),
    path("relatives/moderation/", views.moderation, name="relatives-moderation"),
    path("relatives/flags/", views.flags, name="relatives-flags"),
    path("relatives/flags/<int:safety_flag_id>/review/", views.flag_review, name="relatives-flag-review"),
    path("relatives/flags/waiting/", views.flags_waiting, name="relatives-flags-waiting"),
    path("relatives/leave/", views.leave, name="relatives-leave"),
    path("relatives/evaluation/", views.evaluation_choice, name="relatives-evaluation"),
    path("relatives/staff/", views.staff, name="relatives-staff"),
    path("relatives/staff/relatives/<int:relative_id>/end/", views.relative_end, name="relatives-relative-end"),
    path("relatives/staff/invite/<int:link_id>/", views.invite_from_link, name="relatives-invite-from-link"),
    path("relatives/staff/supporters/", views.supporter_add, name="relatives-supporter-add"),
    path("relatives/staff/supporters/<int:supporter_id>/end/", views.supporter_end, name="relatives-supporter-end"),
    path("relatives/staff/settings/", views.settings_save, name="relatives-settings"),
    path("relatives/staff/modules/", views.admin_modules, name="relatives-admin-modules"),
    path("relatives/staff/modules/<int:module_id>/", views.admin_module, name="relatives-admin-module"),
    path("relatives/staff/pages/<int:page_id>/", views.admin_page_edit, name="relatives-admin-page"),
]

from django.urls import path

from backend.college import views

urlpatterns = [
    path("college/prospectus/", views.prospectus, name="college-prospectus"),
    path("college/", views.home, name="college-home"),
    path("college/runs/<int:run_id>/", views.run_page, name="college-run"),
    path("college/runs/<int:run_id>/enrol/", views.enrol, name="college-enrol"),
    path("college/runs/<int:run_id>/sessions/<int:number>/register/", views.register, name="college-register-page"),
    path("college/my/<int:enrolment_id>/", views.enrolment_page, name="college-enrolment"),
    path("college/my/<int:enrolment_id>/withdraw/", views.withdraw, name="college-withdraw"),
    path("college/my/<int:enrolment_id>/feedback/", views.feedback_submit, name="college-feedback-page"),
    path("college/my/<int:enrolment_id>/certificate/", views.certificate, name="college-certificate"),
    path("college/manage/", views.manage, name="college-manage"),
    path("college/manage/runs/<int:run_id>/", views.manage_run, name="college-manage-run"),
]

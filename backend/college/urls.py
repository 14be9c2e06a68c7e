from django.urls import path

from backend.college import apis

urlpatterns = [
    path("college/runs/", apis.RunListApi.as_view(), name="college-run-list"),
    path("college/runs/<int:run_id>/", apis.RunDetailApi.as_view(), name="college-run-detail"),
    path("college/runs/<int:run_id>/facilitators/", apis.RunFacilitatorApi.as_view(), name="college-run-facilitators"),
    path("college/runs/<int:run_id>/publish/", apis.RunPublishApi.as_view(), name="college-run-publish"),
    path("college/runs/<int:run_id>/enrolments/", apis.RunEnrolmentApi.as_view(), name="college-run-enrolments"),
    path("college/runs/<int:run_id>/sessions/<int:number>/register/", apis.RegisterApi.as_view(), name="college-register"),
    path("college/enrolments/", apis.EnrolmentListApi.as_view(), name="college-enrolment-list"),
    path("college/enrolments/<int:enrolment_id>/withdraw/", apis.EnrolmentWithdrawApi.as_view(), name="college-enrolment-withdraw"),
    path("college/enrolments/<int:enrolment_id>/plan/", apis.LearningPlanApi.as_view(), name="college-learning-plan"),
    path("college/enrolments/<int:enrolment_id>/feedback/", apis.FeedbackApi.as_view(), name="college-feedback"),
    path("college/feedback-form/", apis.FeedbackFormApi.as_view(), name="college-feedback-form"),
    path("college/courses/", apis.CourseListApi.as_view(), name="college-course-list"),
    path("college/terms/", apis.TermListApi.as_view(), name="college-term-list"),
    path("college/trainers/", apis.TrainerListApi.as_view(), name="college-trainer-list"),
]

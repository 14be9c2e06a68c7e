from django.urls import path

from backend.evaluation import views

urlpatterns = [
    path("evaluation/", views.report_page, name="evaluation-report-page"),
    path("evaluation/report.<str:fmt>", views.report_download, name="evaluation-report-download"),
    path("evaluation/export/", views.export_download, name="evaluation-export-download"),
]

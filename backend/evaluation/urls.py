from django.urls import path

from backend.evaluation import apis

urlpatterns = [
    path("evaluation/datasets/", apis.DatasetListApi.as_view(), name="evaluation-dataset-list"),
    path("evaluation/exports/", apis.ExportApi.as_view(), name="evaluation-export"),
    path("evaluation/report/", apis.ReportApi.as_view(), name="evaluation-report"),
    path("evaluation/report/by-role-and-site/", apis.RoleSiteReportApi.as_view(), name="evaluation-report-by-role-and-site"),
]

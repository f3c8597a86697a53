from django.urls import path

from . import views

app_name = "complaints"

urlpatterns = [
    path("", views.complaint_list, name="list"),
    path("new/", views.complaint_create, name="create"),
    path("promises/", views.promise_list, name="promises"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/badge/", views.notification_badge, name="notification_badge"),
    path("notifications/<int:pk>/", views.notification_open, name="notification_open"),
    path("report/", views.report, name="report"),
    path("report/export.csv", views.report_export, {"fmt": "csv"}, name="report_csv"),
    path("report/export.xlsx", views.report_export, {"fmt": "xlsx"}, name="report_xlsx"),
    path("<int:pk>/", views.complaint_detail, name="detail"),
    path("<int:pk>/evidence/<int:event_pk>/", views.evidence_download, name="evidence"),
    path("<int:pk>/promises/<int:promise_pk>/deliver/", views.promise_deliver, name="promise_deliver"),
    path("<int:pk>/<slug:action>/", views.complaint_action, name="action"),
]

from django.urls import path

from .dashboard import outcome_views
from .dashboard import views as dashboard
from .views import call_sheet, calls, discharges, drafts, patients, scripts, worklist

app_name = "calls"

urlpatterns = [
    path("", worklist.worklist, name="worklist"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("scripts/<int:version_id>/preview/", scripts.script_preview, name="script_preview"),
    path("discharges/", discharges.discharge_list, name="discharge_list"),
    path("discharges/new/", discharges.discharge_new, name="discharge_new"),
    path("reassign/", worklist.reassign, name="reassign"),
    path("sheet/", call_sheet.call_sheet, name="call_sheet"),
    path("<int:pk>/", calls.call_detail, name="call_detail"),
    path("<int:pk>/attempt/", calls.call_attempt, name="call_attempt"),
    path("<int:pk>/complete/", calls.call_complete_view, name="call_complete"),
    path("<int:pk>/draft/", drafts.call_draft, name="call_draft"),
    path("<int:pk>/deceased/", calls.call_deceased, name="call_deceased"),
    path("deaths/<int:pk>/reverse/", calls.death_reverse, name="death_reverse"),
    path("alerts/", calls.alerts, name="alerts"),
    path("patients/", patients.patient_search, name="patient_search"),
    path("patients/<int:pk>/", patients.patient_detail, name="patient_detail"),
    path("patients/<int:pk>/access/", patients.patient_access, name="patient_access"),
    path("alerts/<int:pk>/resolve/", calls.alert_resolve_view, name="alert_resolve"),
    path("dashboard/calls/", dashboard.dashboard_calls, name="dashboard_calls"),
    path("dashboard/patients/", dashboard.dashboard_patients, name="dashboard_patients"),
    path("dashboard/patients/<int:pk>/", dashboard.dashboard_patient_stay, name="dashboard_stay"),
    path("dashboard/export.csv", dashboard.dashboard_export, {"fmt": "csv"}, name="dashboard_export_csv"),
    path("dashboard/export.xlsx", dashboard.dashboard_export, {"fmt": "xlsx"}, name="dashboard_export_xlsx"),
    path("dashboard/outcomes/", outcome_views.outcome_report_page, name="outcome_report"),
    path("dashboard/outcomes.csv", outcome_views.outcome_report_export, {"fmt": "csv"}, name="outcome_report_csv"),
    path("dashboard/outcomes.xlsx", outcome_views.outcome_report_export, {"fmt": "xlsx"}, name="outcome_report_xlsx"),
    path("spot-checks/", dashboard.spot_check_list, name="spot_checks"),
    path("spot-checks/<int:pk>/", dashboard.spot_check_detail, name="spot_check_detail"),
]

from django.urls import path

from .dashboard import views as dashboard
from .views import calls, discharges, patients, scripts, worklist

app_name = "calls"

urlpatterns = [
    path("", worklist.worklist, name="worklist"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("scripts/<int:version_id>/preview/", scripts.script_preview, name="script_preview"),
    path("discharges/", discharges.discharge_list, name="discharge_list"),
    path("discharges/new/", discharges.discharge_new, name="discharge_new"),
    path("reassign/", worklist.reassign, name="reassign"),
    path("<int:pk>/", calls.call_detail, name="call_detail"),
    path("<int:pk>/attempt/", calls.call_attempt, name="call_attempt"),
    path("<int:pk>/complete/", calls.call_complete_view, name="call_complete"),
    path("<int:pk>/deceased/", calls.call_deceased, name="call_deceased"),
    path("alerts/", calls.alerts, name="alerts"),
    path("patients/<int:pk>/access/", patients.patient_access, name="patient_access"),
    path("alerts/<int:pk>/resolve/", calls.alert_resolve_view, name="alert_resolve"),
    path("dashboard/calls/", dashboard.dashboard_calls, name="dashboard_calls"),
    path("dashboard/patients/", dashboard.dashboard_patients, name="dashboard_patients"),
    path("dashboard/patients/<int:pk>/", dashboard.dashboard_patient_stay, name="dashboard_stay"),
    path("dashboard/export.csv", dashboard.dashboard_export, {"fmt": "csv"}, name="dashboard_export_csv"),
    path("dashboard/export.xlsx", dashboard.dashboard_export, {"fmt": "xlsx"}, name="dashboard_export_xlsx"),
    path("spot-checks/", dashboard.spot_check_list, name="spot_checks"),
    path("spot-checks/<int:pk>/", dashboard.spot_check_detail, name="spot_check_detail"),
]

from django.urls import path

from .views import dashboard, discharges, scripts, worklist

app_name = "calls"

urlpatterns = [
    path("", worklist.worklist, name="worklist"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("scripts/<int:version_id>/preview/", scripts.script_preview, name="script_preview"),
    path("discharges/", discharges.discharge_list, name="discharge_list"),
    path("discharges/new/", discharges.discharge_new, name="discharge_new"),
]

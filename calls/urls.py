from django.urls import path

from .views import dashboard, scripts, worklist

app_name = "calls"

urlpatterns = [
    path("", worklist.worklist, name="worklist"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("scripts/<int:version_id>/preview/", scripts.script_preview, name="script_preview"),
]

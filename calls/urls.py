from django.urls import path

from .views import dashboard, worklist

app_name = "calls"

urlpatterns = [
    path("", worklist.worklist, name="worklist"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
]

from django.urls import path

from . import views

app_name = "calls"

urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("dashboard/", views.dashboard, name="dashboard"),
]

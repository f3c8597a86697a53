from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from followup.roles import Role, role_required


@role_required(Role.HEAD_NURSE)
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "calls/dashboard.html")

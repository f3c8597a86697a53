from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from followup.roles import Role, role_required


@role_required(Role.COMPLAINT_OFFICER, Role.HEAD_NURSE, Role.NURSE)
def complaint_list(request: HttpRequest) -> HttpResponse:
    return render(request, "complaints/list.html")

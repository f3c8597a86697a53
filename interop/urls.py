from django.urls import path

from . import views

app_name = "interop"
urlpatterns = [
    path("fhir/Bundle", views.fhir_bundle, name="fhir_bundle"),
    path("fhir/metadata", views.fhir_metadata, name="fhir_metadata"),
]

"""followup.modelbase.BaseModel.from_db: an instance read from the database
is the one Django's own from_db (through Model.__init__) would make, for
every model of the project, with every column read or only some; a model
that Django's path would treat differently (a converting descriptor,
someone listening to post_init) goes through Django's path."""

import pytest
from django.apps import apps
from django.db import models
from django.db.models.signals import post_init

from calls.models import Discharge, FollowUpCall, Patient
from complaints.models import ComplaintEvent
from followup.modelbase import BaseModel, loads_plainly
from tests.factories import FollowUpCallFactory

OWN_APPS = {"calls", "complaints", "followup", "interop"}


def own_models():
    return [m for m in apps.get_models() if m._meta.app_label in OWN_APPS]


def djangos(model, field_names, values):
    """What Django's own from_db makes of the row."""
    return models.Model.from_db.__func__(model, "default", field_names, values)


def state(instance) -> tuple:
    values = {name: value for name, value in vars(instance).items() if name != "_state"}
    return values, instance._state.adding, instance._state.db, instance.get_deferred_fields()


def row(model, *, every_other: bool):
    fields = model._meta.concrete_fields
    if every_other:  # a row of some columns (only(), defer()), the key always among them
        fields = [f for i, f in enumerate(fields) if i % 2 == 0 or f.primary_key]
    return [f.attname for f in fields], [f"value of {f.attname}" for f in fields]


def test_every_model_of_the_project_loads_through_the_base():
    missing = [m.__name__ for m in own_models() if not issubclass(m, BaseModel)]
    assert missing == []


@pytest.mark.parametrize("every_other", [False, True], ids=["every column", "some columns"])
@pytest.mark.parametrize("model", own_models(), ids=lambda m: m.__name__)
def test_an_instance_read_is_the_one_djangos_from_db_makes(model, every_other):
    names, values = row(model, every_other=every_other)
    assert state(model.from_db("default", names, values)) == state(djangos(model, names, values))


def test_a_converting_descriptor_takes_djangos_path():
    # A file field's attribute wraps what it holds: the event's file is read the way Django reads it.
    assert not loads_plainly(ComplaintEvent)
    names, values = row(ComplaintEvent, every_other=False)
    event = ComplaintEvent.from_db("default", names, values)
    assert state(event) == state(djangos(ComplaintEvent, names, values))
    assert loads_plainly(FollowUpCall) and loads_plainly(Patient)


@pytest.mark.django_db
def test_a_post_init_listener_hears_every_row_read():
    call = FollowUpCallFactory()
    heard = []

    def listener(sender, instance, **kwargs):
        heard.append(instance.pk)

    post_init.connect(listener, sender=Discharge)
    try:
        loaded = FollowUpCall.objects.select_related("discharge").get(pk=call.pk)
    finally:
        post_init.disconnect(listener, sender=Discharge)
    assert heard == [call.discharge_id]
    assert loaded.discharge.pk == call.discharge_id


@pytest.mark.django_db
def test_a_row_read_in_part_reads_the_rest_when_asked_and_saves_as_an_update():
    call = FollowUpCallFactory(discharge__patient__name="Wang Fang")
    loaded = FollowUpCall.objects.select_related("discharge__patient").only("status", "discharge__patient__phone")
    loaded = loaded.get(pk=call.pk)
    assert "name" in loaded.discharge.patient.get_deferred_fields()
    assert loaded.discharge.patient.name == "Wang Fang"  # read when asked
    loaded.discharge.patient.name = "Wang Fang (王芳)"
    loaded.discharge.patient.save(update_fields=["name"])
    assert Patient.objects.count() == 1
    assert Patient.objects.get(pk=call.discharge.patient_id).name == "Wang Fang (王芳)"
    assert loaded._state.adding is False and loaded._state.db == "default"

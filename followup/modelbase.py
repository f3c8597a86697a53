"""The base of the project's models: rows read from the database become
instances without running ``Model.__init__``.

Django makes an instance of every row it reads (and of every related row a
``select_related`` joins) by calling the class with one value per column,
the columns not read (``only``, ``defer``) filled with a marker, and
``__init__`` then walks every column of the model, setting each one read.
A worklist page of 25 rows makes 150 such instances (the call, its stay,
patient, ward, step and nurse), and that walk cost it 2.5 ms of its 4 ms
of reading rows: the stay and the patient have some thirty columns each,
of which the row shows a few.

``BaseModel.from_db`` gives the instance what ``__init__`` would: the
values read under their attribute names, a fresh ``_state`` that says
where it was read from, and nothing for a column not read (reading it
later loads it, as for any deferred column). It does so only where that is
exactly what ``__init__`` does:

- the class keeps Django's ``__init__``;
- every column is a plain attribute on the instance: Django's own
  attributes for columns and foreign keys, not a descriptor that converts
  what it is given (a file field's, say: such a model goes through Django's
  ``from_db``);
- nothing listens to ``pre_init`` or ``post_init`` for the class.

Otherwise, it is Django's ``from_db``. tests/followup/test_model_loading.py
compares the two for every model of the project.
"""

import functools

from django.db import models
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

# The attributes Django puts on a model for its columns and foreign keys:
# what is set on an instance is what it holds.
_PLAIN_ATTRIBUTES = (DeferredAttribute, ForeignKeyDeferredAttribute)


def _class_attribute(cls: type, name: str):
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


@functools.cache
def loads_plainly(cls: type[models.Model]) -> bool:
    """Whether ``__init__`` would do no more with a row of ``cls`` than put
    each value read on the instance (the module's docstring says when)."""
    if cls.__init__ is not models.Model.__init__:
        return False
    return all(type(_class_attribute(cls, field.attname)) in _PLAIN_ATTRIBUTES for field in cls._meta.concrete_fields)


class BaseModel(models.Model):
    """A model whose rows are read without ``__init__`` (module docstring)."""

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        if (
            not loads_plainly(cls)
            # receivers: an empty list when nothing listens at all, asked first (has_listeners takes a lock)
            or (pre_init.receivers and pre_init.has_listeners(cls))
            or (post_init.receivers and post_init.has_listeners(cls))
        ):
            return super().from_db(db, field_names, values)
        new = cls.__new__(cls)
        # field_names: the attribute names of the columns read, in the order of values.
        new.__dict__.update(zip(field_names, values, strict=True))
        state = new._state = ModelState()
        state.adding, state.db = False, db
        return new

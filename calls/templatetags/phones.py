"""{{ patient.phone|readable_phone }}: a stored number grouped for reading (calls.phones)."""

from django import template

from ..phones import readable_phone as _readable_phone

register = template.Library()


@register.filter
def readable_phone(value: str) -> str:
    return _readable_phone(value or "")

"""Formatting of dashboard figures: a rate as "92.0%" (or "too few"), a
change as "+1.2 pp" for rates or "+12" for counts."""

from django import template
from django.utils.translation import gettext as _

from followup.figures import Rate

register = template.Library()


@register.filter
def percent(rate: Rate) -> str:
    if not isinstance(rate, Rate):
        return ""
    if rate.percent is None:
        return _("too few")
    return f"{rate.percent:.1f}%"


@register.filter
def figure(value) -> str:
    """A headline value: a rate as a percentage, a count as is."""
    if isinstance(value, Rate):
        return percent(value)
    return str(value)


@register.filter
def change(value, is_rate: bool = False) -> str:
    if value is None:
        return "–"
    sign = "+" if value > 0 else ""
    if is_rate:
        return _("%(sign)s%(value).1f pp") % {"sign": sign, "value": value}
    return f"{sign}{value}"

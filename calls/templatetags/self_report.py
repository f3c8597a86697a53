"""``{% self_report_section figures %}``: the dashboard's self-report section
(templates/calls/includes/_dash_self_report.html) for the dashboard's
departments and period (counted by dashboard_figures with the rest)."""

from django import template

register = template.Library()


@register.inclusion_tag("calls/includes/_dash_self_report.html")
def self_report_section(figures) -> dict:
    return {"sr": figures.self_report}

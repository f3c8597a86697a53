"""``{% self_report_section figures %}``: the dashboard's self-report section
(templates/calls/includes/_dash_self_report.html) for the dashboard's
departments and period."""

from django import template

from ..selectors.self_report import self_report_figures

register = template.Library()


@register.inclusion_tag("calls/includes/_dash_self_report.html")
def self_report_section(figures) -> dict:
    return {"sr": self_report_figures(department_ids=figures.department_ids, period=figures.period)}

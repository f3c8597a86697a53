"""A stay's readmission risk as the screens show it: the tier with the LACE
total (or its lower bound when a component is unknown), and each component
with its points and where it came from."""

from functools import cache
from html import escape

from django import template
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from ..risk import RiskTier
from ..risk.lace import stored_component

register = template.Library()

LETTERS = {
    "L": gettext_lazy("Length of stay"),
    "A": gettext_lazy("Acute admission"),
    "C": gettext_lazy("Comorbidity (Charlson)"),
    "E": gettext_lazy("Emergency visits, 6 months before"),
}
SOURCES = {
    "stay_dates": gettext_lazy("from the admission and discharge dates"),
    "admission_type": gettext_lazy("from the admission type"),
    "icd10": gettext_lazy("from the ICD-10 codes"),
    "reported": gettext_lazy("as reported at registration"),
    "visits": gettext_lazy("from the emergency visits recorded"),
    "missing": gettext_lazy("not known"),
}
TIER_CLASSES = {
    RiskTier.HIGH: "text-bg-danger",
    RiskTier.MODERATE: "text-bg-warning",
    RiskTier.LOW: "text-bg-success",
    RiskTier.UNKNOWN: "text-bg-secondary",
}


@cache
def _tier_words(language: str | None) -> dict:
    """The badge's words in ``language`` (the active one when called)."""
    return {
        "tiers": {tier.value: _("%(tier)s risk") % {"tier": tier.label} for tier in RiskTier},
        "score": _("LACE %(score)s"),
        "at_least": _("LACE at least %(score)s"),
        "not_known": _("LACE not known"),
    }


def _score(stay, words: dict) -> str:
    if stay.risk_score is not None:
        return words["score"] % {"score": stay.risk_score}
    if stay.risk_lower_bound:
        return words["at_least"] % {"score": stay.risk_lower_bound}
    return words["not_known"]


def tier_badge_html(stay) -> str:
    """The badge alone (tier and LACE total) as HTML text, as risk_badge
    without ``detail`` renders it: the worklist writes one per row, so the
    words are translated once per language and the values escaped here."""
    words = _tier_words(get_language())
    tier = stay.risk_tier or RiskTier.UNKNOWN
    score = _score(stay, words)
    return (
        f'<span class="badge {TIER_CLASSES.get(tier, "text-bg-secondary")} risk-badge" '
        f'data-risk-tier="{escape(str(tier))}">{escape(words["tiers"][tier])} · {escape(score)}</span>'
    )


@register.simple_tag
def risk_tier_badge(stay) -> str:
    """tier_badge_html as a tag."""
    return SafeString(tier_badge_html(stay))  # nosec B703 -- tier_badge_html escapes every value


@register.inclusion_tag("calls/includes/_risk_badge.html")
def risk_badge(stay, detail: bool = False):
    """``stay``: a Discharge (or a row with risk_tier / risk_score /
    risk_lower_bound / risk_detail)."""
    tier = stay.risk_tier or RiskTier.UNKNOWN
    score = _score(stay, _tier_words(get_language()))
    components = []
    if detail:
        for kept in (stay.risk_detail or {}).get("components", []):
            component = stored_component(kept)
            components.append(
                {
                    "letter": component.letter,
                    "label": LETTERS.get(component.letter, component.letter),
                    "value": component.value,
                    "points": component.points,
                    "floor": component.floor,
                    "source": SOURCES.get(component.source, component.source),
                }
            )
    return {
        "tier": tier,
        "tier_label": RiskTier(tier).label,
        "css": TIER_CLASSES.get(tier, "text-bg-secondary"),
        "score": score,
        "components": components,
    }

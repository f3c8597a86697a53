"""Readmission risk at discharge: the LACE index (van Walraven et al., CMAJ
2010) with the Charlson comorbidity index coded from ICD-10 by Quan's
algorithm (Quan et al., Med Care 2005). Pure functions: no database, so the
form, the file import and the feeds score a discharge the same way, and a
batch of 200,000 is scored without a query per row."""

from .charlson import charlson_conditions, charlson_index, normalise_icd10, split_codes
from .lace import Component, LaceScore, RiskTier, lace_score

__all__ = [
    "Component",
    "LaceScore",
    "RiskTier",
    "charlson_conditions",
    "charlson_index",
    "lace_score",
    "normalise_icd10",
    "split_codes",
]

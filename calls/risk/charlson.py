"""The Charlson comorbidity index from ICD-10 codes.

The code table is Quan's ICD-10 coding algorithm for the Charlson
conditions: Quan H, Sundararajan V, Halfon P, et al. "Coding algorithms for
defining comorbidities in ICD-9-CM and ICD-10 administrative data." Med Care
2005;43(11):1130-1139, Table 1. It is transcribed from comorbidipy 0.5.0
(``mapping["charlson_icd10_quan"]``, MIT licence, (c) 2021 vvcb,
https://github.com/vvcb/comorbidipy), which is itself a port of the R
package ``comorbidity`` (Gasparini, JOSS 2018). We copy the table rather
than depend on the package because comorbidipy 0.5.0, the last release for
Python < 3.13, no longer imports with pandas 2 or later.

The weights are Charlson's original ones (Charlson et al., J Chronic Dis
1987), as the LACE index uses them; where a patient has both the mild and
the severe form of a condition (liver disease, diabetes, cancer), only the
severe one counts (the same hierarchy comorbidipy and ``comorbidity`` apply).
"""

import functools
import re
from collections.abc import Iterable

# Condition -> ICD-10 code prefixes (without the dot).
QUAN_ICD10: dict[str, tuple[str, ...]] = {
    "ami": (
        "I21",
        "I22",
        "I252",
    ),
    "chf": (
        "I099",
        "I110",
        "I130",
        "I132",
        "I255",
        "I420",
        "I425",
        "I426",
        "I427",
        "I428",
        "I429",
        "I43",
        "I50",
        "P290",
    ),
    "pvd": (
        "I70",
        "I71",
        "I731",
        "I738",
        "I739",
        "I771",
        "I790",
        "I792",
        "K551",
        "K558",
        "K559",
        "Z958",
        "Z959",
    ),
    "cevd": (
        "G45",
        "G46",
        "H340",
        "I60",
        "I61",
        "I62",
        "I63",
        "I64",
        "I65",
        "I66",
        "I67",
        "I68",
        "I69",
    ),
    "dementia": (
        "F00",
        "F01",
        "F02",
        "F03",
        "F051",
        "G30",
        "G311",
    ),
    "copd": (
        "I278",
        "I279",
        "J40",
        "J41",
        "J42",
        "J43",
        "J44",
        "J45",
        "J46",
        "J47",
        "J60",
        "J61",
        "J62",
        "J63",
        "J64",
        "J65",
        "J66",
        "J67",
        "J684",
        "J701",
        "J703",
    ),
    "rheumd": (
        "M05",
        "M06",
        "M315",
        "M32",
        "M33",
        "M34",
        "M351",
        "M353",
        "M360",
    ),
    "pud": (
        "K25",
        "K26",
        "K27",
        "K28",
    ),
    "mld": (
        "B18",
        "K700",
        "K701",
        "K702",
        "K703",
        "K709",
        "K713",
        "K714",
        "K715",
        "K717",
        "K73",
        "K74",
        "K760",
        "K762",
        "K763",
        "K764",
        "K768",
        "K769",
        "Z944",
    ),
    "diab": (
        "E100",
        "E101",
        "E106",
        "E108",
        "E109",
        "E110",
        "E111",
        "E116",
        "E118",
        "E119",
        "E120",
        "E121",
        "E126",
        "E128",
        "E129",
        "E130",
        "E131",
        "E136",
        "E138",
        "E139",
        "E140",
        "E141",
        "E146",
        "E148",
        "E149",
    ),
    "diabwc": (
        "E102",
        "E103",
        "E104",
        "E105",
        "E107",
        "E112",
        "E113",
        "E114",
        "E115",
        "E117",
        "E122",
        "E123",
        "E124",
        "E125",
        "E127",
        "E132",
        "E133",
        "E134",
        "E135",
        "E137",
        "E142",
        "E143",
        "E144",
        "E145",
        "E147",
    ),
    "hp": (
        "G041",
        "G114",
        "G801",
        "G802",
        "G81",
        "G82",
        "G830",
        "G831",
        "G832",
        "G833",
        "G834",
        "G839",
    ),
    "rend": (
        "I120",
        "I131",
        "N032",
        "N033",
        "N034",
        "N035",
        "N036",
        "N037",
        "N052",
        "N053",
        "N054",
        "N055",
        "N056",
        "N057",
        "N18",
        "N19",
        "N250",
        "Z490",
        "Z491",
        "Z492",
        "Z940",
        "Z992",
    ),
    "canc": (
        "C00",
        "C01",
        "C02",
        "C03",
        "C04",
        "C05",
        "C06",
        "C07",
        "C08",
        "C09",
        "C10",
        "C11",
        "C12",
        "C13",
        "C14",
        "C15",
        "C16",
        "C17",
        "C18",
        "C19",
        "C20",
        "C21",
        "C22",
        "C23",
        "C24",
        "C25",
        "C26",
        "C30",
        "C31",
        "C32",
        "C33",
        "C34",
        "C37",
        "C38",
        "C39",
        "C40",
        "C41",
        "C43",
        "C45",
        "C46",
        "C47",
        "C48",
        "C49",
        "C50",
        "C51",
        "C52",
        "C53",
        "C54",
        "C55",
        "C56",
        "C57",
        "C58",
        "C60",
        "C61",
        "C62",
        "C63",
        "C64",
        "C65",
        "C66",
        "C67",
        "C68",
        "C69",
        "C70",
        "C71",
        "C72",
        "C73",
        "C74",
        "C75",
        "C76",
        "C81",
        "C82",
        "C83",
        "C84",
        "C85",
        "C88",
        "C90",
        "C91",
        "C92",
        "C93",
        "C94",
        "C95",
        "C96",
        "C97",
    ),
    "msld": (
        "I850",
        "I859",
        "I864",
        "I982",
        "K704",
        "K711",
        "K721",
        "K729",
        "K765",
        "K766",
        "K767",
    ),
    "metacanc": (
        "C77",
        "C78",
        "C79",
        "C80",
    ),
    "aids": (
        "B20",
        "B21",
        "B22",
        "B24",
    ),
}

# Charlson 1987 weights.
WEIGHTS: dict[str, int] = {
    "ami": 1,
    "chf": 1,
    "pvd": 1,
    "cevd": 1,
    "dementia": 1,
    "copd": 1,
    "rheumd": 1,
    "pud": 1,
    "mld": 1,
    "diab": 1,
    "diabwc": 2,
    "hp": 2,
    "rend": 2,
    "canc": 2,
    "msld": 3,
    "metacanc": 6,
    "aids": 6,
}

# (severe, mild): with the severe form present the mild one does not count.
HIERARCHY = (("msld", "mld"), ("diabwc", "diab"), ("metacanc", "canc"))

_NOT_CODE = re.compile(r"[^A-Z0-9]")
# An ICD-10 code as hospitals write it: I21, I21.0, China's clinical version I21.001 or E11.900x001.
ICD10_CODE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4}([X+][0-9]{3})?)?$")
# The first code of a prefix: one letter, then digits (I21, E112, C78).
_PREFIX_INDEX: dict[str, list[tuple[str, str]]] = {}
for _condition, _prefixes in QUAN_ICD10.items():
    for _prefix in _prefixes:
        _PREFIX_INDEX.setdefault(_prefix[:3], []).append((_prefix, _condition))


def normalise_icd10(code: str) -> str:
    """'i21.001' -> 'I21001': capitals, no dot or spaces (China's clinical
    version adds digits after the dot: I21.001 is still I21)."""
    return _NOT_CODE.sub("", (code or "").upper())


@functools.lru_cache(maxsize=4096)
def _conditions_of_code(code: str) -> frozenset[str]:
    """The conditions one code shows (a ward's file repeats a few hundred codes)."""
    code = normalise_icd10(code)
    return frozenset(condition for prefix, condition in _PREFIX_INDEX.get(code[:3], ()) if code.startswith(prefix))


def charlson_conditions(codes: Iterable[str]) -> set[str]:
    """The Charlson conditions the codes show, after the hierarchy."""
    found: set[str] = set()
    for code in codes:
        found.update(_conditions_of_code(code))
    for severe, mild in HIERARCHY:
        if severe in found:
            found.discard(mild)
    return found


def charlson_index(codes: Iterable[str]) -> int:
    return charlson_weight(charlson_conditions(codes))


def charlson_weight(conditions: Iterable[str]) -> int:
    """The Charlson index of conditions charlson_conditions found."""
    return sum(WEIGHTS[condition] for condition in conditions)


def split_codes(value) -> tuple[list[str], list[str]]:
    """Codes from a list or a text separated by commas, semicolons or spaces:
    (the good ones in capitals, without repeats; the ones that are not codes)."""
    items = value if isinstance(value, list | tuple) else re.split(r"[,;，；、\s]+", str(value or ""))
    codes: list[str] = []
    bad: list[str] = []
    for item in items:
        code = str(item).strip().upper()
        if not code:
            continue
        if ICD10_CODE.match(code) and len(code) <= 16:
            if code not in codes:
                codes.append(code)
        else:
            bad.append(code[:20])
    return codes, bad

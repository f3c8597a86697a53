"""A password validator for the guesses attackers try first at a Chinese hospital.

Django's own validators (in settings.AUTH_PASSWORD_VALIDATORS beside this one)
refuse short passwords, passwords on a list of 20,000 common ones, passwords
of digits only and passwords too like the user's name. They let through what
password-spraying lists for Chinese sites start with, which
``GuessablePasswordValidator`` refuses, case-insensitively:

- a name in pinyin followed (or preceded) by digits or symbols: ``zhou12345678``,
  ``wangfang1990``, ``lina@2026`` (the ~100 most common surnames and common
  given-name syllables, up to four syllables);
- one of Django's common passwords, or a Chinese favourite (aini, nihao,
  baobei...), with digits or symbols around it: ``dragon1990``, ``aini1314``;
- anything containing the user name, the hospital's name (HOSPITAL_NAME), the
  product's name (followup, follow-up, suifang, 随访) or words such as
  hospital, yiyuan, 医院, password, mima, woaini, iloveyou, 5201314 - also
  written with 0 for o, 1 for i and the like;
- keyboard runs (qwertyuiop, asdfghjkl, 1qaz2wsx, 1q2w3e4r ...), runs of
  six or more consecutive digits or letters (123456, 987654, abcdef), and one
  character or one short pattern repeated (aaaaaaaaaa, abcabcabcabc);
- the demo log-ins' password (DEMO_PASSWORD below, which ``seed_demo`` gives
  the demo users on a laptop), always: it is printed in the README.

Each refusal says why, in the user's language.
"""

import re
from functools import cache

from django.conf import settings
from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# The password ``seed_demo`` (followup/devtools) gives the demo users with DEBUG
# on. It lives here, with the product, because production refuses it too.
DEMO_PASSWORD = "followup-demo"  # noqa: S105 - printed in the README; refused as a real password

PRODUCT_NAMES = ("followup", "follow-up", "follow up", "suifang", "随访")
FORBIDDEN_WORDS = (
    "hospital",
    "yiyuan",
    "医院",
    "password",
    "passwd",
    "mima",
    "密码",
    "woaini",
    "iloveyou",
    "5201314",
    "1314520",
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# The most common Chinese surnames, in pinyin (two-syllable ones as one word).
SURNAMES = _words(
    """
wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo zheng liang xie
song tang han feng deng cao peng zeng xiao tian dong yuan pan yu jiang cai jia ding wei xue ye yan
lu du dai xia zhong fu tan ren fan fang shi yao liao zou xiong jin hao kong bai cui kang mao qiu qin
gu hou shao meng long wan duan lei qian yin yi chang qiao lai gong wen pang lan tao hong ni niu shen
shang ji ou ouyang situ zhuge shangguan sima dongfang mu wu zhan bao cheng geng yue lv lyu
"""
)
# Syllables common in given names.
GIVEN_SYLLABLES = _words(
    """
wei fang na min jing li qiang lei jun yang yong yan jie juan tao ming chao xiu xia ping gang hua
hong ying mei lan fei hui yu dan ling yun bin bo peng hao xin ting lin jian zhen feng kai rui yi
xuan ning qing chen yue jia xi zi han shu wen long tian meng qi xiao ke le an rong guang hai bing
cheng dong zhi ze jun xiang qian ru shan shuang lu lili tingting jingjing xiaoming xiaohong
"""
)
PINYIN = SURNAMES | GIVEN_SYLLABLES
# Chinese words people build passwords on, besides Django's (English) list.
CHINESE_BASES = _words("aini woaini nihao laopo laogong baobao baobei wode mima xingfu kuaile pingan")
MAX_SYLLABLES = 4

KEYBOARD_RUNS = (
    "`1234567890-=",
    "qwertyuiop[]\\",
    "asdfghjkl;'",
    "zxcvbnm,./",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
    "zaq1xsw2cde3vfr4bgt5nhy6mju7",
    "qazwsxedcrfvtgbyhnujmikolp",
    "1q2w3e4r5t6y7u8i9o0p",
    "q1w2e3r4t5y6u7i8o9p0",
    "!qaz@wsx#edc$rfv%tgb",
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
)
RUN_LENGTH = 6
# 0 for o, 1 for i... as people write them to look clever.
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
_SEPARATORS = re.compile(r"[\W_]+")
_ENDS = re.compile(r"^(?P<head>[\d\W_]*)(?P<core>.*?)(?P<tail>[\d\W_]*)$")


@cache
def _runs() -> frozenset[str]:
    runs = set()
    for row in KEYBOARD_RUNS:
        for sequence in (row, row[::-1]):
            for start in range(len(sequence) - RUN_LENGTH + 1):
                runs.add(sequence[start : start + RUN_LENGTH])
    return frozenset(runs)


@cache
def _common_passwords() -> frozenset[str]:
    return frozenset(CommonPasswordValidator().passwords)


def _is_pinyin_name(letters: str) -> bool:
    """True when the letters are one to four pinyin syllables of names (zhou, wangfang)."""
    if len(letters) < 2:
        return False
    # fewest syllables needed to spell letters[:i]
    best = [0] + [MAX_SYLLABLES + 1] * len(letters)
    for end in range(1, len(letters) + 1):
        for start in range(max(0, end - 9), end):
            if best[start] < MAX_SYLLABLES and letters[start:end] in PINYIN:
                best[end] = min(best[end], best[start] + 1)
    return best[-1] <= MAX_SYLLABLES


def _forms(password: str) -> set[str]:
    """The password as written, without separators, and with 0 read as o and so on."""
    folded = password.casefold()
    squeezed = _SEPARATORS.sub("", folded)
    return {folded, squeezed, folded.translate(LEET), squeezed.translate(LEET)}


def _names_for(user) -> list[str]:
    names = [*PRODUCT_NAMES, *FORBIDDEN_WORDS]
    # HOSPITAL_NAME may list several names the hospital goes by, comma-separated.
    for hospital in re.split(r"[,，]", getattr(settings, "HOSPITAL_NAME", "") or ""):
        hospital = hospital.strip()
        if len(hospital) >= 2:
            names.append(hospital)
            names.extend(word for word in hospital.split() if len(word) >= 4)
    return [name.casefold() for name in names]


def refusal(password: str, user=None) -> ValidationError | None:
    """Why the password is too easy to guess, or None."""
    forms = _forms(password)
    if password.casefold() == DEMO_PASSWORD.casefold():
        return ValidationError(_("This is the demo log-ins' password, which anyone can read."), code="demo_password")
    username = (user.get_username() if user is not None else "").casefold()
    if len(username) >= 3 and any(username in form or _SEPARATORS.sub("", username) in form for form in forms):
        return ValidationError(_("The password contains your user name."), code="password_has_username")
    for name in _names_for(user):
        squeezed = _SEPARATORS.sub("", name)
        if any(name in form or (squeezed and squeezed in form) for form in forms):
            return ValidationError(
                _("The password contains “%(word)s”, one of the first words an attacker tries."),
                code="password_has_known_word",
                params={"word": name},
            )
    folded = password.casefold()
    parts = _ENDS.match(folded)
    core, rest = _SEPARATORS.sub("", parts["core"]), parts["head"] + parts["tail"]
    if rest and core.isalpha() and core.isascii() and _is_pinyin_name(core):
        return ValidationError(
            _("A name in pinyin with digits or symbols (like zhou1990) is among the first guesses."),
            code="password_pinyin_name",
        )
    common = _common_passwords() | CHINESE_BASES
    if rest and len(core) >= 4 and (core in common or core.translate(LEET) in common):
        return ValidationError(
            _("A common password with digits or symbols added is among the first guesses."),
            code="password_common_base",
        )
    if any(run in form for form in (folded, _SEPARATORS.sub("", folded)) for run in _runs()):
        return ValidationError(
            _("The password contains a keyboard run or a sequence (like qwerty, 1qaz2wsx or 123456)."),
            code="password_sequence",
        )
    if len(set(folded)) <= 3 or re.fullmatch(r"(.{1,4}?)\1+.{0,3}", folded):
        return ValidationError(_("The password repeats the same few characters."), code="password_repeated")
    return None


class GuessablePasswordValidator:
    def validate(self, password: str, user=None) -> None:
        error = refusal(password, user)
        if error is not None:
            raise error

    def get_help_text(self) -> str:
        return _(
            "Your password can’t contain your user name, the hospital’s or this product’s name, "
            "a name in pinyin with a year or digits, a keyboard run or a sequence."
        )

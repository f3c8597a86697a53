"""Passwords an attacker guesses first are refused, with the reason, in both
languages (followup/passwords.py, with Django's validators in settings)."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from followup.models import User
from followup.passwords import DEMO_PASSWORD, GuessablePasswordValidator
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def codes(password: str, user=None) -> list[str]:
    try:
        validate_password(password, user)
    except ValidationError as error:
        return [e.code for e in error.error_list]
    return []


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Hospital2026", "password_has_known_word"),
        ("zhou12345678", "password_pinyin_name"),
        ("Followup2026!", "password_has_known_word"),
        ("Follow-Up-2026", "password_has_known_word"),
        ("follow_up_desk_2026", "password_has_known_word"),
        ("suifang@2026", "password_has_known_word"),
        ("随访系统二〇二六年十月", "password_has_known_word"),
        ("H0sp1tal-blue-sky", "password_has_known_word"),
        ("yiyuan-2026-xyz", "password_has_known_word"),
        ("北京医院护士站二〇二六", "password_has_known_word"),
        ("MyPassword99!", "password_has_known_word"),
        ("woaini-forever", "password_has_known_word"),
        ("5201314abcxyz", "password_has_known_word"),
        ("wangfang1990", "password_pinyin_name"),
        ("ZhangWei@2026", "password_pinyin_name"),
        ("1985ouyangna", "password_pinyin_name"),
        ("li.na.1975.03", "password_pinyin_name"),
        ("chenjingjing88", "password_pinyin_name"),
        ("aini19501950", "password_common_base"),
        ("dragon2030!!", "password_common_base"),
        ("qwertyuiop", "password_sequence"),
        ("baobei-2026-1", "password_common_base"),
        ("1qaz2wsx3edc", "password_sequence"),
        ("my-asdfghjkl-key", "password_sequence"),
        ("Blue1q2w3e4r!", "password_sequence"),
        ("x987654321y!", "password_sequence"),
        ("abcdefgh-ward", "password_sequence"),
        ("aaaaaaaaaaaa", "password_repeated"),
        ("xyzxyzxyzxyz", "password_repeated"),
        ("abab-abab-ab", "password_repeated"),
    ],
)
def test_guessable_passwords_are_refused_with_the_reason(password, code):
    assert code in codes(password)


def test_the_demo_password_is_refused():
    assert codes(DEMO_PASSWORD) == ["demo_password"]
    assert "demo_password" in codes(DEMO_PASSWORD.upper())


@pytest.mark.parametrize(
    "password",
    ["Quiet-Ward-Seven-42", TEST_PASSWORD, "Blue-Mango-Tree-88", "河边的柳树在三月发芽", "tulip.violin.canyon"],
)
def test_passwords_nobody_guesses_first_pass(password):
    assert codes(password) == []


def test_a_password_containing_the_user_name_is_refused_in_any_case():
    user = UserFactory(username="zhaomin")
    assert "password_has_username" in codes("Ward-ZHAOMIN-blue", user)
    assert "password_has_username" in codes("ward-zhao_min-blue", UserFactory(username="zhao_min"))


def test_the_hospital_names_from_the_setting_are_refused(settings):
    settings.HOSPITAL_NAME = "Peking Union Medical College Hospital, 协和, xiehe"
    assert "password_has_known_word" in codes("Xiehe-night-shift")
    assert "password_has_known_word" in codes("协和夜班护士第三病区")
    assert "password_has_known_word" in codes("peking-nights-77")
    assert codes("Xiehe-night-shift") != [] and codes("Quiet-Ward-Seven-42") == []


def test_with_no_hospital_name_set_nothing_extra_is_refused(settings):
    settings.HOSPITAL_NAME = ""
    assert codes("Quiet-Ward-Seven-42") == []


def test_the_minimum_length_is_ten():
    assert "password_too_short" in codes("Ab-7x-Qz9")
    assert "password_too_short" not in codes("Ab-7x-Qz9k")


def test_the_refusal_is_explained_in_chinese():
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as refused:
            GuessablePasswordValidator().validate("zhou12345678")
        message = refused.value.messages[0]
        help_text = GuessablePasswordValidator().get_help_text()
    assert message == "拼音姓名加数字或符号（如 zhou1990）是攻击者最先尝试的密码之一。"
    assert help_text.startswith("密码不能包含")


def test_the_password_change_page_refuses_a_guessable_password_and_keeps_the_old(client, nurse):
    client.force_login(nurse)
    response = client.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": "Hospital2026!", "new_password2": "Hospital2026!"},
    )
    assert response.status_code == 200
    assert "one of the first words an attacker tries" in response.content.decode()
    nurse.refresh_from_db()
    assert nurse.check_password(TEST_PASSWORD)


# --- the demo log-ins on a server ----------------------------------------------------------


def test_seed_demo_with_debug_on_gives_the_demo_users_the_demo_password(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    assert User.objects.get(username="nurse").check_password(DEMO_PASSWORD)


def test_seed_demo_forced_with_debug_off_gives_the_demo_users_no_password(settings, capsys):
    settings.DEBUG = False
    call_command("seed_demo", "--force")
    out = capsys.readouterr().out
    demo_users = User.objects.filter(username__in=["nurse", "headnurse", "officer", "admin"])
    assert [u.has_usable_password() for u in demo_users] == [False] * 4
    assert DEMO_PASSWORD not in out
    assert "python manage.py changepassword nurse" in out


def test_seed_demo_forced_with_debug_off_leaves_a_password_already_set(settings):
    settings.DEBUG = False
    UserFactory(username="nurse")
    call_command("seed_demo", "--force")
    assert User.objects.get(username="nurse").check_password(TEST_PASSWORD)

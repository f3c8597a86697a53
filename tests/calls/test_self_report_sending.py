"""Sending the self-report link (issue 22, docs/self-report.md): once per
call, at the step's hour, never in quiet hours or past the daily cap,
never after an opt-out, through the file outbox or Alibaba Cloud SMS
(a fake gateway in the test process), with temporary refusals retried and
the token kept nowhere on the desk but as a hash."""

import json
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from calls.models import FollowUpCall, SelfReportLink, SelfReportMessage, SelfReportOptOut
from calls.self_report_tokens import token_hash
from calls.tasks import send_due_self_report_links, send_self_report_link
from followup.celery import app as celery_app
from followup.models import AuditEvent
from tests.calls.call_work_helpers import ward_of
from tests.factories import PatientFactory
from tests.fake_aliyun_sms import ACCESS_KEY_ID, ACCESS_KEY_SECRET, FakeAliyun

from .self_report_helpers import NOW, outbox_messages, self_report_call

pytestmark = pytest.mark.django_db
TOKEN_IN_URL = re.compile(r"/r/([A-Za-z0-9_-]{30})")


@pytest.fixture(autouse=True)
def _eager_now():
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    with time_machine.travel(NOW, tick=False):
        yield
    celery_app.conf.task_always_eager = before


@pytest.fixture
def outbox(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.SMS_BACKEND = "file"
    settings.SITE_URL = "https://desk.example.cn"
    return tmp_path / "outbox"


@pytest.fixture
def aliyun(settings):
    with FakeAliyun() as fake:
        settings.SMS_BACKEND = "aliyun"
        settings.SMS_ALIYUN_ENDPOINT = fake.url
        settings.SMS_ALIYUN_ACCESS_KEY_ID = ACCESS_KEY_ID
        settings.SMS_ALIYUN_ACCESS_KEY_SECRET = ACCESS_KEY_SECRET
        settings.SMS_SIGN_NAME = "仁和医院"
        settings.SMS_ALIYUN_TEMPLATE_CODES = {"zh-hans": "SMS_465830001", "en": "SMS_465830002"}
        yield fake


def everything_stored() -> str:
    """Every column of the tables the sending writes, as one text."""
    rows = [
        *SelfReportLink.objects.values(),
        *SelfReportMessage.objects.values(),
        *AuditEvent.objects.values(),
    ]
    return json.dumps(rows, default=str, ensure_ascii=False)


def test_a_due_link_is_sent_once_and_the_desk_keeps_only_its_hash(outbox):
    call = self_report_call(patient__name="王芳")

    assert send_due_self_report_links.apply().get() == {"queued": 1, "quiet_hours": False}
    assert send_due_self_report_links.apply().get() == {"queued": 0, "quiet_hours": False}
    assert send_self_report_link.apply(args=[call.pk]).get() == "already"

    [message] = outbox_messages(outbox)
    token = TOKEN_IN_URL.search(message["text"]).group(1)
    assert message["to"] == "+8613812345678"
    assert message["text"] == (
        f"王女士，医院想了解您出院回家后的情况。请回答几个问题：https://desk.example.cn/r/{token} 回复TD退订。"
    )
    assert message["params"] == {"name": "王女士", "code": token}
    link = SelfReportLink.objects.get(call=call)
    assert (link.status, link.recipient, link.language) == ("sent", "patient", "zh-hans")
    assert link.token_hash == token_hash(token)
    assert token not in everything_stored()
    assert SelfReportMessage.objects.get().phone_hint == "5678"


def test_no_link_before_the_steps_hour_and_none_for_a_step_that_sends_none(outbox):
    self_report_call(hours=1)  # 15:00, an hour from now
    self_report_call(hours=None, patient__phone="+8613900000001")

    assert send_due_self_report_links.apply().get() == {"queued": 0, "quiet_hours": False}
    assert outbox_messages(outbox) == []


def test_nothing_goes_out_in_quiet_hours_and_the_link_follows_in_the_morning(outbox, settings):
    settings.SELF_REPORT_QUIET_HOURS = "13:00-14:30"
    call = self_report_call()

    assert send_due_self_report_links.apply().get() == {"queued": 0, "quiet_hours": True}
    assert send_self_report_link.apply(args=[call.pk]).get() == "quiet_hours"
    with time_machine.travel(NOW.replace(minute=45), tick=False):
        assert send_due_self_report_links.apply().get() == {"queued": 1, "quiet_hours": False}
    assert len(outbox_messages(outbox)) == 1


def test_a_patient_gets_at_most_the_daily_cap(outbox, settings):
    settings.SELF_REPORT_DAILY_CAP = 1
    first = self_report_call()
    second = self_report_call(discharge=first.discharge)

    send_due_self_report_links.apply()

    assert len(outbox_messages(outbox)) == 1
    assert send_self_report_link.apply(args=[second.pk]).get() == "daily_cap"


def test_an_opted_out_patient_gets_no_message_and_the_call_stays_for_the_nurse(outbox):
    call = self_report_call()
    SelfReportOptOut.objects.create(patient=call.discharge.patient, via="reply", at=NOW)

    send_due_self_report_links.apply()

    assert outbox_messages(outbox) == []
    link = SelfReportLink.objects.get(call=call)
    assert (link.status, link.skip_reason) == ("skipped", "opted_out")
    call.refresh_from_db()
    assert call.status == FollowUpCall.Status.SCHEDULED


def test_without_a_mobile_of_their_own_the_family_contact_gets_the_message(outbox):
    self_report_call(patient__phone="", patient__family_phone="+8613700000002", patient__sex="M", patient__name="李强")
    nobody = self_report_call(patient__phone="", patient__family_phone="")

    send_due_self_report_links.apply()

    [message] = outbox_messages(outbox)
    assert message["to"] == "+8613700000002"
    assert message["params"]["name"] == "李先生"
    assert SelfReportLink.objects.get(call=nobody).skip_reason == "no_phone"


def test_an_english_speaking_patients_message_is_in_english(outbox):
    call = self_report_call()
    SelfReportLink.objects.create(
        call=self_report_call(patient=call.discharge.patient, due=NOW.date().replace(day=12), hours=None),
        token_hash="0" * 64,
        language="en",
        status="sent",
        expires_at=NOW,
    )

    send_self_report_link.apply(args=[call.pk])

    [message] = outbox_messages(outbox)
    assert message["text"].startswith("Ms Zhou, the hospital would like to know how you are since you went home.")
    assert message["text"].endswith("Reply TD to stop these messages.")


# --- Alibaba Cloud SMS -----------------------------------------------------------------


def test_aliyun_gets_a_signed_sendsms_with_signature_template_and_parameters(aliyun):
    call = self_report_call(patient__name="王芳")

    assert send_self_report_link.apply(args=[call.pk]).get() == "sent"

    assert aliyun.problems == []
    [request] = aliyun.requests
    token = json.loads(request["TemplateParam"])["code"]
    assert {k: request[k] for k in ("PhoneNumbers", "SignName", "TemplateCode", "RegionId")} == {
        "PhoneNumbers": "13812345678",
        "SignName": "仁和医院",
        "TemplateCode": "SMS_465830001",
        "RegionId": "cn-hangzhou",
    }
    assert json.loads(request["TemplateParam"]) == {"name": "王女士", "code": token}
    message = SelfReportMessage.objects.get()
    assert request["OutId"] == str(message.pk)
    assert (message.status, message.provider_id, message.backend) == ("sent", "900619746936490001^0", "aliyun")
    assert SelfReportLink.objects.get().token_hash == token_hash(token)


def test_throttling_and_gateway_faults_are_retried_with_a_fresh_token_until_sent(aliyun):
    aliyun.script = ["throttled", "system_error", "unavailable"]
    call = self_report_call()

    assert send_self_report_link.apply(args=[call.pk]).get() == "sent"

    assert len(aliyun.requests) == 4
    tokens = [json.loads(r["TemplateParam"])["code"] for r in aliyun.requests]
    assert len(set(tokens)) == 4
    assert list(SelfReportMessage.objects.order_by("pk").values_list("status", "error_code")) == [
        ("retrying", "isv.BUSINESS_LIMIT_CONTROL"),
        ("retrying", "isp.SYSTEM_ERROR"),
        ("retrying", "HTTP503"),
        ("sent", ""),
    ]
    link = SelfReportLink.objects.get()
    assert (link.status, link.send_attempts, link.token_hash) == ("sent", 4, token_hash(tokens[-1]))


def test_a_refused_number_is_not_retried_and_the_nurse_calls_as_usual(aliyun):
    aliyun.script = ["bad_number"]
    call = self_report_call()

    assert send_self_report_link.apply(args=[call.pk]).get() == "failed:isv.MOBILE_NUMBER_ILLEGAL"

    assert len(aliyun.requests) == 1
    link = SelfReportLink.objects.get()
    assert (link.status, link.skip_reason) == ("failed", "refused")
    call.refresh_from_db()
    assert call.status == FollowUpCall.Status.SCHEDULED


def test_a_wrong_secret_is_refused_by_the_gateway_and_not_retried(aliyun, settings):
    settings.SMS_ALIYUN_ACCESS_KEY_SECRET = "not-the-secret"
    call = self_report_call()

    assert send_self_report_link.apply(args=[call.pk]).get() == "failed:SignatureDoesNotMatch"
    assert len(aliyun.requests) == 1


def test_a_gateway_down_for_every_retry_fails_after_the_last(aliyun):
    aliyun.script = ["unavailable"] * 10
    call = self_report_call()

    assert send_self_report_link.apply(args=[call.pk]).get() == "failed:HTTP503"
    assert len(aliyun.requests) == 6  # the first try and five retries
    assert SelfReportLink.objects.get().status == "failed"


# --- receipts and replies ------------------------------------------------------------------


@pytest.fixture
def gateway_key(settings):
    settings.SMS_CALLBACK_KEY = "k3y-for-the-gateway"
    return settings.SMS_CALLBACK_KEY


def test_a_delivery_receipt_marks_the_message_and_the_link_delivered(aliyun, gateway_key):
    call = self_report_call()
    send_self_report_link.apply(args=[call.pk])
    message = SelfReportMessage.objects.get()
    receipt = [
        {
            "phone_number": "13812345678",
            "send_time": "2026-11-19 14:00:01",
            "report_time": "2026-11-19 14:00:05",
            "success": True,
            "err_code": "DELIVERED",
            "err_msg": "用户接收成功",
            "sms_size": "1",
            "biz_id": message.provider_id,
            "out_id": str(message.pk),
        }
    ]
    url = reverse("self_report:sms_receipts", args=[gateway_key])

    response = Client().post(url, json.dumps(receipt), content_type="application/json")

    assert (response.status_code, response.json()) == (200, {"code": 0, "msg": "成功"})
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("delivered", "DELIVERED")
    assert "phone_number" not in message.receipt
    link = SelfReportLink.objects.get()
    assert (link.status, link.delivered_at.isoformat()) == ("delivered", "2026-11-19T06:00:05+00:00")
    assert AuditEvent.objects.filter(actor_name="sms:aliyun", note="receipt").count() == 1
    assert gateway_key not in everything_stored()


@pytest.mark.parametrize("word", ["TD", "td", "退订", " 退订。"])
def test_a_stop_reply_opts_the_patient_out_of_every_later_message(aliyun, gateway_key, word):
    patient = PatientFactory(phone="+8613812345678")
    reply = [{"phone_number": "13812345678", "send_time": "2026-11-19 14:03:00", "content": word}]

    response = Client().post(
        reverse("self_report:sms_replies", args=[gateway_key]), json.dumps(reply), content_type="application/json"
    )

    assert response.status_code == 200
    assert SelfReportOptOut.objects.get(patient=patient).via == "reply"
    call = self_report_call(ward=ward_of(code="ONCO"), patient=patient)
    assert send_self_report_link.apply(args=[call.pk]).get() == "skipped:opted_out"
    assert aliyun.requests == []


def test_other_replies_stop_nothing_and_are_not_kept(aliyun, gateway_key):
    patient = PatientFactory(phone="+8613812345678")
    reply = [{"phone_number": "13812345678", "send_time": "2026-11-19 14:03:00", "content": "我胸口有点痛"}]

    Client().post(
        reverse("self_report:sms_replies", args=[gateway_key]), json.dumps(reply), content_type="application/json"
    )

    assert not SelfReportOptOut.objects.filter(patient=patient).exists()
    assert "胸口" not in everything_stored()


@pytest.mark.parametrize("key", ["wrong-key", "k3y-for-the-gateway-not"])
def test_the_callbacks_answer_404_to_a_wrong_key_and_write_nothing(aliyun, gateway_key, key):
    patient = PatientFactory(phone="+8613812345678")
    reply = [{"phone_number": "13812345678", "content": "TD"}]

    response = Client().post(
        reverse("self_report:sms_replies", args=[key]), json.dumps(reply), content_type="application/json"
    )

    assert response.status_code == 404
    assert not SelfReportOptOut.objects.filter(patient=patient).exists()


def test_a_callback_that_is_not_the_gateways_shape_is_a_400(aliyun, gateway_key):
    response = Client().post(
        reverse("self_report:sms_receipts", args=[gateway_key]), "<xml/>", content_type="application/json"
    )
    assert response.status_code == 400

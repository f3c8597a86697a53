"""Alibaba Cloud SMS (短信服务, dysmsapi), API version 2017-05-25.

``SendSms`` is an RPC call signed with signature version 1.0 (HMAC-SHA1 of
the sorted, percent-encoded parameters with the AccessKey secret and "&"),
sent as a form POST. Every message names the approved signature
(``SignName``, SMS_SIGN_NAME) and template (``TemplateCode``, one per
language in SMS_ALIYUN_TEMPLATE_CODES) and fills the template's variables
(``TemplateParam``, JSON: ``name`` and ``code``, the link's token; the
template holds the site's address ``…/r/${code}``). ``OutId`` carries our
message id back in the delivery receipt.

Receipts (SmsReport) and replies (SmsUp) come by the console's "HTTP batch
push": a JSON array each, answered with ``{"code": 0}``."""

import base64
import datetime as dt
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from zoneinfo import ZoneInfo

from django.conf import settings

from ..base import Receipt, Reply, SendResult, SmsBackend, SmsError, SmsMessage

API_VERSION = "2017-05-25"
# Codes after which the same message may go through later: flow control,
# the gateway's own faults.
TEMPORARY_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",
        "isv.DAY_LIMIT_CONTROL",
        "isp.SYSTEM_ERROR",
        "isp.GATEWAY_ERROR",
        "Throttling",
        "Throttling.User",
        "Throttling.Api",
        "ServiceUnavailable",
        "InternalError",
    }
)
TIMEOUT_SECONDS = 10
# The time zone of the times in Alibaba's receipts ("2017-01-01 00:00:00").
GATEWAY_ZONE = ZoneInfo("Asia/Shanghai")


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as the signature wants it: only A-Z a-z 0-9 - _ . ~ kept."""
    return urllib.parse.quote(str(value), safe="~")


def string_to_sign(params: dict[str, str], method: str = "POST") -> str:
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(params[k])}" for k in sorted(params))
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"


def sign(params: dict[str, str], secret: str, method: str = "POST") -> str:
    digest = hmac.new(f"{secret}&".encode(), string_to_sign(params, method).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def phone_number(e164: str) -> str:
    """What PhoneNumbers wants: a mainland number without +86, any other
    with its country code and no plus ("85291234567")."""
    digits = e164.lstrip("+")
    return digits[2:] if e164.startswith("+86") else digits


def _time(text) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S").replace(tzinfo=GATEWAY_ZONE)
    except ValueError:
        return None


def _items(body: bytes) -> list[dict]:
    data = json.loads(body.decode("utf-8"))
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ValueError("not a JSON array of objects")
    return data


class AliyunBackend(SmsBackend):
    name = "aliyun"

    def __init__(self):
        self.access_key_id = settings.SMS_ALIYUN_ACCESS_KEY_ID
        self.access_key_secret = settings.SMS_ALIYUN_ACCESS_KEY_SECRET
        self.sign_name = settings.SMS_SIGN_NAME
        self.template_codes = dict(settings.SMS_ALIYUN_TEMPLATE_CODES)
        self.endpoint = settings.SMS_ALIYUN_ENDPOINT

    def _template_code(self, language: str) -> str:
        code = self.template_codes.get(language) or self.template_codes.get(language.split("-")[0])
        if not code:
            raise SmsError("NoTemplate", f"no template code for language {language}", temporary=False)
        return code

    def request_params(self, message: SmsMessage, *, now: dt.datetime | None = None, nonce: str = "") -> dict:
        """The signed parameters of one SendSms call."""
        now = now or dt.datetime.now(dt.UTC)
        params = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "RegionId": "cn-hangzhou",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": nonce or str(uuid.uuid4()),
            "SignatureVersion": "1.0",
            "Timestamp": now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": API_VERSION,
            "PhoneNumbers": phone_number(message.to),
            "SignName": self.sign_name,
            "TemplateCode": self._template_code(message.language),
            "TemplateParam": json.dumps(message.params, ensure_ascii=False, separators=(",", ":")),
        }
        if message.reference:
            params["OutId"] = message.reference
        params["Signature"] = sign(params, self.access_key_secret)
        return params

    def send(self, message: SmsMessage) -> SendResult:
        if not (self.access_key_id and self.access_key_secret and self.sign_name):
            raise SmsError(
                "NotConfigured", "SMS_ALIYUN_ACCESS_KEY_ID, _SECRET and SMS_SIGN_NAME are needed", temporary=False
            )
        if not self.endpoint.startswith(("https://", "http://")):
            raise SmsError("NotConfigured", "SMS_ALIYUN_ENDPOINT must be an http(s) address", temporary=False)
        body = urllib.parse.urlencode(self.request_params(message)).encode()
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            self.endpoint,
            data=body,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310  # nosec B310
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise SmsError("NetworkError", str(getattr(error, "reason", error)), temporary=True) from None
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            data = {}
        code = str(data.get("Code") or (f"HTTP{status}" if status != 200 else "BadResponse"))
        text = str(data.get("Message") or "")
        if status == 200 and code == "OK":
            return SendResult(provider_id=str(data.get("BizId") or ""), code=code, message=text)
        temporary = code in TEMPORARY_CODES or status >= 500 or status == 429
        raise SmsError(code, text, temporary=temporary)

    def parse_receipts(self, body: bytes) -> list[Receipt]:
        receipts = []
        for item in _items(body):
            if "biz_id" not in item and "out_id" not in item:
                raise ValueError("not a delivery receipt")
            raw = {k: v for k, v in item.items() if k != "phone_number"}
            receipts.append(
                Receipt(
                    provider_id=str(item.get("biz_id") or ""),
                    reference=str(item.get("out_id") or ""),
                    delivered=item.get("success") is True,
                    code=str(item.get("err_code") or ""),
                    message=str(item.get("err_msg") or ""),
                    at=_time(item.get("report_time")),
                    raw=raw,
                )
            )
        return receipts

    def parse_replies(self, body: bytes) -> list[Reply]:
        replies = []
        for item in _items(body):
            if "content" not in item or "phone_number" not in item:
                raise ValueError("not a reply")
            replies.append(
                Reply(phone=str(item["phone_number"]), content=str(item["content"]), at=_time(item.get("send_time")))
            )
        return replies

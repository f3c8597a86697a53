"""What every SMS backend offers: send one message, and read the gateway's
delivery receipts and the patients' replies from what it posts back."""

import dataclasses
import datetime as dt
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

ALIASES = {
    "file": "followup.sms.backends.file.FileBackend",
    "aliyun": "followup.sms.backends.aliyun.AliyunBackend",
}


@dataclasses.dataclass(frozen=True)
class SmsMessage:
    """One message to send. ``text`` is the whole message, for gateways that
    send free text (the file backend); template gateways send ``template``
    (our name for it, mapped to the gateway's code) with ``params``.
    ``reference``: our id for the message, echoed in receipts."""

    to: str  # E.164: +8613812345678
    template: str
    language: str
    params: dict[str, str]
    text: str
    reference: str = ""

    def __repr__(self) -> str:
        # The parameters and the text carry the personal link: never in a log or a traceback.
        return f"SmsMessage(template={self.template!r}, language={self.language!r}, reference={self.reference!r})"


@dataclasses.dataclass(frozen=True)
class SendResult:
    provider_id: str  # the gateway's id for the message (Alibaba: BizId)
    code: str = "OK"
    message: str = ""


@dataclasses.dataclass(frozen=True)
class Receipt:
    """A delivery receipt: did the message reach the phone."""

    provider_id: str
    reference: str
    delivered: bool
    code: str
    message: str
    at: dt.datetime | None
    raw: dict


@dataclasses.dataclass(frozen=True)
class Reply:
    """A text a patient sent back (e.g. "TD" or "退订" to stop messages)."""

    phone: str
    content: str
    at: dt.datetime | None


class SmsError(Exception):
    """The gateway did not take the message. ``temporary``: trying again
    later may work (throttling, a gateway fault, no network)."""

    def __init__(self, code: str, message: str = "", *, temporary: bool):
        self.code = code[:64]
        self.message = message[:255]
        self.temporary = temporary
        super().__init__(f"{code}: {message}")


class SmsBackend:
    name = "base"

    def send(self, message: SmsMessage) -> SendResult:
        raise NotImplementedError

    def parse_receipts(self, body: bytes) -> list[Receipt]:
        """The receipts in what the gateway posted (ValueError: not its shape)."""
        return []

    def parse_replies(self, body: bytes) -> list[Reply]:
        """The patients' replies in what the gateway posted (ValueError: not its shape)."""
        return []


@cache
def _backend_class(path: str) -> type[SmsBackend]:
    return import_string(ALIASES.get(path, path))


def get_backend() -> SmsBackend:
    """The backend ``settings.SMS_BACKEND`` names ("file", "aliyun" or a dotted path)."""
    return _backend_class(settings.SMS_BACKEND)()

"""Text messages through a gateway chosen by ``settings.SMS_BACKEND``
(docs/self-report.md): ``followup.sms.backends.file.FileBackend`` writes
each message under ``VAR_DIR/outbox/`` (the default: a laptop sends
nothing), ``followup.sms.backends.aliyun.AliyunBackend`` sends through
Alibaba Cloud SMS (dysmsapi ``SendSms``).

Nothing here knows about patients or calls: the caller passes a number, a
template and its parameters, and gets the gateway's id for the message or
an ``SmsError`` saying whether trying again later may help."""

from .base import (
    Receipt,
    Reply,
    SendResult,
    SmsBackend,
    SmsError,
    SmsMessage,
    get_backend,
)

__all__ = ["Receipt", "Reply", "SendResult", "SmsBackend", "SmsError", "SmsMessage", "get_backend"]

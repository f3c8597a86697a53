"""The default backend: each message is a file under ``VAR_DIR/outbox/``, so
a laptop or the demo shows what would have been sent, links included. Meant
for development: the files hold the links, so a server keeps this folder as
private as the database."""

import json
import secrets

from django.conf import settings
from django.utils import timezone

from ..base import SendResult, SmsBackend, SmsMessage


def outbox_dir():
    return settings.VAR_DIR / "outbox"


class FileBackend(SmsBackend):
    name = "file"

    def send(self, message: SmsMessage) -> SendResult:
        folder = outbox_dir()
        folder.mkdir(parents=True, exist_ok=True)
        provider_id = f"file-{secrets.token_hex(8)}"
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        path = folder / f"{stamp}-{provider_id}.json"
        record = {
            "to": message.to,
            "template": message.template,
            "language": message.language,
            "params": message.params,
            "text": message.text,
            "reference": message.reference,
            "provider_id": provider_id,
            "at": timezone.now().isoformat(),
        }
        path.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        path.chmod(0o600)
        return SendResult(provider_id=provider_id)

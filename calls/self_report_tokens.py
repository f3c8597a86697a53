"""The personal token of a self-report link: 22 random URL-safe characters
(128 bits) followed by an 8-character tag, a keyed hash of them with the
site's SECRET_KEY. The tag lets the form refuse a made-up token without a
database look-up (and kills every link if the key is changed); the random
part makes it unguessable. The desk stores only the token's SHA-256."""

import base64
import hashlib
import hmac
import re
import secrets

from django.utils.crypto import salted_hmac

RANDOM_LENGTH = 22
TAG_LENGTH = 8
SALT = "calls.self_report.token"
SHAPE = re.compile(rf"[A-Za-z0-9_-]{{{RANDOM_LENGTH + TAG_LENGTH}}}")


def _tag(random_part: str) -> str:
    digest = salted_hmac(SALT, random_part, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest[:6]).decode()


def new_token() -> str:
    random_part = secrets.token_urlsafe(16)[:RANDOM_LENGTH]
    return random_part + _tag(random_part)


def token_is_signed(token: str) -> bool:
    """True for a token this site made (whether or not a link still has it)."""
    if not isinstance(token, str) or not SHAPE.fullmatch(token):
        return False
    return hmac.compare_digest(token[RANDOM_LENGTH:], _tag(token[:RANDOM_LENGTH]))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

"""A local stand-in for Alibaba Cloud SMS (dysmsapi.aliyuncs.com) in the
test process: it checks each SendSms request as the real service would
(form POST, the common and SendSms parameters, a fresh nonce, signature 1.0
with HMAC-SHA1 computed here independently of the product's code) and
answers with the service's response shapes: success, flow control,
system errors, a refused number, a wrong signature."""

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

ACCESS_KEY_ID = "LTAI-test-key-id"
ACCESS_KEY_SECRET = "test-secret-never-real"
REQUIRED = {
    "AccessKeyId",
    "Action",
    "Format",
    "RegionId",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureVersion",
    "Timestamp",
    "Version",
    "PhoneNumbers",
    "SignName",
    "TemplateCode",
    "TemplateParam",
    "Signature",
}
UNRESERVED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")

# name -> (HTTP status, JSON body or None for an empty body)
RESPONSES = {
    "ok": (200, {"Message": "OK", "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990", "Code": "OK"}),
    "throttled": (
        200,
        {"Message": "触发小时级流控Permits:5", "RequestId": "2A4F6D", "Code": "isv.BUSINESS_LIMIT_CONTROL"},
    ),
    "system_error": (200, {"Message": "系统异常", "RequestId": "2A4F6E", "Code": "isp.SYSTEM_ERROR"}),
    "unavailable": (503, None),
    "bad_number": (200, {"Message": "非法手机号", "RequestId": "2A4F6F", "Code": "isv.MOBILE_NUMBER_ILLEGAL"}),
}


def encode(text: str) -> str:
    """Percent-encoding by hand, byte by byte (RFC 3986 unreserved kept)."""
    return "".join(chr(b) if chr(b) in UNRESERVED else f"%{b:02X}" for b in text.encode("utf-8"))


def expected_signature(params: dict[str, str], secret: str = ACCESS_KEY_SECRET) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    canonical = "&".join(f"{encode(k)}={encode(v)}" for k, v in pairs)
    to_sign = "POST&" + encode("/") + "&" + encode(canonical)
    return base64.b64encode(hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()).decode()


class FakeAliyun:
    """``script``: the answers to give, in order (then "ok"). ``requests``:
    every request's parameters; ``problems``: what was wrong with them."""

    def __init__(self):
        self.script: list[str] = []
        self.requests: list[dict[str, str]] = []
        self.problems: list[str] = []
        self.nonces: set[str] = set()
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode("utf-8")
                params = dict(parse_qsl(body, keep_blank_values=True))
                status, payload = fake.answer(params, self.headers.get("Content-Type", ""))
                data = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, params: dict[str, str], content_type: str):
        with self._lock:
            self.requests.append(params)
            problems = []
            if not content_type.startswith("application/x-www-form-urlencoded"):
                problems.append(f"content type {content_type}")
            missing = sorted(REQUIRED - set(params))
            if missing:
                problems.append(f"missing {missing}")
            if params.get("Action") != "SendSms" or params.get("Version") != "2017-05-25":
                problems.append("not SendSms 2017-05-25")
            if params.get("SignatureMethod") != "HMAC-SHA1" or params.get("SignatureVersion") != "1.0":
                problems.append("signature method")
            if params.get("SignatureNonce") in self.nonces:
                problems.append("nonce used twice")
            self.nonces.add(params.get("SignatureNonce", ""))
            try:
                json.loads(params.get("TemplateParam", ""))
            except ValueError:
                problems.append("TemplateParam is not JSON")
            if params.get("AccessKeyId") != ACCESS_KEY_ID or params.get("Signature") != expected_signature(params):
                self.problems.extend(problems)
                return 400, {
                    "RequestId": "2A4F70",
                    "HostId": "dysmsapi.aliyuncs.com",
                    "Code": "SignatureDoesNotMatch",
                    "Message": "Specified signature is not matched with our calculation.",
                }
            self.problems.extend(problems)
            if problems:
                return 400, {"RequestId": "2A4F71", "Code": "MissingParameter", "Message": "; ".join(problems)}
            name = self.script.pop(0) if self.script else "ok"
            status, payload = RESPONSES[name]
            if name == "ok":
                payload = {**payload, "BizId": f"90061974693649{len(self.requests):04d}^0"}
            return status, payload

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

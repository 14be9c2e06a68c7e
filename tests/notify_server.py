"""A GOV.UK Notify stand-in on loopback, for the real notifications-python-client to talk to (its base_url).

It checks every request against Notify's documented API (https://docs.notifications.service.gov.uk/rest-api.html):
- the Authorization header is `Bearer <JWT>`, HS256, signed with the API key's secret, with `iss` the
  service id and an `iat` within 30 seconds of now (else 403 AuthError, as Notify answers);
- POST /v2/notifications/sms with phone_number, template_id, optional personalisation, reference;
  POST /v2/notifications/email with email_address, template_id, optional personalisation, reference;
  the template must exist and be of that type, and every ((placeholder)) it holds must be personalised
  (else 400 BadRequestError with Notify's messages);
- GET /v2/notifications/{id} and GET /v2/notifications?reference=... (and template_type, status).
It answers 201/200 with Notify's bodies, and 400/403/429/500 with Notify's error shape
({"status_code": N, "errors": [{"error": ..., "message": ...}]}). Tests queue faults with `fail_next`,
hold a request (a worker killed mid-send) with `hold_next`, and set delivery statuses with `set_status`.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt

PLACEHOLDER = re.compile(r"\(\(([^)]+)\)\)")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ERRORS = {
    400: "BadRequestError",
    401: "AuthError",
    403: "AuthError",
    429: "RateLimitError",
    500: "Exception",
}
MESSAGES = {
    403: "Invalid token: API key not found",
    429: "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds",
    500: "Internal server error",
}


@dataclass
class Template:
    id: str
    type: str  # sms or email
    body: str
    subject: str = ""


@dataclass
class Hold:
    """A request held without an answer until released (or forever: the worker is killed meanwhile)."""
    record_first: bool
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


class NotifyServer:
    def __init__(self):
        self.service_id = str(uuid.uuid4())
        self.secret = str(uuid.uuid4())
        self.sms_template = Template(str(uuid.uuid4()), "sms", "((body))")
        self.email_template = Template(str(uuid.uuid4()), "email", "((body))", "((subject))")
        self.templates = {t.id: t for t in (self.sms_template, self.email_template)}
        self.notifications: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []
        self.refused: list[tuple[int, str]] = []
        self._faults: list[int] = []
        self._holds: list[Hold] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api_key(self, name: str = "rapport_test") -> str:
        """A key in Notify's format: {name}-{service id}-{secret}."""
        return f"{name}-{self.service_id}-{self.secret}"

    def start(self) -> NotifyServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        for hold in self._holds:
            hold.release.set()
        self.server.shutdown()
        self.server.server_close()

    def clear(self) -> None:
        with self.lock:
            self.notifications.clear()
            self.requests.clear()
            self.refused.clear()
            self._faults.clear()
            for hold in self._holds:
                hold.release.set()
            self._holds.clear()

    def fail_next(self, *statuses: int) -> None:
        """The next sends are answered with these statuses, in order (400, 403, 429, 500)."""
        with self.lock:
            self._faults.extend(statuses)

    def hold_next(self, *, record_first: bool) -> Hold:
        """Hold the next send unanswered; `record_first`: Notify has accepted it before the line went quiet."""
        hold = Hold(record_first)
        with self.lock:
            self._holds.append(hold)
        return hold

    def set_status(self, notification_id: str, status: str) -> None:
        with self.lock:
            self.notifications[notification_id]["status"] = status

    def sent(self, *, to: str | None = None, reference: str | None = None) -> list[dict]:
        with self.lock:
            found = list(self.notifications.values())
        return [n for n in found if (to is None or to in (n.get("phone_number"), n.get("email_address")))
                and (reference is None or n["reference"] == reference)]

    # --- the HTTP side ---------------------------------------------------------------------------
    def _handler(self):
        notify = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _error(self, status: int, message: str | None = None) -> None:
                with notify.lock:
                    notify.refused.append((status, message or MESSAGES.get(status, "")))
                self._answer(status, {"status_code": status, "errors": [{"error": ERRORS[status], "message": message or MESSAGES[status]}]})

            def _authorised(self) -> bool:
                header = self.headers.get("Authorization", "")
                if not header.startswith("Bearer "):
                    self._error(401, "Unauthorized: authentication token must be provided")
                    return False
                token = header.removeprefix("Bearer ")
                try:
                    head = jwt.get_unverified_header(token)
                    claims = jwt.decode(token, notify.secret, algorithms=["HS256"], options={"require": ["iss", "iat"]})
                except jwt.InvalidSignatureError:
                    self._error(403, "Invalid token: signature, api token not found")
                    return False
                except jwt.PyJWTError as exc:
                    self._error(403, f"Invalid token: {exc}")
                    return False
                if head.get("alg") != "HS256" or head.get("typ") != "JWT":
                    self._error(403, "Invalid token: algorithm used is not HS256")
                    return False
                if claims["iss"] != notify.service_id:
                    self._error(403, "Invalid token: service not found")
                    return False
                if abs(time.time() - int(claims["iat"])) > 30:
                    self._error(403, "Error: Your system clock must be accurate to within 30 seconds")
                    return False
                return True

            def do_POST(self):  # noqa: N802 (http.server's hook)
                path = urlsplit(self.path).path
                with notify.lock:
                    notify.requests.append(("POST", path))
                if path not in ("/v2/notifications/sms", "/v2/notifications/email"):
                    return self._answer(404, {"status_code": 404, "errors": [{"error": "NotFound", "message": "Not found"}]})
                length = int(self.headers.get("Content-Length", "0"))
                if self.headers.get("Content-Type", "").split(";")[0] != "application/json":
                    return self._error(400, "Content-Type must be application/json")
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    return self._error(400, "Invalid JSON supplied in POST data")
                if not self._authorised():
                    return None
                with notify.lock:
                    fault = notify._faults.pop(0) if notify._faults else None
                    hold = notify._holds.pop(0) if notify._holds else None
                if fault:
                    return self._error(fault, "Template not found" if fault == 400 else None)
                kind = path.rsplit("/", 1)[1]
                problem = self._check(kind, body)
                if problem:
                    return self._error(400, problem)
                notification = self._record(kind, body) if hold is None or hold.record_first else None
                if hold is not None:
                    hold.arrived.set()
                    hold.release.wait()
                    return None  # the line went quiet: the client never hears back
                return self._answer(201, self._created(kind, notification))

            def _check(self, kind: str, body: dict) -> str | None:
                allowed = {"sms": {"phone_number", "template_id", "personalisation", "reference", "sms_sender_id"},
                           "email": {"email_address", "template_id", "personalisation", "reference", "email_reply_to_id",
                                     "one_click_unsubscribe_url"}}[kind]
                recipient = "phone_number" if kind == "sms" else "email_address"
                extra = set(body) - allowed
                if extra:
                    return f"Additional properties are not allowed ({', '.join(sorted(extra))} was unexpected)"
                for required in (recipient, "template_id"):
                    if not isinstance(body.get(required), str) or not body[required]:
                        return f"{required} is a required property"
                if not UUID.match(body["template_id"]):
                    return "template_id is not a valid UUID"
                template = notify.templates.get(body["template_id"])
                if template is None:
                    return "Template not found"
                if template.type != kind:
                    return f"{kind} template is not suitable for {'email' if kind == 'sms' else 'sms'} notification"
                if kind == "sms" and not re.fullmatch(r"\+?[0-9 ]{10,15}", body["phone_number"]):
                    return "phone_number Not enough digits" if len(body["phone_number"]) < 10 else "phone_number Must not contain letters or symbols"
                if kind == "email" and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", body["email_address"]):
                    return "email_address Not a valid email address"
                personalisation = body.get("personalisation", {})
                if not isinstance(personalisation, dict):
                    return "personalisation is not of type object"
                missing = sorted(set(PLACEHOLDER.findall(template.body + template.subject)) - set(personalisation))
                if missing:
                    return f"Missing personalisation: {', '.join(missing)}"
                if "reference" in body and not isinstance(body["reference"], str):
                    return "reference is not of type string"
                return None

            def _record(self, kind: str, body: dict) -> dict:
                template = notify.templates[body["template_id"]]
                fill = lambda text: PLACEHOLDER.sub(lambda m: str(body.get("personalisation", {})[m.group(1)]), text)  # noqa: E731
                notification = {
                    "id": str(uuid.uuid4()), "reference": body.get("reference"), "type": kind,
                    "email_address": body.get("email_address"), "phone_number": body.get("phone_number"),
                    "status": "created" if kind == "sms" else "sending", "body": fill(template.body),
                    "subject": fill(template.subject) if kind == "email" else None,
                    "template": {"id": template.id, "version": 1, "uri": f"{notify.base_url}/v2/template/{template.id}"},
                    "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()), "sent_at": None, "completed_at": None,
                }
                with notify.lock:
                    notify.notifications[notification["id"]] = notification
                return notification

            def _created(self, kind: str, n: dict) -> dict:
                content = {"body": n["body"], "from_number": "Rapport"} if kind == "sms" else {
                    "body": n["body"], "subject": n["subject"], "from_email": "rapport@notifications.service.gov.uk"}
                return {"id": n["id"], "reference": n["reference"], "content": content,
                        "uri": f"{notify.base_url}/v2/notifications/{n['id']}", "template": n["template"]}

            def do_GET(self):  # noqa: N802 (http.server's hook)
                url = urlsplit(self.path)
                with notify.lock:
                    notify.requests.append(("GET", url.path))
                if not self._authorised():
                    return None
                if url.path == "/v2/notifications":
                    query = {k: v[0] for k, v in parse_qs(url.query).items()}
                    unknown = set(query) - {"reference", "template_type", "status", "older_than", "include_jobs"}
                    if unknown:
                        return self._error(400, f"Additional properties are not allowed ({', '.join(sorted(unknown))} was unexpected)")
                    with notify.lock:
                        found = [n for n in notify.notifications.values()
                                 if all(n.get({"template_type": "type"}.get(k, k)) == v for k, v in query.items()
                                        if k in ("reference", "template_type", "status"))]
                    return self._answer(200, {"notifications": found, "links": {"current": f"{notify.base_url}{self.path}"}})
                match = re.fullmatch(r"/v2/notifications/([^/]+)", url.path)
                if match:
                    if not UUID.match(match.group(1)):
                        return self._error(400, "notification_id is not a valid UUID")
                    with notify.lock:
                        n = notify.notifications.get(match.group(1))
                    if n is None:
                        return self._answer(404, {"status_code": 404, "errors": [{"error": "NoResultFound", "message": "No result found"}]})
                    return self._answer(200, n)
                return self._answer(404, {"status_code": 404, "errors": [{"error": "NotFound", "message": "Not found"}]})

        return Handler

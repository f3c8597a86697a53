"""Locust scenario of ``python manage.py load_test``: each simulated user is
one nurse who logs in, opens her worklist, opens a call from it, records a
dial (no answer, or answered) and completes the answered calls, sometimes
booking a next call. Nurses of one ward see the same unassigned calls, so
some of them work the same call at once and must get the "changed" page.

Configured by the environment (set by the command): LOAD_USERS (comma-
separated user names), LOAD_PASSWORD, LOAD_TODAY (ISO date), LOAD_RESULTS
(where the acknowledged writes and status counts are written at the end).
Requests carry ``X-Forwarded-Proto: https`` as the TLS proxy in front of
gunicorn would (production settings redirect plain HTTP and set Secure
cookies, which this client then keeps sending over the loopback).
"""

import datetime as dt
import itertools
import json
import os
import random
import re
from collections import Counter
from urllib.parse import urlsplit

from locust import HttpUser, between, events, task

USERS = os.environ.get("LOAD_USERS", "").split(",")
PASSWORD = os.environ.get("LOAD_PASSWORD", "")
TODAY = dt.date.fromisoformat(os.environ.get("LOAD_TODAY", "2000-01-01"))  # the hospital's today
RESULTS = os.environ.get("LOAD_RESULTS", "")

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CALL_LINK = re.compile(r'href="/calls/(\d+)/"')
QUESTION = re.compile(r'name="(q_\d+)"')
ITEM = re.compile(r'name="(outcome-item_\d+)"')

_next_user = itertools.count()
# What the server acknowledged (302 after a POST), per call id.
acknowledged = {"attempts": Counter(), "completions": Counter(), "booked": Counter()}
outcomes = Counter()  # "status 200", "conflict page", "refused", "connection error", ...


def hidden(name: str, page: str) -> str | None:
    found = re.search(rf'name="{re.escape(name)}" value="(\d+)"', page)
    return found.group(1) if found else None


@events.request.add_listener
def count_status(response=None, exception=None, **_kwargs):
    if response is None or getattr(response, "status_code", 0) == 0:
        outcomes["connection error"] += 1
    else:
        outcomes[f"status {response.status_code}"] += 1


@events.quitting.add_listener
def write_results(environment, **_kwargs):
    if RESULTS:
        with open(RESULTS, "w") as out:
            json.dump({**{k: dict(v) for k, v in acknowledged.items()}, "outcomes": dict(outcomes)}, out)


class Nurse(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self):
        self.username = USERS[next(_next_user) % len(USERS)]
        page = self.send("GET", "/accounts/login/", "login page")
        self.send(
            "POST",
            "/accounts/login/",
            "log in",
            {"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": self.csrf(page)},
            ok=(302,),
        )

    def csrf(self, page: str) -> str:
        found = CSRF.search(page)
        return found.group(1) if found else ""

    def send(self, method: str, path: str, name: str, data: dict | None = None, ok=(200,)) -> str:
        authority = urlsplit(self.host).netloc
        headers = {"X-Forwarded-Proto": "https", "Referer": f"https://{authority}{path}"}
        with self.client.request(
            method, path, name=name, data=data, headers=headers, allow_redirects=False, catch_response=True
        ) as response:
            self.status = response.status_code
            text = response.text or ""
            if response.status_code in ok:
                response.success()
            elif response.status_code == 409 and 'id="conflict"' in text:
                outcomes["conflict page"] += 1  # someone saved the call first: expected, shown, nothing overwritten
                response.success()
            elif response.status_code == 400 and method == "POST":
                outcomes["refused"] += 1  # e.g. the call was closed meanwhile
                response.success()
            else:
                response.failure(f"status {response.status_code}")
        for cookie in self.client.cookies:
            cookie.secure = False  # the proxy would speak HTTPS to the browser
        return text

    @task
    def work_a_call(self):
        worklist = self.send("GET", "/calls/", "worklist")
        ids = CALL_LINK.findall(worklist)
        if not ids:
            return
        call_id = random.choice(ids)  # noqa: S311 - load simulation
        path = f"/calls/{call_id}/"
        screen = self.send("GET", path, "call screen")
        version = hidden("attempt-expected_version", screen)
        if version is not None:
            result = random.choice(["no_answer", "answered", "answered"])  # noqa: S311
            self.send(
                "POST",
                f"{path}attempt/",
                "record attempt",
                {
                    "attempt-expected_version": version,
                    "attempt-result": result,
                    "attempt-note": "",
                    "csrfmiddlewaretoken": self.csrf(screen),
                },
                ok=(302,),
            )
            if self.status != 302:
                return
            acknowledged["attempts"][call_id] += 1
            if result != "answered":
                return
            screen = self.send("GET", path, "call screen")
        version = hidden("outcome-expected_version", screen)
        if version is None:
            return
        book = random.random() < 0.2  # noqa: S311
        data = {
            "csrfmiddlewaretoken": self.csrf(screen),
            "outcome-expected_version": version,
            "outcome-answered_by": "patient",
            "outcome-satisfaction": "satisfied",
            "outcome-summary": "Recovering at home; medicines explained again.",
            "outcome-duration": "5:00",
            "outcome-next_call_on": (TODAY + dt.timedelta(days=7)).isoformat() if book else "",
        }
        data.update({name: "no" for name in QUESTION.findall(screen)})
        data.update({name: "9" for name in ITEM.findall(screen)})
        self.send("POST", f"{path}complete/", "complete call", data, ok=(302,))
        if self.status == 302:
            acknowledged["completions"][call_id] += 1
            if book:
                acknowledged["booked"][call_id] += 1

"""A fake Slack Web API served over loopback, for a real slack-sdk ``WebClient(base_url=...)``.

Implements what the notifier uses: ``auth.test``, ``chat.postMessage`` and the three steps of
``files_upload_v2`` (``files.getUploadURLExternal``, a POST of the bytes to the returned upload
URL, ``files.completeUploadExternal``). It records every request as received on the wire and
can answer with HTTP 429 + ``Retry-After``, ``ok: false`` errors, 5xx, or slowly.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{8,}$")


@dataclass(frozen=True)
class WireRequest:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass(frozen=True)
class Message:
    channel: str  # the channel id
    text: str
    ts: str
    thread_ts: str | None = None
    reply_broadcast: bool = False
    blocks: list[Any] | None = None


@dataclass
class Upload:
    file_id: str
    filename: str
    length: int
    data: bytes = b""
    title: str | None = None
    channel_id: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    completed: bool = False


@dataclass
class Fault:
    status: int
    error: str
    retry_after: str | None
    remaining: int


@dataclass
class FakeSlackApi:
    token: str = "xoxb-fake-0000-token"
    channels: dict[str, str] = field(default_factory=lambda: {"#alerts": "C0ALERTS01"})
    delay: float = 0.0  # seconds to wait before answering any request
    messages: list[Message] = field(default_factory=list)
    uploads: dict[str, Upload] = field(default_factory=dict)
    requests: list[WireRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._faults: dict[str, list[Fault]] = {}
        self._cond = threading.Condition()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> FakeSlackApi:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeSlackApi:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.origin + "/api/"

    # -- test controls ------------------------------------------------------------------------
    def fail(
        self,
        method: str,
        *,
        status: int = 429,
        error: str = "ratelimited",
        retry_after: str | None = "0.1",
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an error."""
        with self._cond:
            self._faults.setdefault(method, []).append(Fault(status, error, retry_after, times))

    def wait_for(self, predicate: Callable[[FakeSlackApi], bool], timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def calls(self, method: str) -> list[WireRequest]:
        with self._cond:
            return [r for r in self.requests if urlsplit(r.path).path == f"/api/{method}"]

    def wire_bytes(self) -> bytes:
        """Everything sent to the fake: paths, header values and bodies."""
        with self._cond:
            parts = [
                r.path.encode() + b"".join(v.encode() for v in r.headers.values()) + r.body
                for r in self.requests
            ]
        return b"\n".join(parts)

    # -- the API ------------------------------------------------------------------------------
    def handle(
        self, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        with self._cond:
            self.requests.append(WireRequest(path, headers, body, time.monotonic()))
            self._cond.notify_all()
        if self.delay:
            time.sleep(self.delay)
        if path.startswith("/upload/"):
            return self._receive_upload(path.removeprefix("/upload/"), body)
        method = urlsplit(path).path.removeprefix("/api/")
        fault = self._take_fault(method)
        if fault is not None:
            extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return _json(fault.status, {"ok": False, "error": fault.error}, extra)
        if headers.get("authorization") != f"Bearer {self.token}":
            return _json(200, {"ok": False, "error": "invalid_auth"})
        params = _params(path, headers, body)
        with self._cond:
            result = self._dispatch(method, params)
            self._cond.notify_all()
        return _json(200, result)

    def _dispatch(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "user_id": "U0FAKEBOT", "team": "Fake", "bot_id": "B0FAKEBOT"}
        if method == "chat.postMessage":
            return self._post_message(params)
        if method == "files.getUploadURLExternal":
            return self._upload_url(params)
        if method == "files.completeUploadExternal":
            return self._complete_upload(params)
        return {"ok": False, "error": "unknown_method"}

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_id(str(params.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("text") and not params.get("blocks"):
            return {"ok": False, "error": "no_text"}
        n = next(self._ids)
        ts = f"{1_763_600_000 + n}.{n:06d}"
        self.messages.append(
            Message(
                channel,
                str(params.get("text", "")),
                ts,
                params.get("thread_ts"),
                bool(params.get("reply_broadcast", False)),
                params.get("blocks"),
            )
        )
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": params.get("text")}}

    def _upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("filename") or not str(params.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._ids):09d}"
        self.uploads[file_id] = Upload(file_id, str(params["filename"]), int(params["length"]))
        return {"ok": True, "file_id": file_id, "upload_url": f"{self.origin}/upload/{file_id}"}

    def _receive_upload(self, file_id: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        with self._cond:
            upload = self.uploads.get(file_id)
            if upload is None:
                return 404, {}, b"not found"
            upload.data = body
            self._cond.notify_all()
        return 200, {"Content-Type": "text/plain"}, f"OK - {len(body)}".encode()

    def _complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = params.get("channel_id")
        if channel_id is not None and not CHANNEL_ID.match(str(channel_id)):
            return {"ok": False, "error": "channel_not_found"}  # needs an id, not a #name
        files = json.loads(str(params.get("files", "[]")))
        done = []
        for item in files:
            upload = self.uploads.get(item.get("id"))
            if upload is None or len(upload.data) != upload.length:
                return {"ok": False, "error": "file_not_found"}
            upload.title = item.get("title")
            upload.channel_id = channel_id
            upload.thread_ts = params.get("thread_ts")
            upload.initial_comment = params.get("initial_comment")
            upload.completed = True
            done.append({"id": upload.file_id, "title": upload.title, "name": upload.filename})
        return {"ok": True, "files": done}

    def _channel_id(self, channel: str) -> str | None:
        if CHANNEL_ID.match(channel):
            return channel
        return self.channels.get(channel if channel.startswith("#") else f"#{channel}")

    def _take_fault(self, method: str) -> Fault | None:
        with self._cond:
            faults = self._faults.get(method, [])
            if not faults:
                return None
            fault = faults[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                faults.pop(0)
            return fault


def _params(path: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    params: dict[str, Any] = {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}
    if headers.get("content-type", "").startswith("application/json"):
        params.update(json.loads(body or b"{}"))
    elif body:
        params.update({k: v[0] for k, v in parse_qs(body.decode()).items()})
    return params


def _json(
    status: int, payload: dict[str, Any], extra: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    return (
        status,
        {"Content-Type": "application/json", **(extra or {})},
        json.dumps(payload).encode(),
    )


def _handler_for(api: FakeSlackApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, reply_headers, reply = api.handle(self.path, headers, body)
            self.send_response(status)
            for name, value in reply_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        do_GET = do_POST

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    return Handler

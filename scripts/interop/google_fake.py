#!/usr/bin/env python3
"""Fakes for the interop harness: Google's OAuth token endpoint and Gmail API, and the
SpacetimeDB HTTP reducer call the d29e runtime publishes to.

Serves on 127.0.0.1 only (standard library, no dependencies):

  POST /token                                   OAuth 2.0 token endpoint (GOOGLE_OAUTH_TOKEN_URL):
                                                grant_type=authorization_code -> access + refresh token,
                                                grant_type=refresh_token -> a new access token
  GET  /gmail/v1/users/me/threads               users.threads.list (maxResults honoured)
  GET  /gmail/v1/users/me/threads/{id}          users.threads.get (format=full shape)
  POST /gmail/v1/users/me/messages/send         users.messages.send ({threadId, raw}) -> {id, threadId, labelIds}
  POST /v1/database/{db}/call/{reducer}         SpacetimeDB's HTTP reducer call (the d29e runtime's
                                                RUNTIME_SPACETIME_HTTP_BASE_URL): 200, empty body
  GET  /__fault?gmail=500|off                   negative control: every Gmail call answers that status
  GET  /__fault?spacetime=503|off               negative control: every reducer call answers that status
  GET  /__requests                              what was received (method, path, status), as JSON lines

Shapes follow Google's public API reference (Gmail v1 Thread/Message/MessagePart, the OAuth
token response); upstream's control service reads only the fields used here (lib.rs at
6b173e913a: GmailThreadListResponse, GmailThreadResponse, GmailMessage, GmailMessagePayload).
Gmail calls need a bearer this fake issued; others answer 401 UNAUTHENTICATED like Google.
"""
import base64
import json
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

LOCK = threading.RLock()
ISSUED = set()
REFRESH = set()
FAULT = {"gmail": None, "spacetime": None}
RECORDED = []
SENT = []


def b64url(text):
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


NOW_MS = int(time.time() * 1000)
THREADS = {
    "18c0interop0001": {
        "subject": "Interop harness: invoice question",
        "from": "Ada Customer <ada.customer@example.com>",
        "body": "Hello, could you resend the February invoice? Thanks, Ada",
    },
    "18c0interop0002": {
        "subject": "Interop harness: meeting follow-up",
        "from": "Bob Partner <bob.partner@example.com>",
        "body": "Following up on yesterday's call: next steps attached.",
    },
}


def thread_resource(thread_id):
    t = THREADS[thread_id]
    msg_id = thread_id + "m1"
    return {
        "id": thread_id,
        "historyId": "1001",
        "snippet": t["body"][:60],
        "messages": [
            {
                "id": msg_id,
                "threadId": thread_id,
                "labelIds": ["INBOX", "UNREAD"],
                "snippet": t["body"][:60],
                "historyId": "1001",
                "internalDate": str(NOW_MS - (1 if thread_id.endswith("1") else 2) * 3600_000),
                "sizeEstimate": 512,
                "payload": {
                    "partId": "",
                    "mimeType": "text/plain",
                    "filename": "",
                    "headers": [
                        {"name": "From", "value": t["from"]},
                        {"name": "To", "value": "interop-inbox@openagents.com"},
                        {"name": "Subject", "value": t["subject"]},
                        {"name": "Message-ID", "value": f"<{msg_id}@mail.example.com>"},
                    ],
                    "body": {"size": len(t["body"]), "data": b64url(t["body"])},
                },
            }
        ],
    }


class Handler(BaseHTTPRequestHandler):
    server_version = "google-fake/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: requests go to /__requests and the log below
        pass

    def reply(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=UTF-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with LOCK:
            entry = {"method": self.command, "path": urlparse(self.path).path, "status": status}
            RECORDED.append(entry)
        sys.stdout.write(json.dumps(entry) + "\n")
        sys.stdout.flush()

    def reply_empty(self, status):
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()
        with LOCK:
            entry = {"method": self.command, "path": urlparse(self.path).path, "status": status}
            RECORDED.append(entry)
        sys.stdout.write(json.dumps(entry) + "\n")
        sys.stdout.flush()

    def google_error(self, status, reason, message):
        self.reply(status, {"error": {"code": status, "message": message, "status": reason}})

    def read_body(self):
        n = int(self.headers.get("content-length") or 0)
        return self.rfile.read(n) if n else b""

    def bearer_ok(self):
        auth = self.headers.get("authorization") or ""
        token = auth[7:] if auth.lower().startswith("bearer ") else ""
        with LOCK:
            return token in ISSUED

    def do_GET(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        if url.path == "/__fault":
            for name in FAULT:
                if name in q:
                    value = q[name][0]
                    FAULT[name] = None if value == "off" else int(value)
            return self.reply(200, dict(FAULT))
        if url.path == "/__requests":
            with LOCK:
                snapshot = {"requests": list(RECORDED), "sent": list(SENT)}
            return self.reply(200, snapshot)
        if url.path.startswith("/gmail/"):
            return self.gmail_get(url, q)
        self.google_error(404, "NOT_FOUND", "Requested entity was not found.")

    def gmail_get(self, url, q):
        if FAULT["gmail"]:
            return self.google_error(FAULT["gmail"], "INTERNAL", "Internal error encountered.")
        if not self.bearer_ok():
            return self.google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        prefix = "/gmail/v1/users/me/threads"
        if url.path == prefix:
            limit = int((q.get("maxResults") or ["100"])[0])
            ids = list(THREADS)[: max(1, limit)]
            return self.reply(200, {
                "threads": [{"id": i, "snippet": thread_resource(i)["snippet"], "historyId": "1001"} for i in ids],
                "resultSizeEstimate": len(ids),
            })
        if url.path.startswith(prefix + "/"):
            thread_id = url.path[len(prefix) + 1:]
            if thread_id in THREADS:
                return self.reply(200, thread_resource(thread_id))
            return self.google_error(404, "NOT_FOUND", "Requested entity was not found.")
        self.google_error(404, "NOT_FOUND", "Requested entity was not found.")

    def do_POST(self):
        url = urlparse(self.path)
        body = self.read_body()
        if url.path == "/token":
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            grant = form.get("grant_type")
            access = "ya29.interop-" + secrets.token_hex(16)
            if grant == "authorization_code" and form.get("code"):
                refresh = "1//interop-" + secrets.token_hex(16)
                with LOCK:
                    ISSUED.add(access)
                    REFRESH.add(refresh)
                return self.reply(200, {
                    "access_token": access, "expires_in": 3599, "refresh_token": refresh,
                    "scope": "https://www.googleapis.com/auth/gmail.readonly https://www.googleapis.com/auth/gmail.compose https://www.googleapis.com/auth/gmail.send",
                    "token_type": "Bearer",
                })
            if grant == "refresh_token" and form.get("refresh_token") in REFRESH:
                with LOCK:
                    ISSUED.add(access)
                return self.reply(200, {"access_token": access, "expires_in": 3599, "token_type": "Bearer"})
            return self.reply(400, {"error": "invalid_grant", "error_description": "Bad Request"})
        parts = url.path.split("/")
        if len(parts) == 6 and parts[1:3] == ["v1", "database"] and parts[4] == "call":
            # SpacetimeDB: POST /v1/database/{db}/call/{reducer}, JSON array of arguments.
            if FAULT["spacetime"]:
                return self.reply(FAULT["spacetime"], {"error": "interop fault"})
            return self.reply_empty(200)
        if url.path == "/gmail/v1/users/me/messages/send":
            if FAULT["gmail"]:
                return self.google_error(FAULT["gmail"], "INTERNAL", "Internal error encountered.")
            if not self.bearer_ok():
                return self.google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
            try:
                payload = json.loads(body or b"{}")
            except ValueError:
                return self.google_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
            if not payload.get("raw"):
                return self.google_error(400, "INVALID_ARGUMENT", "Recipient address required")
            message_id = "18c0sent" + secrets.token_hex(6)
            with LOCK:
                SENT.append({"id": message_id, "threadId": payload.get("threadId")})
            return self.reply(200, {"id": message_id, "threadId": payload.get("threadId") or message_id, "labelIds": ["SENT"]})
        self.google_error(404, "NOT_FOUND", "Requested entity was not found.")


def main():
    port = int(sys.argv[1])
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()

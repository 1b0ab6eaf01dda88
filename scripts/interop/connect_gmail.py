#!/usr/bin/env python3
"""connect_gmail.py CONTROL_URL TOKEN: connects the session's Google account through the fake.

The manual, attested step of the Gmail lane, done against the Google-shaped fake: GET
/settings/integrations/google/redirect (bearer; 303 to accounts.google.com with a per-user
`state`), then GET /settings/integrations/google/callback?code=...&state=... (bearer), which makes
the control service exchange the code at GOOGLE_OAUTH_TOKEN_URL (the fake) and store the refresh
token; it answers 303 to /settings/integrations?status=google-connected (lib.rs at 6b173e913a).
"""
import sys
import urllib.error
import urllib.parse
import urllib.request

base, token = sys.argv[1], sys.argv[2]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)


def get(path):
    req = urllib.request.Request(base + path, headers={"authorization": f"Bearer {token}"})
    try:
        r = opener.open(req, timeout=20)
        return r.status, r.headers.get("location")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("location")


status, location = get("/settings/integrations/google/redirect")
if status not in (302, 303, 307) or not location:
    sys.exit(f"connect_gmail: redirect answered {status}")
state = urllib.parse.parse_qs(urllib.parse.urlparse(location).query).get("state", [""])[0]
status, location = get("/settings/integrations/google/callback?" + urllib.parse.urlencode(
    {"code": "interop-authorization-code", "state": state}))
if status not in (302, 303, 307) or "google-" not in (location or ""):
    sys.exit(f"connect_gmail: callback answered {status} -> {location}")
print(f"gmail connected at {base}: callback {status} -> {location}")

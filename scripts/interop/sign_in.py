#!/usr/bin/env python3
"""sign_in.py CONTROL_URL EMAIL: an access token through upstream's mock-auth sign-in API.

POST /api/auth/email {"email"} -> {"challengeId"}; POST /api/auth/verify {"code", "challenge_id"}
-> {"token"} (auth_routes.rs send_email_code / verify_email_code; the mock provider's magic code
is OA_AUTH_MOCK_MAGIC_CODE, 123456 by default). Prints the token on stdout, nothing else.
"""
import json
import sys
import urllib.request

base, email = sys.argv[1], sys.argv[2]
code = sys.argv[3] if len(sys.argv) > 3 else "123456"


def post(path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json", "accept": "application/json",
                                          "x-forwarded-for": "127.0.0.1"})
    with urllib.request.urlopen(req, timeout=15) as r:
        return json.load(r)


challenge = post("/api/auth/email", {"email": email})
cid = challenge.get("challengeId") or challenge.get("challenge_id")
if not cid:
    sys.exit(f"sign_in: no challengeId in {sorted(challenge)}")
verified = post("/api/auth/verify", {"code": code, "challenge_id": cid})
token = verified.get("token")
if not token:
    sys.exit(f"sign_in: no token in {sorted(verified)}")
print(token)

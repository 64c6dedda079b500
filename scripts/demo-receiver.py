"""A demo webhook receiver: registers itself with the local API, then prints every event it
receives after verifying its signature with the reference Standard Webhooks library.

Run it with scripts/demo-receiver.sh while scripts/run-local.sh is running. Ctrl-C removes the
endpoint again.
"""

import json
import os
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

API = os.environ.get("API_URL", "http://127.0.0.1:3000")
PORT = int(os.environ.get("RECEIVER_PORT", "4000"))
EVENTS = ["user.created", "user.updated", "user.deleted", "user.wallet_created", "user.wallet_failed"]


def api(method, path, key, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(API + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request) as response:
        text = response.read()
        return json.loads(text) if text else None


class Receiver(BaseHTTPRequestHandler):
    verifier = None

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            event = self.verifier.verify(body, dict(self.headers.items()))
        except WebhookVerificationError as error:
            # Refused, and said so: a 4xx is recorded as a failed attempt, never a delivery.
            print(f"REFUSED  {self.headers.get('webhook-id')}  ({error})", flush=True)
            self.send_response(400)
            self.end_headers()
            return
        data = event.get("data", {})
        user = data.get("user_id") or data.get("id")
        detail = data.get("wallet", {}).get("address") or data.get("email") or ""
        print(f"verified  {event['type']:<20} {event['id']}  user {user}  {detail}", flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    key = os.environ.get("API_KEY") or open(".local/api-key").read().strip()
    url = f"http://127.0.0.1:{PORT}/hooks"
    server = HTTPServer(("127.0.0.1", PORT), Receiver)
    endpoint = api("POST", "/v1/webhooks", key, {"url": url, "events": EVENTS})["data"]
    Receiver.verifier = Webhook(endpoint["secret"])
    print(f"receiving at {url} (endpoint {endpoint['id']}); create a user in another terminal", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        api("DELETE", f"/v1/webhooks/{endpoint['id']}", key)
        print("endpoint removed", file=sys.stderr)


if __name__ == "__main__":
    main()

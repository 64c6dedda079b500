"""OST KIT's own Python client (ost-kit-python, pinned in requirements.txt) against our OST
dialect: users.create, update, retrieve and list, unchanged, and what it reads back on errors
(it never raises: every answer is JSON). Then requests signed here as its client signs them,
to show a stale timestamp and a replayed signature refused. Run by
tests/tests/suite/dialects.rs with BASE_URL (<api>/ost/v1) and CLIENTS."""

import hashlib
import hmac
import json
import os
import time
import urllib.parse
import uuid

import requests
from ost_kit_python import OSTKit

base_url = os.environ["BASE_URL"]
creds = json.loads(os.environ["CLIENTS"])["ost"]
kit = OSTKit(api_url=base_url, api_key=creds["api_key"], api_secret=creds["api_secret"])
tag = uuid.uuid4().hex[:8]

created = kit.users.create(name=f"Alice {tag}")
assert created["success"] is True and created["data"]["result_type"] == "user", created
uid = created["data"]["user"]["id"]
print("ok users.create:", uid)

updated = kit.users.update(user_id=uid, name=f"Alice Smith {tag}")
assert updated["data"]["user"]["name"] == f"Alice Smith {tag}", updated
print("ok users.update:", updated["data"]["user"]["name"])

# A signature is accepted once, and its client signs with whole seconds: an identical request
# (a poll) must wait for the next second, or it is refused as a replay.
for _ in range(30):
    time.sleep(1.05)
    user = kit.users.retrieve(user_id=uid)["data"]["user"]
    if user["addresses"]:
        break
chain_id, address = user["addresses"][0]
assert chain_id == "1" and address.startswith("0x"), user
assert user["airdropped_tokens"] is None and user["token_balance"] is None, user
print("ok users.retrieve:", user["addresses"])

for i in range(3):
    kit.users.create(name=f"User {tag} {i}")
first = kit.users.list(limit=2)
assert first["data"]["result_type"] == "users" and len(first["data"]["users"]) == 2, first
following = first["data"]["meta"]["next_page_payload"]
second = kit.users.list(**following)
by_page_no = kit.users.list(page_no=2, limit=2, airdropped=False)
ids = lambda page: [u["id"] for u in page["data"]["users"]]
assert ids(second) == ids(by_page_no) and not set(ids(first)) & set(ids(second)), (first, second)
print("ok users.list: pages of 2 by next_page_payload and by page_no agree")
assert kit.users.list(airdropped=True)["data"]["users"] == []
print("ok users.list(airdropped=True): nobody")

bad = kit.users.create(name="A")
assert bad["success"] is False and bad["err"]["code"] == "BAD_REQUEST", bad
assert bad["err"]["error_data"][0]["parameter"] == "name", bad
print("ok invalid name:", bad["err"]["error_data"][0])
missing = kit.users.retrieve(user_id=str(uuid.uuid4()))
assert missing["err"]["code"] == "NOT_FOUND", missing
print("ok unknown id:", missing["err"]["code"])
forged = OSTKit(api_url=base_url, api_key=creds["api_key"], api_secret="wucs_" + "0" * 64)
refused = forged.users.retrieve(user_id=uid)
assert refused["err"]["code"] == "UNAUTHORIZED", refused
print("ok wrong secret:", refused["err"]["code"])


def signed(endpoint, params, timestamp):
    """The query its client sends: params, api_key and request_timestamp, and the signature."""
    params = dict(params, api_key=creds["api_key"], request_timestamp=timestamp)
    text = endpoint + "?" + urllib.parse.urlencode(sorted(params.items()))
    params["signature"] = hmac.new(creds["api_secret"].encode(), text.encode(), hashlib.sha256).hexdigest()
    return params


time.sleep(1.05)  # not the second of the retrieve above, whose signature this would repeat
query = signed(f"/users/{uid}", {}, int(time.time()))
assert requests.get(f"{base_url}/users/{uid}", params=query).json()["success"] is True
replayed = requests.get(f"{base_url}/users/{uid}", params=query)
assert replayed.status_code == 401 and replayed.json()["err"]["code"] == "UNAUTHORIZED", replayed.text
print("ok a signature seen twice: 401")
stale = requests.get(f"{base_url}/users/{uid}", params=signed(f"/users/{uid}", {}, int(time.time()) - 120))
assert stale.status_code == 401, stale.text
print("ok a timestamp two minutes old: 401")

"""Original's own Python client (original-sdk, pinned in requirements.txt) against our Original
dialect: every user call it has, unchanged, with the errors it raises. Run by
tests/tests/suite/dialects.rs with BASE_URL (<api>/original) and CLIENTS (the `clients` JSON
create-key prints). Prints one line per call; exits non-zero at the first surprise."""

import json
import os
import time
import uuid

from original_sdk import OriginalClient
from original_sdk.types.exceptions import ClientError, ValidationError

base_url = os.environ["BASE_URL"]
creds = json.loads(os.environ["CLIENTS"])["original"]
client = OriginalClient(api_key=creds["api_key"], api_secret=creds["api_secret"], base_url=base_url)
tag = uuid.uuid4().hex[:12]
email, external_id = f"ada.{tag}@example.com", f"ext-{tag}"


def raises(kind, status, call):
    try:
        call()
    except kind as error:
        assert error.status == status, (kind, error.status, error.message)
        return error
    raise AssertionError(f"expected {kind.__name__} {status}")


created = client.create_user(email=email, user_external_id=external_id)
assert created["success"] is True, created
uid = created["data"]["uid"]
print("ok create_user:", uid)

# The SDK reads our rate-limit headers (x-ratelimit-limit/-remaining/-reset) as its own.
quota = created.rate_limit()
assert quota is not None and 0 <= quota.remaining < quota.limit, quota
assert abs(quota.reset.timestamp() - time.time()) < 5, quota
print("ok rate_limit:", quota.limit, quota.remaining, quota.reset.isoformat())

user = client.get_user(uid)["data"]
assert (user["uid"], user["email"], user["user_external_id"]) == (uid, email, external_id), user
print("ok get_user:", user["uid"], user["created_at"])

assert client.get_user_by_email(email)["data"]["uid"] == uid
print("ok get_user_by_email")
assert client.get_user_by_user_external_id(external_id)["data"]["uid"] == uid
print("ok get_user_by_user_external_id")

missing = client.get_user_by_email(f"nobody.{tag}@example.com")
assert missing == {"success": False, "data": None}, missing
print("ok get_user_by_email (nobody):", missing)

# Its wallet arrives from the stream a moment later, once per network of the app.
for _ in range(300):
    wallets = client.get_user(uid)["data"]["wallets"]
    if wallets:
        break
    time.sleep(0.1)
assert wallets and set(wallets[0]) == {"address", "chain_id", "explorer_url", "network"}, wallets
assert wallets[0]["address"] in wallets[0]["explorer_url"], wallets
print("ok wallets:", wallets[0]["network"], wallets[0]["chain_id"])

error = raises(ClientError, 409, lambda: client.create_user(email=email))
assert error.code == "client_error" and not isinstance(error, ValidationError), error.data
print("ok duplicate -> ClientError 409:", error.message)
error = raises(ValidationError, 400, lambda: client.create_user(email="not-an-email"))
assert error.data["error"]["detail"]["field_name"] == "email", error.data
print("ok invalid email -> ValidationError 400:", error.message)
error = raises(ClientError, 404, lambda: client.get_user(str(uuid.uuid4())))
print("ok unknown uid -> ClientError 404:", error.message)

forged = OriginalClient(api_key=creds["api_key"], api_secret="wucs_" + "0" * 64, base_url=base_url)
error = raises(ClientError, 401, lambda: forged.get_user(uid))
print("ok wrong secret -> ClientError 401:", error.message)

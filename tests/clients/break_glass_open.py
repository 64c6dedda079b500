"""Opens a break-glass export with code nobody here wrote: pyrage (age) decrypts it, eth-account
and solders derive each key's address. `keygen` prints a new age identity and its recipient as
JSON; `open IDENTITY FILE` prints, for each exported key, what it claims and what its key
derives, as a JSON list."""

import json
import sys

import pyrage
from eth_account import Account
from solders.keypair import Keypair

if sys.argv[1] == "keygen":
    identity = pyrage.x25519.Identity.generate()
    print(json.dumps({"identity": str(identity), "recipient": str(identity.to_public())}))
    sys.exit(0)

_, _, identity, path = sys.argv
with open(path, "rb") as file:
    plaintext = pyrage.decrypt(file.read(), [pyrage.x25519.Identity.from_str(identity)])
keys = []
for line in plaintext.decode().splitlines():
    key = json.loads(line)
    if key["chain_type"] == "ethereum":
        derived = Account.from_key(key["private_key"]).address
    else:
        derived = str(Keypair.from_base58_string(key["private_key"]).pubkey())
    keys.append({**{k: key[k] for k in ("app_id", "user_id", "chain_type", "address")}, "derived": derived})
print(json.dumps(keys))

"""Checks our wallets' signatures with libraries nobody here wrote: eth-account recovers the
signer of each ethereum `personal_sign`, solders verifies each solana `signMessage`. Reads the
cases as JSON on stdin: {"ethereum": [{address, message, signature}], "solana": [...]}, messages
and signatures in hex (solana signatures base58, as the API shows them). Prints a line per
case; exits non-zero at the first that does not verify."""

import json
import sys

from eth_account import Account
from eth_account.messages import encode_defunct
from solders.pubkey import Pubkey
from solders.signature import Signature

cases = json.load(sys.stdin)
for case in cases["ethereum"]:
    message = bytes.fromhex(case["message"])
    signer = Account.recover_message(encode_defunct(primitive=message), signature=case["signature"])
    assert signer == case["address"], (signer, case)
    print("ok ethereum", len(message), "bytes by", signer)
for case in cases["solana"]:
    message = bytes.fromhex(case["message"])
    signature = Signature.from_string(case["signature"])
    assert signature.verify(Pubkey.from_string(case["address"]), message), case
    assert not signature.verify(Pubkey.from_string(case["address"]), message + b"!"), case
    print("ok solana", len(message), "bytes by", case["address"])

"""Checks our wallets' signatures with libraries nobody here wrote: eth-account recovers the
signer of each ethereum `personal_sign` and `eth_signTypedData_v4`, solders verifies each
solana `signMessage`. Reads the cases as JSON on stdin: {"ethereum": [{address, message,
signature}], "typed_data": [{address, typed_data, signature}], "solana": [...]}, messages and
signatures in hex (solana signatures base58, as the API shows them). Prints a line per case;
exits non-zero at the first that does not verify."""

import json
import sys

from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from solders.pubkey import Pubkey
from solders.signature import Signature

cases = json.load(sys.stdin)
for case in cases["ethereum"]:
    message = bytes.fromhex(case["message"])
    signer = Account.recover_message(encode_defunct(primitive=message), signature=case["signature"])
    assert signer == case["address"], (signer, case)
    print("ok ethereum", len(message), "bytes by", signer)
for case in cases["typed_data"]:
    signable = encode_typed_data(full_message=case["typed_data"])
    signer = Account.recover_message(signable, signature=case["signature"])
    assert signer == case["address"], (signer, case)
    print("ok typed data", case["typed_data"]["primaryType"], "by", signer)
for case in cases["solana"]:
    message = bytes.fromhex(case["message"])
    signature = Signature.from_string(case["signature"])
    assert signature.verify(Pubkey.from_string(case["address"]), message), case
    assert not signature.verify(Pubkey.from_string(case["address"]), message + b"!"), case
    print("ok solana", len(message), "bytes by", case["address"])

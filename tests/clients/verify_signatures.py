"""Checks our wallets' signatures with libraries nobody here wrote: eth-account recovers the
signer of each ethereum `personal_sign` and `eth_signTypedData_v4`, solders verifies each
solana `signMessage`. Reads the cases as JSON on stdin: {"ethereum": [{address, message,
signature}], "typed_data": [{address, typed_data, signature}], "solana": [...],
"transactions": [{address, raw, hash, chain_id, nonce}], "solana_transactions": [{address,
raw}]}, messages and signatures in hex (solana signatures base58 and transactions base64, as
the API shows them). Prints a line per case;
exits non-zero at the first that does not verify."""

import json
import sys

from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from base64 import b64decode

from eth_account.typed_transactions import TypedTransaction
from eth_utils import keccak
from hexbytes import HexBytes
from solders.message import to_bytes_versioned
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

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
    if "signature_base64" in case:  # Privy's encoding
        signature = Signature.from_bytes(b64decode(case["signature_base64"]))
    else:
        signature = Signature.from_string(case["signature"])
    assert signature.verify(Pubkey.from_string(case["address"]), message), case
    assert not signature.verify(Pubkey.from_string(case["address"]), message + b"!"), case
    print("ok solana", len(message), "bytes by", case["address"])
for case in cases.get("transactions", []):
    raw = bytes.fromhex(case["raw"][2:])
    signer = Account.recover_transaction(raw)
    assert signer == case["address"], (signer, case)
    assert "hash" not in case or "0x" + keccak(raw).hex() == case["hash"], case
    if raw[0] < 0x80:  # a typed envelope (EIP-2718); legacy transactions are RLP lists
        fields = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
        assert fields["chainId"] == case["chain_id"] and fields["nonce"] == case["nonce"], fields
    print("ok transaction", "type", raw[0] if raw[0] < 0x80 else "legacy", "by", signer)
for case in cases.get("solana_transactions", []):
    tx = VersionedTransaction.from_bytes(b64decode(case["raw"]))
    signer = Pubkey.from_string(case["address"])
    slot = list(tx.message.account_keys).index(signer)
    assert tx.signatures[slot].verify(signer, to_bytes_versioned(tx.message)), case
    print("ok solana transaction by", case["address"])

// Privy's own Node client (@privy-io/node, pinned in package.json) signing with our wallets
// through its wallets().ethereum() and .solana() calls, unchanged. Run by
// tests/tests/suite/wallet_rpc.rs with BASE_URL (<api>/privy), CLIENTS, WALLETS ({ethereum,
// solana}: {id, address}), SOLANA_TX (an unsigned transfer, base64) and RECIPIENT. Prints an
// `ok` line per call, then `cases <json>` for tests/clients/verify_signatures.py.
import assert from 'node:assert/strict';
import { NotFoundError, PermissionDeniedError, PrivyClient } from '@privy-io/node';

const creds = JSON.parse(process.env.CLIENTS).privy;
const wallets = JSON.parse(process.env.WALLETS);
const privy = new PrivyClient({ appId: creds.app_id, appSecret: creds.app_secret, apiUrl: process.env.BASE_URL });
const ethereum = privy.wallets().ethereum();
const solana = privy.wallets().solana();
const eth = wallets.ethereum;
const sol = wallets.solana;
const cases = { ethereum: [], typed_data: [], solana: [], transactions: [], solana_transactions: [] };

const text = await ethereum.signMessage(eth.id, { message: 'Sign in to example.com' });
assert.equal(text.encoding, 'hex');
cases.ethereum.push({ address: eth.address, message: Buffer.from('Sign in to example.com').toString('hex'), signature: text.signature });
console.log('ok ethereum signMessage (utf-8)');

const bytes = await ethereum.signMessage(eth.id, { message: new Uint8Array([0, 255, 25, 69]) });
cases.ethereum.push({ address: eth.address, message: '00ff1945', signature: bytes.signature });
console.log('ok ethereum signMessage (bytes, sent as hex)');

const typed = {
  types: { EIP712Domain: [{ name: 'name', type: 'string' }, { name: 'chainId', type: 'uint256' }],
           Order: [{ name: 'item', type: 'string' }, { name: 'amount', type: 'uint256' }] },
  domain: { name: 'Shop', chainId: 31337 },
  message: { item: 'hat', amount: 3 },
};
const typedAnswer = await ethereum.signTypedData(eth.id, { params: { typed_data: { ...typed, primary_type: 'Order' } } });
cases.typed_data.push({ address: eth.address, typed_data: { ...typed, primaryType: 'Order' }, signature: typedAnswer.signature });
console.log('ok ethereum signTypedData');

const transaction = { to: process.env.RECIPIENT, value: '0x2386f26fc10000', chain_id: 31337, nonce: 0,
                      gas_limit: 21000, max_fee_per_gas: '0x77359400', max_priority_fee_per_gas: 1, type: 2 };
const signedTx = await ethereum.signTransaction(eth.id, { params: { transaction } });
assert.equal(signedTx.encoding, 'rlp');
cases.transactions.push({ address: eth.address, raw: signedTx.signed_transaction, chain_id: 31337, nonce: 0 });
console.log('ok ethereum signTransaction');

const send = { caip2: 'eip155:31337', params: { transaction: { to: process.env.RECIPIENT, value: '0x2386f26fc10000' } },
               idempotency_key: 'privy-send-1' };
const sent = await ethereum.sendTransaction(eth.id, send);
assert.equal(sent.caip2, 'eip155:31337');
assert.match(sent.hash, /^0x[0-9a-f]{64}$/);
const again = await ethereum.sendTransaction(eth.id, send);
assert.equal(again.hash, sent.hash);
console.log('ok ethereum sendTransaction, once per idempotency key');

const solMessage = await solana.signMessage(sol.id, { message: new TextEncoder().encode('hello solana') });
assert.equal(solMessage.encoding, 'base64');
cases.solana.push({ address: sol.address, message: Buffer.from('hello solana').toString('hex'),
                    signature_base64: solMessage.signature });
console.log('ok solana signMessage');

const solTx = await solana.signTransaction(sol.id, { transaction: process.env.SOLANA_TX });
assert.equal(solTx.encoding, 'base64');
cases.solana_transactions.push({ address: sol.address, raw: solTx.signed_transaction });
console.log('ok solana signTransaction');

try {
  await ethereum.signMessage(`${eth.id.slice(0, -9)}0-ethereum`, { message: 'x' });
  assert.fail('expected NotFoundError');
} catch (error) {
  assert.ok(error instanceof NotFoundError, `${error.constructor.name}: ${error.message}`);
}
console.log('ok an unknown wallet is NotFoundError');

// The app's policy (the test sets max_value to 0.1 ether) refuses a larger send.
try {
  await ethereum.sendTransaction(eth.id, { caip2: 'eip155:31337',
    params: { transaction: { to: process.env.RECIPIENT, value: '0xde0b6b3a7640000' } } });
  assert.fail('expected PermissionDeniedError');
} catch (error) {
  assert.ok(error instanceof PermissionDeniedError, `${error.constructor.name}: ${error.message}`);
  assert.match(error.message, /max_value/);
}
console.log('ok a policy refusal is PermissionDeniedError naming the rule');

console.log('sent ' + sent.hash);
console.log('cases ' + JSON.stringify(cases));

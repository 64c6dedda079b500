// Privy's own Node client (@privy-io/node, pinned in package.json) against our Privy dialect:
// every users() call the issue names and apps() allowlist, unchanged, with the errors it
// raises. Run by tests/tests/suite/dialects.rs with BASE_URL (<api>/privy) and CLIENTS.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  AuthenticationError, BadRequestError, ConflictError, NotFoundError, PrivyClient,
} from '@privy-io/node';

const creds = JSON.parse(process.env.CLIENTS).privy;
const apiUrl = process.env.BASE_URL;
const privy = new PrivyClient({ appId: creds.app_id, appSecret: creds.app_secret, apiUrl });
const tag = randomUUID().slice(0, 8);
const email = `grace.${tag}@example.com`;
const digits = String(Date.now()).slice(-9);

async function raises(kind, call) {
  try {
    await call();
  } catch (error) {
    assert.ok(error instanceof kind, `${error.constructor.name}: ${error.message}`);
    return error;
  }
  assert.fail(`expected ${kind.name}`);
}

const user = await privy.users().create({
  linked_accounts: [
    { type: 'email', address: email },
    { type: 'custom_auth', custom_user_id: `cu-${tag}` },
    { type: 'phone', number: `+1555${digits}` },
    { type: 'twitter_oauth', subject: `tw-${tag}`, username: `grace${tag}`, name: 'Grace', profile_picture_url: null },
    { type: 'telegram', telegram_user_id: `tg-${tag}`, username: `Grace_TG_${tag}` },
    { type: 'github_oauth', subject: `gh-${tag}`, username: `grace-gh-${tag}` },
    { type: 'farcaster', fid: Number(digits), owner_address: '0x0000000000000000000000000000000000000001' },
  ],
  wallets: [{ chain_type: 'ethereum' }, { chain_type: 'solana' }],
  custom_metadata: { plan: 'pro' },
});
assert.match(user.id, /^did:privy:/);
assert.equal(typeof user.created_at, 'number');
const embeddedOf = (u) => u.linked_accounts.filter(
  (a) => a.type === 'wallet' && a.connector_type === 'embedded' && a.wallet_client_type === 'privy');

// The create waits (boundedly) for its wallets; a loaded machine may answer before they are
// made, and then they show on a later read.
async function walletsOf(id, chains) {
  for (let i = 0; i < 300; i++) {
    const wallets = embeddedOf(await privy.users()._get(id));
    if (chains.every((c) => wallets.some((w) => w.chain_type === c))) return wallets;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`no ${chains} wallets after 30 s`);
}
const embedded = await walletsOf(user.id, ['ethereum', 'solana']);
console.log('ok users().create:', user.id, `(${embeddedOf(user).length} wallets in its answer)`,
  embedded.map((w) => w.address).join(' '));

assert.equal((await privy.users()._get(user.id)).id, user.id);
console.log('ok users()._get');
const lookups = {
  getByEmailAddress: { address: email },
  getByWalletAddress: { address: embedded[0].address },
  getByCustomAuthID: { custom_user_id: `cu-${tag}` },
  getByPhoneNumber: { number: `+1555${digits}` },
  getByTwitterSubject: { subject: `tw-${tag}` },
  getByTelegramUserID: { telegram_user_id: `tg-${tag}` },
  getByFarcasterID: { fid: Number(digits) },
  getByTwitterUsername: { username: `Grace${tag}` },
  getByTelegramUsername: { username: `grace_tg_${tag}` },
  getByGitHubUsername: { username: `grace-gh-${tag}` },
};
for (const [call, params] of Object.entries(lookups)) {
  assert.equal((await privy.users()[call](params)).id, user.id, call);
  console.log(`ok users().${call}`);
}

const others = [];
for (let i = 0; i < 3; i++) {
  others.push(await privy.users().create({ linked_accounts: [{ type: 'email', address: `u${i}.${email}` }] }));
}
const seen = [];
for await (const listed of privy.users().list({ limit: 2 })) seen.push(listed.id);
for (const expected of [user, ...others]) assert.ok(seen.includes(expected.id), 'every page followed');
assert.equal(new Set(seen).size, seen.length, 'no user twice');
console.log(`ok users().list: ${seen.length} users, pages of 2`);

const withMetadata = await privy.users().setCustomMetadata(user.id, { custom_metadata: { tier: 2 } });
assert.deepEqual(withMetadata.custom_metadata, { tier: 2 });
console.log('ok users().setCustomMetadata');
const unlinked = await privy.users().unlinkLinkedAccount(user.id, { type: 'custom_auth', handle: `cu-${tag}` });
assert.ok(!unlinked.linked_accounts.some((a) => a.type === 'custom_auth'));
console.log('ok users().unlinkLinkedAccount');

const bare = others[0];
assert.ok(!bare.linked_accounts.some((a) => a.type === 'wallet'), 'no wallet unless asked');
const pregenerated = await privy.users().pregenerateWallets(bare.id, { wallets: [{ chain_type: 'solana' }] });
assert.equal(pregenerated.id, bare.id);
await walletsOf(bare.id, ['solana']);
console.log('ok users().pregenerateWallets');

let error = await raises(ConflictError, () => privy.users().create({ linked_accounts: [{ type: 'email', address: email }] }));
console.log('ok duplicate -> ConflictError:', error.message);
error = await raises(BadRequestError, () => privy.users().create({ linked_accounts: [{ type: 'email', address: 'nope' }] }));
console.log('ok invalid email -> BadRequestError:', error.message);
error = await raises(NotFoundError, () => privy.users().getByEmailAddress({ address: `nobody.${email}` }));
console.log('ok nobody -> NotFoundError');
const forged = new PrivyClient({ appId: creds.app_id, appSecret: `${creds.app_secret.slice(0, -1)}0`, apiUrl });
error = await raises(AuthenticationError, () => forged.users()._get(user.id));
console.log('ok wrong secret -> AuthenticationError');

await privy.users().delete(others[2].id);
await raises(NotFoundError, () => privy.users()._get(others[2].id));
console.log('ok users().delete');

const entry = await privy.apps().inviteToAllowlist({ type: 'email', value: `invited.${email}` });
assert.deepEqual(Object.keys(entry).sort(), ['acceptedAt', 'appId', 'id', 'type', 'value']);
assert.equal(entry.appId, creds.app_id);
assert.ok((await privy.apps().getAllowlist()).some((e) => e.id === entry.id));
const removed = await privy.apps().removeFromAllowlist({ type: 'email', value: `invited.${email}` });
assert.equal(typeof removed.message, 'string');
assert.ok(!(await privy.apps().getAllowlist()).some((e) => e.id === entry.id));
console.log('ok apps() inviteToAllowlist, getAllowlist, removeFromAllowlist');

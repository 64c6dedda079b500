/**
 * Quick start: create a user, find-or-create it again by the same email (the same user, with
 * `created: false`), then wait for its embedded wallet to be `ready` and print the address.
 *
 *   API_KEY=wusk_… [API_URL=http://127.0.0.1:3000] npm run example
 *
 * Exits non-zero on any failure.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { createWalletUsersClient, type ApiError, type User } from "../src/index.js";

const WALLET_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 500;
const REQUEST_TIMEOUT_MS = 10_000;

class Failure extends Error {}

function fail(message: string, error?: ApiError): never {
  const detail = error ? ` [${error.code}] ${error.message} (request ${error.request_id})` : "";
  throw new Failure(message + detail);
}

async function main(): Promise<void> {
  const baseUrl = process.env.API_URL || "http://127.0.0.1:3000";
  const apiKey = process.env.API_KEY;
  if (!apiKey) fail("set API_KEY to an API key of your app");
  const client = createWalletUsersClient(baseUrl, apiKey);
  const signal = () => AbortSignal.timeout(REQUEST_TIMEOUT_MS);

  // 1. Create a user with a unique email.
  const email = `quickstart-${randomUUID()}@example.com`;
  const created = await client.POST("/v1/users", { body: { email }, signal: signal() });
  if (created.error || created.response.status !== 201) {
    fail(`create user: HTTP ${created.response.status}`, created.error?.error);
  }
  const user: User = created.data.data;
  console.log(`created   user ${user.id} (${user.email})`);

  // 2. Find-or-create by the same email: the same user, not a new one.
  const found = await client.POST("/v1/users/find-or-create", { body: { email }, signal: signal() });
  if (found.error) fail(`find-or-create: HTTP ${found.response.status}`, found.error.error);
  const { created: wasCreated, user: foundUser } = found.data.data;
  if (found.response.status !== 200 || wasCreated !== false) {
    fail(`find-or-create: expected 200 with created=false, got ${found.response.status} created=${wasCreated}`);
  }
  if (foundUser.id !== user.id) fail(`find-or-create: expected user ${user.id}, got ${foundUser.id}`);
  console.log(`found     user ${foundUser.id} (created: ${wasCreated})`);

  // 3. Poll until the wallet is ready (it is created asynchronously).
  const deadline = Date.now() + WALLET_TIMEOUT_MS;
  for (;;) {
    const got = await client.GET("/v1/users/{id}", {
      params: { path: { id: user.id } },
      signal: signal(),
    });
    if (got.error) fail(`get user: HTTP ${got.response.status}`, got.error.error);
    const wallet = got.data.data.wallets[0];
    if (!wallet) fail("the user has no embedded wallet");
    if (wallet.status === "ready") {
      if (!wallet.address) fail("the wallet is ready but has no address");
      console.log(`wallet    ${wallet.chain_type} ${wallet.address}`);
      return;
    }
    if (wallet.status === "failed") {
      fail(`the ${wallet.chain_type} wallet failed (last error: ${wallet.last_error ?? "none"})`);
    }
    if (Date.now() >= deadline) {
      fail(`the wallet was still ${wallet.status} after ${WALLET_TIMEOUT_MS / 1000} s`);
    }
    await sleep(POLL_INTERVAL_MS);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    const cause = error instanceof Error && error.cause ? ` (${String(error.cause)})` : "";
    const message = error instanceof Failure ? error.message : `${String(error)}${cause}`;
    console.error(`quickstart failed: ${message}`);
    process.exit(1);
  },
);

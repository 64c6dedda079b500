// The API as the console uses it: the generated client (every path and type from
// openapi.yaml), and one way to turn its results into data or a `Failure`.
import {
  createWalletUsersClient,
  type ApiError,
  type WalletUsersClient,
} from "../../clients/typescript/src/index.js";
import { loadSession, type Session } from "./session.js";

export type { components } from "../../clients/typescript/src/index.js";
export type Client = WalletUsersClient;

/** A request the API refused (or that never reached it), in the API's own words. */
export class Failure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { field: string; message: string }[] = [],
    readonly requestId: string | null = null,
  ) {
    super(message);
  }
}

/**
 * Called when the API refuses a key (401), with the key it refused: the console forgets it
 * and asks again, if it is still the key signed in (an answer to a request sent with an
 * earlier key, arriving late, must not sign out the key pasted since).
 */
let onKeyRefused: (failure: Failure, apiKey: string | undefined) => void = () => {};
export function whenKeyRefused(handler: (failure: Failure, apiKey: string | undefined) => void): void {
  onKeyRefused = handler;
}

/**
 * The console revoked its own key: sign out now. Another warm function may still admit the key
 * for the few seconds it caches key records, so the next answer is no proof either way.
 */
export function ownKeyRevoked(): void {
  onKeyRefused(new Failure(401, "revoked", "This console's key was revoked."), loadSession()?.apiKey);
}

/** The key each answer was asked with, so a refusal names the key it refused. */
const keyOf = new WeakMap<Response, string>();

export function clientFor(session: Session): Client {
  const client = createWalletUsersClient(session.baseUrl, session.apiKey);
  client.use({
    onResponse({ response }) {
      keyOf.set(response, session.apiKey);
    },
  });
  return client;
}

interface Outcome<D> {
  data?: D;
  error?: unknown;
  response: Response;
}

function failureOf(response: Response, error: unknown): Failure {
  const body = (error ?? {}) as { error?: Partial<ApiError> };
  const e = body.error;
  const failure = new Failure(
    response.status,
    e?.code ?? "http_error",
    e?.message ?? `${response.status} ${response.statusText}`,
    e?.details ?? [],
    e?.request_id ?? response.headers.get("x-request-id"),
  );
  if (response.status === 401) onKeyRefused(failure, keyOf.get(response));
  return failure;
}

async function settle<D>(pending: Promise<Outcome<D>>): Promise<Outcome<D>> {
  try {
    return await pending;
  } catch (error) {
    throw new Failure(0, "network_error", `The API could not be reached: ${String(error)}`);
  }
}

/** The `data` of a successful envelope; a `Failure` otherwise. */
export async function unwrap<D extends { data: unknown }>(
  pending: Promise<Outcome<D>>,
): Promise<D["data"]> {
  const { data, error, response } = await settle(pending);
  if (!response.ok || data === undefined) throw failureOf(response, error);
  return data.data;
}

/** For routes that answer `204 No Content`. */
export async function done(pending: Promise<Outcome<unknown>>): Promise<void> {
  const { error, response } = await settle(pending);
  if (!response.ok) throw failureOf(response, error);
}

/** A user's `ETag`, for `If-Match`. */
export function etagOf(version: number): string {
  return `"${version}"`;
}

/**
 * `GET /v1/users` declares its whole query as one exploded `form` object (lookup or listing);
 * openapi-fetch's default would send it as `query[limit]=…`.
 */
export const FORM_QUERY = { object: { style: "form", explode: true } } as const;

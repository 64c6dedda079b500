/**
 * A typed client for the Wallet Users API. Every path, parameter, body and response type comes
 * from `src/schema.d.ts`, which `npm run generate` writes from `../../openapi.yaml`.
 */
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, operations, paths, webhooks } from "./schema.js";

/** The client type: `client.GET("/v1/users/{id}", …)`, `client.POST("/v1/webhooks", …)`, … */
export type WalletUsersClient = Client<paths>;

/** Shorthands for the schemas most callers name. */
export type User = components["schemas"]["User"];
export type Wallet = components["schemas"]["Wallet"];
export type ApiError = components["schemas"]["Error"];
export type WebhookEvent = components["schemas"]["Event"];

/**
 * A client for the API at `baseUrl` (for example `http://127.0.0.1:3000`) that sends `apiKey`
 * as `Authorization: Bearer <key>` on every request.
 */
export function createWalletUsersClient(baseUrl: string, apiKey: string): WalletUsersClient {
  if (!apiKey) {
    throw new Error("createWalletUsersClient: an API key is required");
  }
  return createClient<paths>({
    baseUrl: baseUrl.replace(/\/+$/, ""),
    headers: { Authorization: `Bearer ${apiKey}` },
  });
}

import type { components } from "./api.js";

export type User = components["schemas"]["User"];
export type Wallet = components["schemas"]["Wallet"];

/** The chains a wallet can be on. */
export const CHAINS = ["ethereum", "solana"] as const;
export type Chain = (typeof CHAINS)[number];

/** A user's identifiers, in the order people search by them. */
export function identifiersOf(user: User): [string, string][] {
  const named: [string, string | null][] = [
    ["email", user.email],
    ["external id", user.external_id],
    ["username", user.username],
  ];
  return named.filter((pair): pair is [string, string] => pair[1] !== null);
}

export function userHref(id: string): string {
  return `#/users/${encodeURIComponent(id)}`;
}

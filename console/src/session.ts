// The operator's key lives in session storage only: gone when the tab closes, never in a URL
// (the router uses the fragment for pages alone), a cookie or a log.

const KEY = "wallet-users-console.api-key";

export interface Session {
  apiKey: string;
  baseUrl: string;
}

export function loadSession(): Session | null {
  const apiKey = sessionStorage.getItem(KEY);
  if (!apiKey) return null;
  return { apiKey, baseUrl: location.origin };
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(KEY, session.apiKey);
}

export function forgetSession(): void {
  sessionStorage.removeItem(KEY);
}

import { useState } from "preact/hooks";
import { FORM_QUERY, Failure, clientFor, unwrap } from "../api.js";
import type { Session } from "../session.js";
import { FailureNotice, Page, useAction } from "../ui.js";

/** Asks for a key, checks it against the API, and keeps it for this tab only. */
export function Login({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [apiKey, setApiKey] = useState("");
  const action = useAction();
  return (
    <Page title="Sign in with an API key">
      <p>
        Paste an API key of your app (an <code>admin</code> key reaches every page). It is kept
        in this tab's session storage only, and sent to this API, nowhere else.
      </p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          // The API the console came from: its policy lets it talk to no other.
          const session = { apiKey: apiKey.trim(), baseUrl: location.origin };
          void action.run(async () => {
            try {
              await unwrap(clientFor(session).GET("/v1/users", { params: { query: { query: { limit: 1 } } }, querySerializer: FORM_QUERY }));
            } catch (error) {
              // A key without `users:read` is still a key of this API: its pages say what it lacks.
              if (!(error instanceof Failure && error.code === "insufficient_scope")) throw error;
            }
            onSignedIn(session);
          });
        }}
      >
        <label for="api-key">API key</label>
        {/* Text masked by CSS, not a password field: a browser offers to save a password
            field's value in its password manager, and the key must stay in this tab. */}
        <input
          id="api-key"
          type="text"
          class="masked"
          autoComplete="off"
          autoCapitalize="off"
          data-1p-ignore
          data-lpignore="true"
          spellcheck={false}
          required
          value={apiKey}
          onInput={(e) => setApiKey(e.currentTarget.value)}
        />
        <button type="submit" disabled={action.busy}>
          Sign in
        </button>
      </form>
      <FailureNotice failure={action.failure} />
    </Page>
  );
}

import { useState } from "preact/hooks";
import { done, unwrap, type Client, type components } from "../api.js";
import { FailureNotice, focusPage, Loading, Notice, Page, When, useAction, useLoad, usePages, Select } from "../ui.js";

type Kind = components["schemas"]["AccessKind"];
export const KINDS: Kind[] = ["email", "email_domain", "wallet", "phone", "twitter", "external_id"];

/** Whether the app requires the allowlist, and its entries. */
export function Allowlist({ client }: { client: Client }) {
  const settings = useLoad(() => unwrap(client.GET("/v1/app/settings")), [client]);
  const { cursor, pager } = usePages();
  const entries = useLoad(
    () => unwrap(client.GET("/v1/allowlist", { params: { query: { limit: 50, ...(cursor ? { cursor } : {}) } } })),
    [client, cursor],
  );
  const [kind, setKind] = useState<Kind>("email");
  const [value, setValue] = useState("");
  const action = useAction();
  const required = settings.data?.allowlist_required;
  return (
    <Page title="Allowlist">
      <Loading loaded={settings} />
      {settings.data && (
        <p>
          {required ? "Only users matching an entry may be created." : "Anyone may be created: the allowlist is not required."}{" "}
          <button
            type="button"
            disabled={action.busy}
            onClick={() =>
              action.run(async () => {
                await unwrap(client.PATCH("/v1/app/settings", { body: { allowlist_required: !required } }));
                settings.reload();
              })
            }
          >
            {required ? "Stop requiring the allowlist" : "Require the allowlist"}
          </button>
        </p>
      )}
      <form
        class="toolbar"
        onSubmit={(event) => {
          event.preventDefault();
          void action.run(async () => {
            await unwrap(client.POST("/v1/allowlist", { body: { type: kind, value: value.trim() } }));
            setValue("");
            entries.reload();
          });
        }}
      >
        <Select id="allow-kind" label="Type" options={KINDS} value={kind} onChange={setKind} />
        <label for="allow-value">Value</label>
        <input id="allow-value" required value={value} onInput={(e) => setValue(e.currentTarget.value)} />
        <button type="submit" disabled={action.busy}>
          Add entry
        </button>
      </form>
      <FailureNotice failure={action.failure} />
      <Loading loaded={entries} />
      {entries.data && entries.data.entries.length === 0 && <Notice>No entries.</Notice>}
      {entries.data && entries.data.entries.length > 0 && (
        <table>
          <caption>Allowlist entries</caption>
          <thead>
            <tr>
              <th scope="col">Type</th>
              <th scope="col">Value</th>
              <th scope="col">Added</th>
              <th scope="col">First matched</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {entries.data.entries.map((entry) => (
              <tr key={entry.id}>
                <td>{entry.type}</td>
                <td>{entry.value}</td>
                <td>
                  <When at={entry.created_at} />
                </td>
                <td>
                  <When at={entry.accepted_at} />
                </td>
                <td>
                  <button
                    type="button"
                    class="danger"
                    disabled={action.busy}
                    onClick={() =>
                      action.run(async () => {
                        await done(client.DELETE("/v1/allowlist/{id}", { params: { path: { id: entry.id } } }));
                        focusPage();
                        entries.reload();
                      })
                    }
                  >
                    Remove<span class="visually-hidden"> {entry.value}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {entries.data && pager(entries.data.next_cursor)}
    </Page>
  );
}

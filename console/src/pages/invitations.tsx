import { useState } from "preact/hooks";
import { done, unwrap, type Client, type components } from "../api.js";
import { userHref } from "../format.js";
import { FailureNotice, focusPage, Loading, Notice, Page, Status, When, useAction, useLoad, usePages, Select } from "../ui.js";

type Kind = components["schemas"]["AccessKind"];
const INVITABLE: Kind[] = ["email", "wallet", "phone", "twitter", "external_id"];

/** The app's invitations, newest first: invite an identifier, revoke an open invitation. */
export function Invitations({ client }: { client: Client }) {
  const { cursor, pager } = usePages();
  const loaded = useLoad(
    () => unwrap(client.GET("/v1/invitations", { params: { query: { limit: 50, ...(cursor ? { cursor } : {}) } } })),
    [client, cursor],
  );
  const [kind, setKind] = useState<Kind>("email");
  const [value, setValue] = useState("");
  const [campaign, setCampaign] = useState("");
  const action = useAction();
  return (
    <Page title="Invitations">
      <form
        class="toolbar"
        onSubmit={(event) => {
          event.preventDefault();
          void action.run(async () => {
            await unwrap(
              client.POST("/v1/invitations", {
                body: { identifier: { type: kind, value: value.trim() }, campaign: campaign.trim() || null },
              }),
            );
            setValue("");
            loaded.reload();
          });
        }}
      >
        <Select id="invite-kind" label="Type" options={INVITABLE} value={kind} onChange={setKind} />
        <label for="invite-value">Identifier</label>
        <input id="invite-value" required value={value} onInput={(e) => setValue(e.currentTarget.value)} />
        <label for="invite-campaign">Campaign (optional)</label>
        <input id="invite-campaign" value={campaign} onInput={(e) => setCampaign(e.currentTarget.value)} />
        <button type="submit" disabled={action.busy}>
          Invite
        </button>
      </form>
      <FailureNotice failure={action.failure} />
      <Loading loaded={loaded} />
      {loaded.data && loaded.data.invitations.length === 0 && <Notice>No invitations.</Notice>}
      {loaded.data && loaded.data.invitations.length > 0 && (
        <table>
          <caption>Invitations, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Identifier</th>
              <th scope="col">Campaign</th>
              <th scope="col">Invited by</th>
              <th scope="col">Status</th>
              <th scope="col">Invited</th>
              <th scope="col">Accepted by</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {loaded.data.invitations.map((invitation) => (
              <tr key={invitation.id}>
                <td>
                  <span class="muted">{invitation.identifier.type}</span> {invitation.identifier.value}
                </td>
                <td>{invitation.campaign ?? <span class="muted">—</span>}</td>
                <td>
                  {invitation.invited_by ? <a href={userHref(invitation.invited_by)}>{invitation.invited_by}</a> : "the app"}
                </td>
                <td>
                  <Status value={invitation.status} />
                </td>
                <td>
                  <When at={invitation.invited_at} />
                </td>
                <td>{invitation.invitee ? <a href={userHref(invitation.invitee)}>{invitation.invitee}</a> : <span class="muted">—</span>}</td>
                <td>
                  {invitation.status === "open" && (
                    <button
                      type="button"
                      class="danger"
                      disabled={action.busy}
                      onClick={() =>
                        action.run(async () => {
                          await done(client.DELETE("/v1/invitations/{id}", { params: { path: { id: invitation.id } } }));
                          focusPage();
                          loaded.reload();
                        })
                      }
                    >
                      Revoke<span class="visually-hidden"> the invitation of {invitation.identifier.value}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {loaded.data && pager(loaded.data.next_cursor)}
    </Page>
  );
}

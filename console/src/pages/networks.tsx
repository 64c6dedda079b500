import { useState } from "preact/hooks";
import { unwrap, type Client, type components } from "../api.js";
import { FailureNotice, Loading, Page, focusPage, useAction, useLoad } from "../ui.js";

type Network = components["schemas"]["Network"];
type Cluster = NonNullable<Network["cluster"]>;

/** The networks the app operates on: new wallets list an explorer link for each. */
export function Networks({ client }: { client: Client }) {
  const settings = useLoad(() => unwrap(client.GET("/v1/app/settings")), [client]);
  const action = useAction();
  const networks = settings.data?.networks ?? [];
  // `removing`: the row, and the button that removed it, go; the focus goes to the heading.
  const save = (next: Network[], removing = false) =>
    action.run(async () => {
      await unwrap(client.PATCH("/v1/app/settings", { body: { networks: next } }));
      if (removing) focusPage();
      settings.reload();
    });
  return (
    <Page title="App networks">
      <Loading loaded={settings} />
      {settings.data && (
        <table>
          <caption>Networks (a new user gets one wallet per chain type among them)</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Chain</th>
              <th scope="col">Chain id or cluster</th>
              <th scope="col">Explorer</th>
              <th scope="col">RPC</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {networks.map((network, index) => (
              <tr key={`${network.chain_type}-${network.chain_id ?? network.cluster}`}>
                <td>{network.name}</td>
                <td>{network.chain_type}</td>
                <td>{network.chain_id ?? network.cluster}</td>
                <td>
                  <code>{network.explorer_url}</code>
                </td>
                <td>{network.rpc_url ? <code>{network.rpc_url}</code> : <span class="muted">none</span>}</td>
                <td>
                  <button
                    type="button"
                    class="danger"
                    disabled={action.busy || networks.length < 2}
                    onClick={() => save(networks.filter((_, kept) => kept !== index), true)}
                  >
                    Remove<span class="visually-hidden"> {network.name}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <FailureNotice failure={action.failure} />
      {settings.data && <AddNetwork busy={action.busy} onAdd={(network) => save([...networks, network])} />}
    </Page>
  );
}

function AddNetwork({ busy, onAdd }: { busy: boolean; onAdd: (network: Network) => void }) {
  const [chain, setChain] = useState<Network["chain_type"]>("ethereum");
  const [chainId, setChainId] = useState("");
  const [cluster, setCluster] = useState<Cluster>("devnet");
  const [name, setName] = useState("");
  const [explorer, setExplorer] = useState("");
  const [rpc, setRpc] = useState("");
  return (
    <details class="panel">
      <summary>Add a network</summary>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          onAdd({
            chain_type: chain,
            ...(chain === "ethereum" ? { chain_id: Number(chainId) } : { cluster }),
            name: name.trim(),
            explorer_url: explorer.trim(),
            ...(rpc.trim() ? { rpc_url: rpc.trim() } : {}),
          });
        }}
      >
        <label for="network-chain">Chain</label>
        <select id="network-chain" value={chain} onChange={(e) => setChain(e.currentTarget.value as Network["chain_type"])}>
          <option value="ethereum">ethereum</option>
          <option value="solana">solana</option>
        </select>
        {chain === "ethereum" ? (
          <>
            <label for="network-chain-id">Chain id</label>
            <input id="network-chain-id" type="number" min={1} required value={chainId} onInput={(e) => setChainId(e.currentTarget.value)} />
          </>
        ) : (
          <>
            <label for="network-cluster">Cluster</label>
            <select id="network-cluster" value={cluster} onChange={(e) => setCluster(e.currentTarget.value as Cluster)}>
              <option value="mainnet-beta">mainnet-beta</option>
              <option value="devnet">devnet</option>
              <option value="testnet">testnet</option>
            </select>
          </>
        )}
        <label for="network-name">Name</label>
        <input id="network-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <label for="network-explorer">Explorer URL (with {"{address}"})</label>
        <input id="network-explorer" type="url" required value={explorer} onInput={(e) => setExplorer(e.currentTarget.value)} />
        <label for="network-rpc">RPC URL (optional)</label>
        <input id="network-rpc" type="url" value={rpc} onInput={(e) => setRpc(e.currentTarget.value)} />
        <button type="submit" disabled={busy}>
          Add network
        </button>
      </form>
    </details>
  );
}

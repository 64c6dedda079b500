//! Foundry's `anvil`, a real Ethereum node (npm `@foundry-rs/anvil`, installed into
//! tests/clients by scripts/seed-clients.sh): started per test on a free port, killed on drop.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Anvil's chain id.
pub const CHAIN_ID: u64 = 31337;
/// Anvil's first dev account (funded with 10,000 ether, unlocked).
pub const DEV_ACCOUNT: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
/// Its second.
pub const SECOND_ACCOUNT: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

/// A running node.
pub struct Anvil {
    _child: Child,
    pub url: String,
    client: reqwest::Client,
}

impl Anvil {
    /// Starts a node (chain 31337) on a free port and waits until it answers.
    pub async fn start() -> Self {
        let binary = Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/node_modules/.bin/anvil");
        assert!(
            binary.exists(),
            "{} is missing: run scripts/seed-clients.sh (scripts/test.sh does)",
            binary.display()
        );
        let mut child = Command::new(binary)
            .args(["--port", "0", "--chain-id", &CHAIN_ID.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("anvil starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let address = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.expect("anvil's output") {
                if let Some(address) = line.trim().strip_prefix("Listening on ") {
                    return address.to_owned();
                }
            }
            panic!("anvil exited before listening");
        })
        .await
        .expect("anvil listens within a minute");
        // Keep reading its output so that a full pipe never blocks it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            _child: child,
            url: format!("http://{address}"),
            client: shared::tls::reqwest_builder().build().expect("client"),
        }
    }

    /// Calls `method`; panics on a JSON-RPC error.
    pub async fn call(&self, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let answer: Value = self
            .client
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .expect("anvil answers")
            .json()
            .await
            .expect("JSON-RPC");
        assert!(answer.get("error").is_none(), "{method}: {answer}");
        answer["result"].clone()
    }

    /// A quantity `method` returns, as a number.
    pub async fn quantity(&self, method: &str, params: Value) -> u128 {
        let text = self.call(method, params).await;
        u128::from_str_radix(text.as_str().expect("hex").trim_start_matches("0x"), 16)
            .expect("a quantity")
    }

    pub async fn balance(&self, address: &str) -> u128 {
        self.quantity("eth_getBalance", json!([address, "latest"]))
            .await
    }

    pub async fn nonce(&self, address: &str) -> u128 {
        self.quantity("eth_getTransactionCount", json!([address, "latest"]))
            .await
    }

    /// Sends `wei` from the first dev account to `to` and waits for it.
    pub async fn fund(&self, to: &str, wei: u128) {
        let hash = self
            .call(
                "eth_sendTransaction",
                json!([{"from": DEV_ACCOUNT, "to": to, "value": format!("{wei:#x}")}]),
            )
            .await;
        self.receipt(hash.as_str().expect("a hash")).await;
    }

    /// The receipt of `hash`, once mined (anvil mines each transaction at once).
    pub async fn receipt(&self, hash: &str) -> Value {
        for _ in 0..100 {
            let receipt = self.call("eth_getTransactionReceipt", json!([hash])).await;
            if !receipt.is_null() {
                return receipt;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{hash} was not mined");
    }
}

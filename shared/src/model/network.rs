//! The networks an app operates on: EVM networks by chain id and Solana clusters, each with a
//! name and an explorer URL template. New users get one wallet per chain type among them, and
//! a wallet shows, once ready, each network of its chain type with its explorer URL.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ChainType;
use super::validation::{FieldError, check_text, json_type};

/// Where an explorer URL template puts the address.
pub const ADDRESS_PLACEHOLDER: &str = "{address}";
/// The most networks an app declares.
pub const MAX_NETWORKS: usize = 20;
/// The Solana clusters.
pub const SOLANA_CLUSTERS: [&str; 3] = ["mainnet-beta", "devnet", "testnet"];

/// A network an app operates on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    pub chain_type: ChainType,
    /// The EVM chain id (ethereum networks only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<u64>,
    /// The Solana cluster (solana networks only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    pub name: String,
    /// An `https` URL with `{address}` where a wallet's address goes.
    pub explorer_url: String,
    /// The JSON-RPC endpoint sends go through (`eth_sendTransaction`,
    /// `signAndSendTransaction`): `https`, or `http` on loopback for a local node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpc_url: Option<String>,
}

/// A network as a wallet shows it: its explorer URL filled in with the wallet's address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletNetwork {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    pub name: String,
    pub explorer_url: String,
}

/// The networks of an app that declared none: Ethereum mainnet.
pub fn default_networks() -> Vec<Network> {
    vec![Network {
        chain_type: ChainType::Ethereum,
        chain_id: Some(1),
        cluster: None,
        name: "Ethereum".to_owned(),
        explorer_url: "https://etherscan.io/address/{address}".to_owned(),
        rpc_url: None,
    }]
}

/// The networks that apply: those declared, or the default.
pub fn effective(declared: &[Network]) -> Vec<Network> {
    if declared.is_empty() {
        default_networks()
    } else {
        declared.to_vec()
    }
}

/// The chain types of `networks`, each once, in their order: a new user's default wallets.
pub fn chain_types(networks: &[Network]) -> Vec<ChainType> {
    let mut chains = Vec::new();
    for network in networks {
        if !chains.contains(&network.chain_type) {
            chains.push(network.chain_type);
        }
    }
    chains
}

/// Each network of `chain` with its explorer URL for `address`.
pub fn for_wallet(networks: &[Network], chain: ChainType, address: &str) -> Vec<WalletNetwork> {
    networks
        .iter()
        .filter(|network| network.chain_type == chain)
        .map(|network| WalletNetwork {
            chain_id: network.chain_id,
            cluster: network.cluster.clone(),
            name: network.name.clone(),
            explorer_url: network.explorer_url.replace(ADDRESS_PLACEHOLDER, address),
        })
        .collect()
}

/// Parses `networks`: 1 to 20 networks, no chain id or cluster twice.
pub fn parse_networks(value: &Value) -> Result<Vec<Network>, Vec<FieldError>> {
    let Some(items) = value.as_array() else {
        return Err(vec![FieldError::new(
            "networks",
            format!("must be an array, got {}", json_type(value)),
        )]);
    };
    if items.is_empty() || items.len() > MAX_NETWORKS {
        return Err(vec![FieldError::new(
            "networks",
            format!("must hold 1 to {MAX_NETWORKS} networks"),
        )]);
    }
    let mut networks: Vec<Network> = Vec::new();
    let mut errors = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let path = format!("networks[{index}]");
        match parse_network(&path, item) {
            Ok(network) => {
                let repeated = networks.iter().any(|other| {
                    other.chain_type == network.chain_type
                        && other.chain_id == network.chain_id
                        && other.cluster == network.cluster
                });
                if repeated {
                    errors.push(FieldError::new(path, "repeats an earlier network"));
                } else {
                    networks.push(network);
                }
            }
            Err(mut more) => errors.append(&mut more),
        }
    }
    if errors.is_empty() {
        Ok(networks)
    } else {
        Err(errors)
    }
}

fn parse_network(path: &str, value: &Value) -> Result<Network, Vec<FieldError>> {
    let field = |name: &str| format!("{path}.{name}");
    let Some(object) = value.as_object() else {
        return Err(vec![FieldError::new(
            path,
            format!("must be an object, got {}", json_type(value)),
        )]);
    };
    let chain_type = match object.get("chain_type").and_then(Value::as_str) {
        Some("ethereum") => ChainType::Ethereum,
        Some("solana") => ChainType::Solana,
        _ => {
            return Err(vec![FieldError::new(
                field("chain_type"),
                "must be ethereum or solana",
            )]);
        }
    };
    let allowed: &[&str] = match chain_type {
        ChainType::Ethereum => &["chain_type", "chain_id", "name", "explorer_url", "rpc_url"],
        ChainType::Solana => &["chain_type", "cluster", "name", "explorer_url", "rpc_url"],
    };
    let mut errors: Vec<FieldError> = object
        .keys()
        .filter(|key| !allowed.contains(&key.as_str()))
        .map(|key| {
            FieldError::new(
                field(key),
                format!("unknown field; expected {}", allowed.join(", ")),
            )
        })
        .collect();
    let (chain_id, cluster) = match chain_type {
        ChainType::Ethereum => {
            let id = object
                .get("chain_id")
                .and_then(Value::as_u64)
                .filter(|id| *id > 0);
            if id.is_none() {
                errors.push(FieldError::new(
                    field("chain_id"),
                    "must be the network's EVM chain id, a whole number above 0",
                ));
            }
            (id, None)
        }
        ChainType::Solana => {
            let cluster = object
                .get("cluster")
                .and_then(Value::as_str)
                .filter(|c| SOLANA_CLUSTERS.contains(c));
            if cluster.is_none() {
                errors.push(FieldError::new(
                    field("cluster"),
                    format!("must be one of: {}", SOLANA_CLUSTERS.join(", ")),
                ));
            }
            (None, cluster.map(str::to_owned))
        }
    };
    let name = match object.get("name").and_then(Value::as_str) {
        Some(name) => match check_text(&field("name"), name, 1, 64) {
            Ok(()) => name.to_owned(),
            Err(error) => {
                errors.push(error);
                String::new()
            }
        },
        None => {
            errors.push(FieldError::new(
                field("name"),
                "is required: 1 to 64 characters",
            ));
            String::new()
        }
    };
    let explorer_url = object
        .get("explorer_url")
        .and_then(Value::as_str)
        .filter(|url| {
            url.len() <= 512
                && url.starts_with("https://")
                && url.contains(ADDRESS_PLACEHOLDER)
                && url::Url::parse(&url.replace(ADDRESS_PLACEHOLDER, "x")).is_ok()
        });
    if explorer_url.is_none() {
        errors.push(FieldError::new(
            field("explorer_url"),
            "must be an https URL (at most 512 bytes) with {address} where the address goes",
        ));
    }
    let rpc_url = match object.get("rpc_url") {
        None | Some(Value::Null) => None,
        Some(value) => match value.as_str().filter(|url| is_rpc_url(url)) {
            Some(url) => Some(url.to_owned()),
            None => {
                errors.push(FieldError::new(
                    field("rpc_url"),
                    "must be an https URL (at most 512 bytes), or http on loopback for a local node",
                ));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Network {
        chain_type,
        chain_id,
        cluster,
        name,
        explorer_url: explorer_url.unwrap_or_default().to_owned(),
        rpc_url,
    })
}

/// An RPC URL's form: `https`, or `http` to a loopback host (a node on this machine, as
/// `scripts/run-local.sh` runs). Where a URL may lead is checked again when it is used, by
/// the same guard as webhook destinations.
fn is_rpc_url(text: &str) -> bool {
    let Ok(url) = url::Url::parse(text) else {
        return false;
    };
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => return false,
    };
    text.len() <= 512
        && url.username().is_empty()
        && url.password().is_none()
        && (url.scheme() == "https" || (url.scheme() == "http" && loopback))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn networks_parse_and_fill_their_explorer_urls() {
        let networks = parse_networks(&json!([
            {"chain_type": "ethereum", "chain_id": 137, "name": "Polygon", "explorer_url": "https://polygonscan.com/address/{address}"},
            {"chain_type": "ethereum", "chain_id": 8453, "name": "Base", "explorer_url": "https://basescan.org/address/{address}"},
            {"chain_type": "solana", "cluster": "devnet", "name": "Solana devnet", "explorer_url": "https://explorer.solana.com/address/{address}?cluster=devnet"}
        ]))
        .unwrap();
        assert_eq!(
            chain_types(&networks),
            [ChainType::Ethereum, ChainType::Solana]
        );
        let shown = for_wallet(&networks, ChainType::Ethereum, "0xabc");
        assert_eq!(shown.len(), 2);
        assert_eq!(shown[1].explorer_url, "https://basescan.org/address/0xabc");
        assert_eq!(shown[0].chain_id, Some(137));
        assert_eq!(effective(&[]), default_networks());
    }

    #[test]
    fn bad_networks_are_named() {
        let errors = parse_networks(&json!([
            {"chain_type": "ethereum", "name": "x", "explorer_url": "https://x.example/{address}"},
            {"chain_type": "solana", "cluster": "moon", "name": "x", "explorer_url": "http://x.example/{address}"},
            {"chain_type": "ethereum", "chain_id": 1, "name": "", "explorer_url": "https://x.example/a", "rpc": "x"},
        ]))
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "networks[0].chain_id",
                "networks[1].cluster",
                "networks[1].explorer_url",
                "networks[2].rpc",
                "networks[2].name",
                "networks[2].explorer_url"
            ]
        );
        assert!(parse_networks(&json!([])).is_err());
        for bad in [
            "http://rpc.example",
            "ftp://x",
            "https://user:pw@rpc.example",
            "nope",
        ] {
            let network = json!({"chain_type": "ethereum", "chain_id": 1, "name": "a",
                "explorer_url": "https://a.example/{address}", "rpc_url": bad});
            assert!(parse_networks(&json!([network])).is_err(), "{bad}");
        }
        for good in ["https://rpc.example/v1/key", "http://127.0.0.1:8545"] {
            let network = json!({"chain_type": "ethereum", "chain_id": 1, "name": "a",
                "explorer_url": "https://a.example/{address}", "rpc_url": good});
            let parsed = parse_networks(&json!([network])).unwrap();
            assert_eq!(parsed[0].rpc_url.as_deref(), Some(good));
        }
        let twice = json!({"chain_type": "ethereum", "chain_id": 1, "name": "a", "explorer_url": "https://a.example/{address}"});
        assert!(parse_networks(&json!([twice.clone(), twice])).is_err());
    }
}

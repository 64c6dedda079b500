//! A wallet RPC request: `{"method": …, "params": …}` as Privy's server wallets take it, so the
//! Privy dialect maps onto it unchanged. Parsing checks shape and bounds only; whether the app
//! allows the request is the policy's business ([`super::policy`]).

use alloy_primitives::{Address, U256};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value};

use super::ChainType;
use super::validation::{FieldError, json_type};

/// The longest message `personal_sign` or `signMessage` signs (32 KiB, half the request body
/// limit): a login challenge or an order is far shorter.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;
/// The most calldata an ethereum transaction carries (128 KiB, the txpool's own size limit).
pub const MAX_CALLDATA_BYTES: usize = 128 * 1024;
/// The largest serialized Solana transaction (a packet's payload, 1,232 bytes).
pub const MAX_SOLANA_TRANSACTION_BYTES: usize = 1232;
/// The most gas a transaction may ask for: above any mainnet block's gas limit, so a larger
/// value can only be a mistake that would lock funds in fees or never be mined.
pub const MAX_GAS_LIMIT: u64 = 60_000_000;
/// The highest fee per gas a transaction may offer: 100,000 gwei, a thousand times a busy
/// mainnet day. A fee above it is a unit mistake (ether written as wei) that would drain the
/// wallet into fees.
pub const MAX_FEE_PER_GAS: u128 = 100_000_000_000_000;

/// The methods, by chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    PersonalSign,
    SignTypedData,
    SignTransaction,
    SendTransaction,
    SolanaSignMessage,
    SolanaSignTransaction,
    SolanaSignAndSendTransaction,
}

impl Method {
    /// Every method, ethereum's first.
    pub const ALL: [Method; 7] = [
        Self::PersonalSign,
        Self::SignTypedData,
        Self::SignTransaction,
        Self::SendTransaction,
        Self::SolanaSignMessage,
        Self::SolanaSignTransaction,
        Self::SolanaSignAndSendTransaction,
    ];

    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PersonalSign => "personal_sign",
            Self::SignTypedData => "eth_signTypedData_v4",
            Self::SignTransaction => "eth_signTransaction",
            Self::SendTransaction => "eth_sendTransaction",
            Self::SolanaSignMessage => "signMessage",
            Self::SolanaSignTransaction => "signTransaction",
            Self::SolanaSignAndSendTransaction => "signAndSendTransaction",
        }
    }

    /// The chain whose wallets the method signs with.
    pub fn chain(self) -> ChainType {
        match self {
            Self::PersonalSign
            | Self::SignTypedData
            | Self::SignTransaction
            | Self::SendTransaction => ChainType::Ethereum,
            _ => ChainType::Solana,
        }
    }

    /// Whether the method broadcasts what it signed.
    pub fn sends(self) -> bool {
        matches!(
            self,
            Self::SendTransaction | Self::SolanaSignAndSendTransaction
        )
    }

    /// The method of `chain` named `name`.
    pub fn parse(chain: ChainType, name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|method| method.chain() == chain && method.as_str() == name)
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An ethereum transaction's envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionKind {
    /// Type 0 with EIP-155 replay protection: `gas_price`.
    Legacy,
    /// Type 2 (EIP-1559): `max_fee_per_gas` and `max_priority_fee_per_gas`.
    Eip1559,
}

/// An ethereum transaction as asked for; what is absent is filled in before a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EthTransaction {
    pub kind: TransactionKind,
    pub chain_id: u64,
    /// `None` deploys a contract.
    pub to: Option<Address>,
    pub value: U256,
    pub data: Vec<u8>,
    pub nonce: Option<u64>,
    pub gas_limit: Option<u64>,
    pub gas_price: Option<u128>,
    pub max_fee_per_gas: Option<u128>,
    pub max_priority_fee_per_gas: Option<u128>,
}

/// A parsed request.
#[derive(Debug, Clone, PartialEq)]
pub enum RpcRequest {
    PersonalSign {
        message: Vec<u8>,
    },
    SignTypedData {
        typed_data: Value,
    },
    SignTransaction {
        transaction: EthTransaction,
    },
    SendTransaction {
        transaction: EthTransaction,
    },
    SolanaSignMessage {
        message: Vec<u8>,
    },
    SolanaSignTransaction {
        transaction: Vec<u8>,
    },
    /// `cluster`: the one `caip2` names (`solana:<genesis hash>`), else the app's first
    /// Solana network with an `rpc_url`.
    SolanaSignAndSendTransaction {
        transaction: Vec<u8>,
        cluster: Option<String>,
    },
}

impl RpcRequest {
    pub fn method(&self) -> Method {
        match self {
            Self::PersonalSign { .. } => Method::PersonalSign,
            Self::SignTypedData { .. } => Method::SignTypedData,
            Self::SignTransaction { .. } => Method::SignTransaction,
            Self::SendTransaction { .. } => Method::SendTransaction,
            Self::SolanaSignMessage { .. } => Method::SolanaSignMessage,
            Self::SolanaSignTransaction { .. } => Method::SolanaSignTransaction,
            Self::SolanaSignAndSendTransaction { .. } => Method::SolanaSignAndSendTransaction,
        }
    }

    /// The ethereum transaction it signs, if any.
    pub fn transaction(&self) -> Option<&EthTransaction> {
        match self {
            Self::SignTransaction { transaction } | Self::SendTransaction { transaction } => {
                Some(transaction)
            }
            _ => None,
        }
    }
}

/// Parses a request to a wallet on `chain`: `method`, `params`, and for ethereum sends
/// optionally `caip2` (`eip155:<chain id>`, agreeing with the transaction's `chain_id`).
/// Other top-level fields Privy's client sends (`chain_type`, `address`, `wallet_id`) are
/// ignored: the path names the wallet.
pub fn parse_rpc(chain: ChainType, body: &Value) -> Result<RpcRequest, Vec<FieldError>> {
    let one = |field: &str, message: String| vec![FieldError::new(field, message)];
    let Some(object) = body.as_object() else {
        return Err(one(
            "body",
            format!("must be an object, got {}", json_type(body)),
        ));
    };
    let name = match object.get("method") {
        Some(Value::String(name)) => name,
        Some(other) => {
            return Err(one(
                "method",
                format!("must be a string, got {}", json_type(other)),
            ));
        }
        None => return Err(one("method", "is required".into())),
    };
    let Some(method) = Method::parse(chain, name) else {
        let known: Vec<&str> = Method::ALL
            .iter()
            .filter(|method| method.chain() == chain)
            .map(|method| method.as_str())
            .collect();
        return Err(one(
            "method",
            format!("{chain} wallets sign with {}", known.join(", ")),
        ));
    };
    let params = match object.get("params") {
        Some(Value::Object(params)) => params,
        Some(other) => {
            return Err(one(
                "params",
                format!("must be an object, got {}", json_type(other)),
            ));
        }
        None => return Err(one("params", "is required".into())),
    };
    let caip2 = object.get("caip2");
    match method {
        Method::PersonalSign => Ok(RpcRequest::PersonalSign {
            message: message(params, "utf-8")?,
        }),
        Method::SignTypedData => Ok(RpcRequest::SignTypedData {
            typed_data: typed_data(params)?,
        }),
        Method::SignTransaction => Ok(RpcRequest::SignTransaction {
            transaction: transaction(params, caip2)?,
        }),
        Method::SendTransaction => Ok(RpcRequest::SendTransaction {
            transaction: transaction(params, caip2)?,
        }),
        Method::SolanaSignMessage => Ok(RpcRequest::SolanaSignMessage {
            message: message(params, "base64")?,
        }),
        Method::SolanaSignTransaction => Ok(RpcRequest::SolanaSignTransaction {
            transaction: solana_transaction(params)?,
        }),
        Method::SolanaSignAndSendTransaction => Ok(RpcRequest::SolanaSignAndSendTransaction {
            transaction: solana_transaction(params)?,
            cluster: solana_cluster(caip2)?,
        }),
    }
}

/// `params.message` decoded by `params.encoding` (`utf-8`, `hex` or `base64`; `default` when
/// absent).
fn message(params: &Map<String, Value>, default: &str) -> Result<Vec<u8>, Vec<FieldError>> {
    let error = |field: &str, message: String| vec![FieldError::new(field, message)];
    let encoding = match params.get("encoding") {
        None | Some(Value::Null) => default,
        Some(Value::String(encoding)) => encoding.as_str(),
        Some(other) => {
            return Err(error(
                "params.encoding",
                format!("must be a string, got {}", json_type(other)),
            ));
        }
    };
    let text = match params.get("message") {
        Some(Value::String(text)) => text,
        Some(other) => {
            return Err(error(
                "params.message",
                format!("must be a string, got {}", json_type(other)),
            ));
        }
        None => return Err(error("params.message", "is required".into())),
    };
    let bytes = match encoding {
        "utf-8" | "utf8" => text.as_bytes().to_vec(),
        "hex" => hex_bytes(text).map_err(|message| error("params.message", message))?,
        "base64" => BASE64
            .decode(text)
            .map_err(|_| error("params.message", "is not base64".into()))?,
        other => {
            return Err(error(
                "params.encoding",
                format!("must be utf-8, hex or base64, got {other:?}"),
            ));
        }
    };
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(error(
            "params.message",
            format!(
                "is {} bytes; at most {MAX_MESSAGE_BYTES} are signed",
                bytes.len()
            ),
        ));
    }
    Ok(bytes)
}

/// Bytes from hex, with or without `0x`.
fn hex_bytes(text: &str) -> Result<Vec<u8>, String> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    hex::decode(digits).map_err(|_| "is not hex (an even number of hex digits)".to_owned())
}

/// `params.typed_data`: EIP-712 JSON, as an object or a string holding one. Privy's clients
/// write `primary_type`; EIP-712's JSON says `primaryType`: either is taken.
fn typed_data(params: &Map<String, Value>) -> Result<Value, Vec<FieldError>> {
    const FIELD: &str = "params.typed_data";
    let error = |message: String| vec![FieldError::new(FIELD, message)];
    let mut value = match params.get("typed_data") {
        Some(Value::String(text)) => {
            serde_json::from_str(text).map_err(|_| error("is a string but not JSON".into()))?
        }
        Some(value @ Value::Object(_)) => value.clone(),
        Some(other) => {
            return Err(error(format!(
                "must be an object, got {}",
                json_type(other)
            )));
        }
        None => return Err(error("is required".into())),
    };
    if let Some(object) = value.as_object_mut()
        && !object.contains_key("primaryType")
        && let Some(primary) = object.remove("primary_type")
    {
        object.insert("primaryType".into(), primary);
    }
    Ok(value)
}

/// `params.transaction`, in Privy's snake_case (`chain_id`, `gas_limit`, `max_fee_per_gas`,
/// …), quantities as `0x` hex or JSON integers.
fn transaction(
    params: &Map<String, Value>,
    caip2: Option<&Value>,
) -> Result<EthTransaction, Vec<FieldError>> {
    let Some(tx) = params.get("transaction").and_then(Value::as_object) else {
        return Err(vec![FieldError::new(
            "params.transaction",
            "is required: an object",
        )]);
    };
    let mut errors = Vec::new();
    let mut check = |field: &str, result: Result<Option<U256>, String>| match result {
        Ok(value) => value,
        Err(message) => {
            errors.push(FieldError::new(
                format!("params.transaction.{field}"),
                message,
            ));
            None
        }
    };
    let get = |field: &str| tx.get(field).filter(|value| !value.is_null());
    let chain_id = check("chain_id", get("chain_id").map(quantity).transpose());
    let value = check("value", get("value").map(quantity).transpose());
    let nonce = check("nonce", get("nonce").map(quantity).transpose());
    let gas_limit = check("gas_limit", get("gas_limit").map(quantity).transpose());
    let gas_price = check("gas_price", get("gas_price").map(quantity).transpose());
    let max_fee = check(
        "max_fee_per_gas",
        get("max_fee_per_gas").map(quantity).transpose(),
    );
    let priority = check(
        "max_priority_fee_per_gas",
        get("max_priority_fee_per_gas").map(quantity).transpose(),
    );
    let kind = check("type", get("type").map(quantity).transpose());
    let to = match get("to") {
        None => None,
        Some(Value::String(text)) => match text.parse::<Address>() {
            Ok(address) => Some(address),
            Err(_) => {
                errors.push(FieldError::new(
                    "params.transaction.to",
                    "is not an address (0x and 40 hex digits)",
                ));
                None
            }
        },
        Some(other) => {
            errors.push(FieldError::new(
                "params.transaction.to",
                format!("must be a string, got {}", json_type(other)),
            ));
            None
        }
    };
    let data = match get("data") {
        None => Vec::new(),
        Some(Value::String(text)) => match hex_bytes(text) {
            Ok(bytes) if bytes.len() <= MAX_CALLDATA_BYTES => bytes,
            Ok(bytes) => {
                errors.push(FieldError::new(
                    "params.transaction.data",
                    format!("is {} bytes; at most {MAX_CALLDATA_BYTES}", bytes.len()),
                ));
                Vec::new()
            }
            Err(message) => {
                errors.push(FieldError::new("params.transaction.data", message));
                Vec::new()
            }
        },
        Some(other) => {
            errors.push(FieldError::new(
                "params.transaction.data",
                format!("must be a hex string, got {}", json_type(other)),
            ));
            Vec::new()
        }
    };
    // The chain id from `caip2` (Privy's sends carry it) must agree with the transaction's.
    let caip2_chain = match caip2 {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => match text
            .strip_prefix("eip155:")
            .and_then(|id| id.parse::<u64>().ok())
        {
            Some(id) => Some(id),
            None => {
                errors.push(FieldError::new("caip2", "must be eip155:<chain id>"));
                None
            }
        },
        Some(other) => {
            errors.push(FieldError::new(
                "caip2",
                format!("must be a string, got {}", json_type(other)),
            ));
            None
        }
    };
    let narrow = |errors: &mut Vec<FieldError>, field: &str, value: Option<U256>, max: U256| {
        value.and_then(|value| {
            if value > max {
                errors.push(FieldError::new(
                    format!("params.transaction.{field}"),
                    format!("is {value}; at most {max}"),
                ));
                None
            } else {
                Some(value)
            }
        })
    };
    let chain_id = narrow(&mut errors, "chain_id", chain_id, U256::from(u64::MAX >> 1));
    let nonce = narrow(&mut errors, "nonce", nonce, U256::from(u64::MAX - 1));
    let gas_limit = narrow(
        &mut errors,
        "gas_limit",
        gas_limit,
        U256::from(MAX_GAS_LIMIT),
    );
    let fee_cap = U256::from(MAX_FEE_PER_GAS);
    let gas_price = narrow(&mut errors, "gas_price", gas_price, fee_cap);
    let max_fee = narrow(&mut errors, "max_fee_per_gas", max_fee, fee_cap);
    let priority = narrow(&mut errors, "max_priority_fee_per_gas", priority, fee_cap);
    let chain_id = match (chain_id.map(|id| id.to::<u64>()), caip2_chain) {
        (Some(id), Some(other)) if id != other => {
            errors.push(FieldError::new(
                "caip2",
                format!("names chain {other} but the transaction's chain_id is {id}"),
            ));
            None
        }
        (Some(id), _) | (None, Some(id)) => Some(id),
        (None, None) => {
            // A transaction without a chain id can be replayed on every chain (pre-EIP-155).
            errors.push(FieldError::new(
                "params.transaction.chain_id",
                "is required (or caip2): a signature without it is valid on every chain",
            ));
            None
        }
    };
    let to_u128 = |value: Option<U256>| value.map(|value| value.to::<u128>());
    let (gas_price, max_fee, priority) = (to_u128(gas_price), to_u128(max_fee), to_u128(priority));
    let kind = match kind.map(|kind| kind.to::<u64>()) {
        Some(0) => Some(TransactionKind::Legacy),
        Some(2) => Some(TransactionKind::Eip1559),
        Some(other) => {
            errors.push(FieldError::new(
                "params.transaction.type",
                format!("must be 0 (legacy) or 2 (EIP-1559), got {other}"),
            ));
            None
        }
        // A gas price alone asks for a legacy transaction; anything else is EIP-1559.
        None if gas_price.is_some() && max_fee.is_none() && priority.is_none() => {
            Some(TransactionKind::Legacy)
        }
        None => Some(TransactionKind::Eip1559),
    };
    match kind {
        Some(TransactionKind::Legacy) if max_fee.is_some() || priority.is_some() => {
            errors.push(FieldError::new(
                "params.transaction.type",
                "a legacy transaction takes gas_price, not max_fee_per_gas",
            ))
        }
        Some(TransactionKind::Eip1559) if gas_price.is_some() => errors.push(FieldError::new(
            "params.transaction.gas_price",
            "an EIP-1559 transaction takes max_fee_per_gas and max_priority_fee_per_gas",
        )),
        _ => {}
    }
    if let (Some(max_fee), Some(priority)) = (max_fee, priority)
        && priority > max_fee
    {
        errors.push(FieldError::new(
            "params.transaction.max_priority_fee_per_gas",
            "is above max_fee_per_gas",
        ));
    }
    match (kind, chain_id) {
        (Some(kind), Some(chain_id)) if errors.is_empty() => Ok(EthTransaction {
            kind,
            chain_id,
            to,
            value: value.unwrap_or_default(),
            data,
            nonce: nonce.map(|nonce| nonce.to::<u64>()),
            gas_limit: gas_limit.map(|gas| gas.to::<u64>()),
            gas_price,
            max_fee_per_gas: max_fee,
            max_priority_fee_per_gas: priority,
        }),
        _ => Err(errors),
    }
}

/// A quantity: `0x` hex (up to 256 bits) or a non-negative JSON integer.
fn quantity(value: &Value) -> Result<U256, String> {
    match value {
        Value::String(text) => match text.strip_prefix("0x") {
            Some(digits) if !digits.is_empty() && digits.len() <= 64 => {
                U256::from_str_radix(digits, 16).map_err(|_| "is not a hex quantity".to_owned())
            }
            _ => Err("must be 0x-prefixed hex (at most 64 digits) or an integer".to_owned()),
        },
        Value::Number(number) => number
            .as_u64()
            .map(U256::from)
            .ok_or_else(|| "must be a non-negative integer".to_owned()),
        other => Err(format!(
            "must be 0x-prefixed hex or an integer, got {}",
            json_type(other)
        )),
    }
}

/// The genesis hashes of the Solana clusters, as CAIP-2 names them (their first 32
/// characters).
pub const SOLANA_GENESIS: [(&str, &str); 3] = [
    ("5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", "mainnet-beta"),
    ("EtWTRABZaYq6iMfeYKouRu166VU2xqa1", "devnet"),
    ("4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z", "testnet"),
];

/// The cluster `caip2` names: `solana:<genesis hash>` (or the cluster's name after `solana:`).
fn solana_cluster(caip2: Option<&Value>) -> Result<Option<String>, Vec<FieldError>> {
    let Some(text) = caip2.and_then(Value::as_str) else {
        return Ok(None);
    };
    let reference = text.strip_prefix("solana:").unwrap_or_default();
    SOLANA_GENESIS
        .iter()
        .find(|(genesis, cluster)| reference == *genesis || reference == *cluster)
        .map(|(_, cluster)| Some((*cluster).to_owned()))
        .ok_or_else(|| {
            vec![FieldError::new(
                "caip2",
                "must be solana:<genesis hash> of mainnet-beta, devnet or testnet",
            )]
        })
}

/// `params.transaction`: a serialized Solana transaction in base64 (Privy's only encoding).
fn solana_transaction(params: &Map<String, Value>) -> Result<Vec<u8>, Vec<FieldError>> {
    let error = |field: &str, message: &str| vec![FieldError::new(field, message)];
    match params.get("encoding") {
        None | Some(Value::Null) => {}
        Some(Value::String(encoding)) if encoding == "base64" => {}
        Some(_) => return Err(error("params.encoding", "must be base64")),
    }
    let Some(text) = params.get("transaction").and_then(Value::as_str) else {
        return Err(error(
            "params.transaction",
            "is required: a serialized transaction in base64",
        ));
    };
    let bytes = BASE64
        .decode(text)
        .map_err(|_| error("params.transaction", "is not base64"))?;
    if bytes.len() > MAX_SOLANA_TRANSACTION_BYTES {
        return Err(error(
            "params.transaction",
            "is longer than a Solana transaction can be (1,232 bytes)",
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(result: Result<RpcRequest, Vec<FieldError>>) -> Vec<String> {
        result
            .unwrap_err()
            .into_iter()
            .map(|error| error.field)
            .collect()
    }

    #[test]
    fn personal_sign_decodes_utf8_by_default_and_hex_on_request() {
        let request = |params: Value| {
            parse_rpc(
                ChainType::Ethereum,
                &json!({"method": "personal_sign", "params": params}),
            )
        };
        assert_eq!(
            request(json!({"message": "hi"})).unwrap(),
            RpcRequest::PersonalSign {
                message: b"hi".to_vec()
            }
        );
        assert_eq!(
            request(json!({"message": "0x6869", "encoding": "hex"})).unwrap(),
            RpcRequest::PersonalSign {
                message: b"hi".to_vec()
            }
        );
        assert_eq!(
            fields(request(json!({"message": "zz", "encoding": "hex"}))),
            ["params.message"]
        );
        let huge = "a".repeat(MAX_MESSAGE_BYTES + 1);
        assert_eq!(
            fields(request(json!({"message": huge}))),
            ["params.message"]
        );
    }

    #[test]
    fn methods_belong_to_their_chain() {
        let body = json!({"method": "signMessage", "params": {"message": "aGk="}});
        assert_eq!(fields(parse_rpc(ChainType::Ethereum, &body)), ["method"]);
        assert_eq!(
            parse_rpc(ChainType::Solana, &body).unwrap(),
            RpcRequest::SolanaSignMessage {
                message: b"hi".to_vec()
            }
        );
    }

    #[test]
    fn transactions_take_privy_fields_hex_or_integers() {
        let body = json!({"method": "eth_signTransaction", "params": {"transaction": {
            "to": "0x000000000000000000000000000000000000dEaD", "value": "0xde0b6b3a7640000",
            "chain_id": 1, "nonce": 7, "gas_limit": 21000, "max_fee_per_gas": "0x3b9aca00",
            "max_priority_fee_per_gas": 1, "type": 2}}});
        let RpcRequest::SignTransaction { transaction } =
            parse_rpc(ChainType::Ethereum, &body).unwrap()
        else {
            panic!("not a transaction");
        };
        assert_eq!(transaction.kind, TransactionKind::Eip1559);
        assert_eq!(transaction.value, U256::from(10u128.pow(18)));
        assert_eq!(transaction.max_fee_per_gas, Some(1_000_000_000));
        assert_eq!(transaction.nonce, Some(7));
        // A gas price alone is a legacy transaction.
        let legacy = json!({"method": "eth_signTransaction", "params": {"transaction": {
            "to": "0x000000000000000000000000000000000000dEaD", "chain_id": 5, "gas_price": 9}}});
        assert_eq!(
            parse_rpc(ChainType::Ethereum, &legacy)
                .unwrap()
                .transaction()
                .map(|tx| tx.kind),
            Some(TransactionKind::Legacy)
        );
    }

    #[test]
    fn hostile_transactions_are_refused_field_by_field() {
        let tx = |transaction: Value| {
            fields(parse_rpc(
                ChainType::Ethereum,
                &json!({"method": "eth_sendTransaction", "params": {"transaction": transaction}}),
            ))
        };
        assert_eq!(
            tx(json!({"to": "0xdead"})),
            ["params.transaction.to", "params.transaction.chain_id"]
        );
        assert_eq!(
            tx(json!({"chain_id": 1, "gas_limit": "0xffffffffffffffffffff"})),
            ["params.transaction.gas_limit"]
        );
        assert_eq!(
            tx(json!({"chain_id": 1, "max_fee_per_gas": "0xffffffffffffffffffffffff"})),
            ["params.transaction.max_fee_per_gas"]
        );
        assert_eq!(
            tx(json!({"chain_id": 1, "value": -1})),
            ["params.transaction.value"]
        );
        assert_eq!(
            tx(json!({"chain_id": 1, "type": 4})),
            ["params.transaction.type"]
        );
        assert_eq!(
            tx(json!({"chain_id": 1, "type": 0, "max_fee_per_gas": 1})),
            ["params.transaction.type"]
        );
        assert_eq!(
            fields(parse_rpc(
                ChainType::Ethereum,
                &json!({"method": "eth_sendTransaction", "caip2": "eip155:5",
                        "params": {"transaction": {"chain_id": 1}}}),
            )),
            ["caip2"]
        );
    }

    #[test]
    fn typed_data_takes_privys_primary_type() {
        let body = json!({"method": "eth_signTypedData_v4", "params": {"typed_data": {
            "types": {}, "primary_type": "Mail", "domain": {}, "message": {}}}});
        let RpcRequest::SignTypedData { typed_data } =
            parse_rpc(ChainType::Ethereum, &body).unwrap()
        else {
            panic!("not typed data");
        };
        assert_eq!(typed_data["primaryType"], "Mail");
    }

    #[test]
    fn solana_transactions_are_base64_and_packet_sized() {
        let request = |transaction: &str| {
            parse_rpc(
                ChainType::Solana,
                &json!({"method": "signTransaction", "params": {"transaction": transaction}}),
            )
        };
        assert_eq!(fields(request("***")), ["params.transaction"]);
        let big = BASE64.encode(vec![0u8; MAX_SOLANA_TRANSACTION_BYTES + 1]);
        assert_eq!(fields(request(&big)), ["params.transaction"]);
    }
}

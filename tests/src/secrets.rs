//! A scan for secrets where none may be: every item of every table in DynamoDB Local, every
//! record of their streams, and every captured log line. It looks for three things:
//!
//! - API keys: `wusk_` tokens whose checksum is valid ([`shared::edge::auth::key_id_of`]), so a
//!   made-up or truncated key in a test is not one.
//! - Webhook signing secrets: `whsec_` followed by base64 of 16 to 128 bytes.
//! - Client secrets (what Original's and OST's clients sign with): `wucs_` and 64 hex digits.
//! - Wallet private keys. They have no prefix, so they are recognised by what they derive:
//!   every token that could be 32 bytes (64 hex digits with or without `0x`, 43-44 characters
//!   of base64 or base64url, 32-88 of base58, a JSON array of 32 numbers), or a 64-byte ed25519
//!   keypair (the Solana CLI's form, in the same spellings), is taken as a private key; its
//!   ethereum and solana addresses ([`shared::domain::wallets::address_of`]) are compared with every
//!   wallet address the tables hold. A 64-byte value whose second half is the ed25519 public
//!   key of its first is a keypair whatever its address.
//!
//! A finding names where (table, item key and attribute; stream record; log file and line) and
//! what, and shows only the first 8 characters of the secret.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{
    GeneralPurpose, GeneralPurposeConfig, STANDARD_NO_PAD, URL_SAFE_NO_PAD,
};
use futures::StreamExt;
use shared::adapters::DynamoStore;
use shared::domain::wallets::address_of;
use shared::model::ChainType;

/// An item, a stream image: attribute name to value.
pub type Item = HashMap<String, AttributeValue>;

/// What kind of secret was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    ApiKey,
    WebhookSecret,
    ClientSecret,
    EthereumPrivateKey,
    SolanaPrivateKey,
    SolanaKeypair,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ApiKey => "API key",
            Self::WebhookSecret => "webhook secret",
            Self::ClientSecret => "client secret",
            Self::EthereumPrivateKey => "ethereum private key",
            Self::SolanaPrivateKey => "solana private key",
            Self::SolanaKeypair => "solana keypair",
        })
    }
}

/// A secret in a piece of text, shown by its first characters only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hit {
    pub kind: Kind,
    /// The first 8 characters of the token and `…`.
    pub excerpt: String,
    /// For a private key, the wallet address it derives.
    pub address: Option<String>,
}

/// A secret and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Finding {
    pub location: String,
    pub hit: Hit,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} in {}: {}",
            self.hit.kind, self.location, self.hit.excerpt
        )?;
        if let Some(address) = &self.hit.address {
            write!(f, " (wallet {address})")?;
        }
        Ok(())
    }
}

/// The first 8 characters of a secret, never more.
pub fn excerpt(token: &str) -> String {
    let head: String = token.chars().take(8).collect();
    format!("{head}…")
}

/// The wallet addresses a private key is compared with: ethereum in lower case, solana in
/// canonical base58.
#[derive(Debug, Clone, Default)]
pub struct KnownAddresses {
    ethereum: HashSet<String>,
    solana: HashSet<String>,
}

impl KnownAddresses {
    /// Adds `text` if it is an address of either chain; whether it was one.
    pub fn insert(&mut self, text: &str) -> bool {
        if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"))
            && hex.len() == 40
            && hex.bytes().all(|b| b.is_ascii_hexdigit())
        {
            self.ethereum
                .insert(format!("0x{}", hex.to_ascii_lowercase()));
            return true;
        }
        if (32..=44).contains(&text.len())
            && let Ok(bytes) = bs58::decode(text).into_vec()
            && bytes.len() == 32
        {
            self.solana.insert(bs58::encode(bytes).into_string());
            return true;
        }
        false
    }

    /// Adds every address an item holds: any attribute named `address`, at any depth (embedded
    /// wallets, wallet-key items, linked wallets).
    pub fn insert_from_item(&mut self, item: &Item) {
        for (name, value) in item {
            self.insert_from_value(name, value);
        }
    }

    fn insert_from_value(&mut self, name: &str, value: &AttributeValue) {
        match value {
            AttributeValue::S(text) if name == "address" => {
                self.insert(text);
            }
            AttributeValue::M(map) => {
                for (name, value) in map {
                    self.insert_from_value(name, value);
                }
            }
            AttributeValue::L(list) => {
                for value in list {
                    self.insert_from_value(name, value);
                }
            }
            _ => {}
        }
    }

    /// How many addresses are known.
    pub fn len(&self) -> usize {
        self.ethereum.len() + self.solana.len()
    }

    /// Whether no address is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn ethereum_has(&self, address: &str) -> bool {
        self.ethereum.contains(&address.to_ascii_lowercase())
    }

    fn solana_has(&self, address: &str) -> bool {
        self.solana.contains(address)
    }
}

/// The detectors, with the known addresses and a cache of derivations (the same candidate
/// token recurs in many items, records and lines).
pub struct Scanner {
    known: KnownAddresses,
    derived: HashMap<Vec<u8>, Vec<(Kind, String)>>,
}

/// Base64 of either padding, for `whsec_` secrets.
const BASE64_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);
const BASE64URL_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

fn is_base58(b: u8) -> bool {
    b.is_ascii_alphanumeric() && !matches!(b, b'0' | b'O' | b'I' | b'l')
}

/// The maximal runs of bytes in `member`, with their start offsets. Members are ASCII, so
/// every run is a valid `&str`.
fn runs(text: &str, member: impl Fn(u8) -> bool) -> Vec<(usize, &str)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = None;
    for (i, &b) in bytes.iter().enumerate() {
        match (member(b), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

impl Scanner {
    /// A scanner comparing private keys with `known`.
    pub fn new(known: KnownAddresses) -> Self {
        Self {
            known,
            derived: HashMap::new(),
        }
    }

    /// The addresses private keys are compared with.
    pub fn known(&self) -> &KnownAddresses {
        &self.known
    }

    /// Every secret in `text`.
    pub fn scan_text(&mut self, text: &str) -> Vec<Hit> {
        let mut hits = Vec::new();
        api_keys(text, &mut hits);
        webhook_secrets(text, &mut hits);
        client_secrets(text, &mut hits);
        // Private keys: every spelling of 32 or 64 bytes.
        let mut seen: HashSet<&str> = HashSet::new();
        for (_, token) in runs(text, |b| b.is_ascii_alphanumeric()) {
            if !seen.insert(token) {
                continue;
            }
            let hex = token
                .strip_prefix("0x")
                .or_else(|| token.strip_prefix("0X"))
                .unwrap_or(token);
            if matches!(hex.len(), 64 | 128)
                && let Ok(bytes) = hex::decode(hex)
            {
                self.candidate(&bytes, token, &mut hits);
            }
            if (32..=88).contains(&token.len())
                && token.bytes().all(is_base58)
                && let Ok(bytes) = bs58::decode(token).into_vec()
                && matches!(bytes.len(), 32 | 64)
            {
                self.candidate(&bytes, token, &mut hits);
            }
            if matches!(token.len(), 43 | 86)
                && let Ok(bytes) = STANDARD_NO_PAD.decode(token)
            {
                self.candidate(&bytes, token, &mut hits);
            }
        }
        // Base64 with `+` or `/`, and base64url with `-` or `_` (alphanumeric-only tokens are
        // done above); padding is left outside the run.
        for (alphabet, engine) in [(b"+/", &STANDARD_NO_PAD), (b"-_", &URL_SAFE_NO_PAD)] {
            let member = |b: u8| b.is_ascii_alphanumeric() || alphabet.contains(&b);
            for (_, token) in runs(text, member) {
                if matches!(token.len(), 43 | 86)
                    && token.bytes().any(|b| alphabet.contains(&b))
                    && seen.insert(token)
                    && let Ok(bytes) = engine.decode(token)
                {
                    self.candidate(&bytes, token, &mut hits);
                }
            }
        }
        for (bytes, token) in number_arrays(text) {
            self.candidate(&bytes, token, &mut hits);
        }
        dedup(hits)
    }

    /// Every secret in raw bytes: the bytes themselves as a key, and as text.
    pub fn scan_bytes(&mut self, bytes: &[u8]) -> Vec<Hit> {
        let mut hits = Vec::new();
        self.candidate(bytes, &hex::encode(bytes), &mut hits);
        hits.extend(self.scan_text(&String::from_utf8_lossy(bytes)));
        dedup(hits)
    }

    /// Takes `bytes` as a private key (32 bytes) or a keypair (64): a hit for each known
    /// address it derives.
    fn candidate(&mut self, bytes: &[u8], token: &str, hits: &mut Vec<Hit>) {
        if !matches!(bytes.len(), 32 | 64) {
            return;
        }
        let known = &self.known;
        let derived = self
            .derived
            .entry(bytes.to_vec())
            .or_insert_with(|| derive(known, bytes));
        hits.extend(derived.iter().map(|(kind, address)| Hit {
            kind: *kind,
            excerpt: excerpt(token),
            address: Some(address.clone()),
        }));
    }
}

/// What a 32-byte key or a 64-byte keypair derives that is a known address (or a keypair).
fn derive(known: &KnownAddresses, bytes: &[u8]) -> Vec<(Kind, String)> {
    let mut out = Vec::new();
    if bytes.len() == 32 {
        if let Ok(address) = address_of(ChainType::Ethereum, bytes)
            && known.ethereum_has(address.as_str())
        {
            out.push((Kind::EthereumPrivateKey, address.as_str().to_owned()));
        }
        if let Ok(address) = address_of(ChainType::Solana, bytes)
            && known.solana_has(address.as_str())
        {
            out.push((Kind::SolanaPrivateKey, address.as_str().to_owned()));
        }
    } else if let Some((seed, public)) = bytes.split_at_checked(32)
        && let Ok(address) = address_of(ChainType::Solana, seed)
    {
        let consistent = bs58::decode(address.as_str())
            .into_vec()
            .is_ok_and(|key| key == public);
        if consistent {
            out.push((Kind::SolanaKeypair, address.as_str().to_owned()));
        } else if known.solana_has(address.as_str()) {
            out.push((Kind::SolanaPrivateKey, address.as_str().to_owned()));
        }
    }
    out
}

fn dedup(mut hits: Vec<Hit>) -> Vec<Hit> {
    hits.sort();
    hits.dedup();
    hits
}

/// `wusk_` tokens with a valid checksum.
fn api_keys(text: &str, hits: &mut Vec<Hit>) {
    let prefix = shared::edge::auth::KEY_PREFIX;
    for (start, _) in text.match_indices(prefix) {
        let rest = &text.as_bytes()[start..];
        let len = rest
            .iter()
            .take_while(|b| matches!(b, b'0'..=b'9' | b'a'..=b'z' | b'_'))
            .count();
        // The longest key-shaped prefix of the run: a key may run into other text.
        if let Some(end) = (prefix.len()..=len)
            .rev()
            .find(|&end| shared::edge::auth::key_id_of(&text[start..start + end]).is_some())
        {
            hits.push(Hit {
                kind: Kind::ApiKey,
                excerpt: excerpt(&text[start..start + end]),
                address: None,
            });
        }
    }
}

/// `wucs_` and 64 hex digits: a client secret ([`shared::model::api_key::ClientSecret`]).
fn client_secrets(text: &str, hits: &mut Vec<Hit>) {
    let prefix = shared::model::api_key::CLIENT_SECRET_PREFIX;
    for (start, _) in text.match_indices(prefix) {
        let end = start + prefix.len() + 64;
        if let Some(candidate) = text.get(start..end)
            && shared::model::api_key::ClientSecret::from_opened(candidate.as_bytes()).is_some()
        {
            hits.push(Hit {
                kind: Kind::ClientSecret,
                excerpt: excerpt(candidate),
                address: None,
            });
        }
    }
}

/// `whsec_` and base64 (or base64url) of 16 to 128 bytes.
fn webhook_secrets(text: &str, hits: &mut Vec<Hit>) {
    let prefix = shared::domain::webhooks::signature::SECRET_PREFIX;
    for (start, _) in text.match_indices(prefix) {
        let body_start = start + prefix.len();
        let body = &text.as_bytes()[body_start..];
        let len = body
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_'))
            .count();
        let padding = body[len..].iter().take_while(|&&b| b == b'=').count();
        let encoded = &text[body_start..body_start + len + padding];
        let engine = if encoded.contains(['-', '_']) {
            &BASE64URL_ANY_PADDING
        } else {
            &BASE64_ANY_PADDING
        };
        if (22..=172).contains(&len)
            && engine
                .decode(encoded)
                .is_ok_and(|key| (16..=128).contains(&key.len()))
        {
            hits.push(Hit {
                kind: Kind::WebhookSecret,
                excerpt: excerpt(&text[start..]),
                address: None,
            });
        }
    }
}

/// JSON arrays of 32 or 64 numbers from 0 to 255 (how the Solana CLI writes a keypair), with
/// the array's text.
fn number_arrays(text: &str) -> Vec<(Vec<u8>, &str)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    for (start, _) in text.match_indices('[') {
        let mut i = start + 1;
        let mut values = Vec::new();
        let skip_space = |i: &mut usize| {
            while bytes.get(*i).is_some_and(|b| b.is_ascii_whitespace()) {
                *i += 1;
            }
        };
        let closed = loop {
            skip_space(&mut i);
            let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
            if digits == 0 || digits > 3 || values.len() == 64 {
                break false;
            }
            let Ok(value) = text[i..i + digits].parse::<u8>() else {
                break false;
            };
            values.push(value);
            i += digits;
            skip_space(&mut i);
            match bytes.get(i) {
                Some(b',') => i += 1,
                Some(b']') => break true,
                _ => break false,
            }
        };
        if closed && matches!(values.len(), 32 | 64) {
            out.push((values, &text[start..=i]));
        }
    }
    out
}

/// The bytes a list attribute of 32 or 64 numbers from 0 to 255 spells.
fn number_list(list: &[AttributeValue]) -> Option<Vec<u8>> {
    if !matches!(list.len(), 32 | 64) {
        return None;
    }
    list.iter()
        .map(|value| value.as_n().ok()?.parse::<u8>().ok())
        .collect()
}

/// Every secret in an item (or a stream image), with the attribute path it is at.
pub fn scan_item(scanner: &mut Scanner, item: &Item) -> Vec<(String, Hit)> {
    let mut out = Vec::new();
    let sorted: BTreeMap<&String, &AttributeValue> = item.iter().collect();
    for (name, value) in sorted {
        scan_value(scanner, value, name, &mut out);
    }
    out
}

fn scan_value(
    scanner: &mut Scanner,
    value: &AttributeValue,
    path: &str,
    out: &mut Vec<(String, Hit)>,
) {
    let mut push = |hits: Vec<Hit>| out.extend(hits.into_iter().map(|h| (path.to_owned(), h)));
    match value {
        AttributeValue::S(text) => push(scanner.scan_text(text)),
        AttributeValue::B(blob) => push(scanner.scan_bytes(blob.as_ref())),
        AttributeValue::Ss(texts) => {
            for text in texts {
                push(scanner.scan_text(text));
            }
        }
        AttributeValue::Bs(blobs) => {
            for blob in blobs {
                push(scanner.scan_bytes(blob.as_ref()));
            }
        }
        AttributeValue::M(map) => {
            let sorted: BTreeMap<&String, &AttributeValue> = map.iter().collect();
            for (name, value) in sorted {
                scan_value(scanner, value, &format!("{path}.{name}"), out);
            }
        }
        AttributeValue::L(list) => {
            if let Some(bytes) = number_list(list) {
                let mut hits = Vec::new();
                scanner.candidate(&bytes, &format!("{bytes:?}"), &mut hits);
                out.extend(hits.into_iter().map(|h| (path.to_owned(), h)));
            }
            for (index, value) in list.iter().enumerate() {
                scan_value(scanner, value, &format!("{path}[{index}]"), out);
            }
        }
        _ => {}
    }
}

/// An item's key, to name it in a finding: `pk=…, sk=…` (each shortened to 80 characters; a
/// key attribute holding a secret is a finding of its own, shown by its excerpt).
pub fn item_key(item: &Item) -> String {
    let show = |name: &str| {
        let value = match item.get(name) {
            Some(AttributeValue::S(s)) => s.clone(),
            Some(other) => format!("{other:?}"),
            None => "-".to_owned(),
        };
        if value.chars().count() > 80 {
            format!("{}…", value.chars().take(80).collect::<String>())
        } else {
            value
        }
    };
    format!("pk={}, sk={}", show("pk"), show("sk"))
}

/// What a scan read and found.
#[derive(Debug, Default)]
pub struct Report {
    pub tables: usize,
    /// Tables without a stream (their changes could not be read).
    pub tables_without_stream: usize,
    pub items: usize,
    pub stream_records: usize,
    pub log_files: usize,
    pub log_lines: usize,
    pub known_addresses: usize,
    pub findings: Vec<Finding>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} tables ({} without a stream), {} items, {} stream records, {} log lines in {} \
             files, {} wallet addresses known: {} findings",
            self.tables,
            self.tables_without_stream,
            self.items,
            self.stream_records,
            self.log_lines,
            self.log_files,
            self.known_addresses,
            self.findings.len()
        )
    }
}

/// A table's items and stream records, as read.
struct TableContents {
    name: String,
    items: Vec<Item>,
    has_stream: bool,
    /// Each record's event id and its images (keys, new, old).
    records: Vec<(String, Vec<(&'static str, Item)>)>,
}

/// Every table name at `client`'s endpoint.
pub async fn list_tables(client: &aws_sdk_dynamodb::Client) -> Result<Vec<String>, String> {
    client
        .list_tables()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| {
            format!(
                "ListTables: {}",
                aws_sdk_dynamodb::error::DisplayErrorContext(&e)
            )
        })
}

/// Every item of a table, read consistently.
pub async fn scan_table(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<Vec<Item>, String> {
    client
        .scan()
        .table_name(table)
        .consistent_read(true)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| {
            format!(
                "Scan {table}: {}",
                aws_sdk_dynamodb::error::DisplayErrorContext(&e)
            )
        })
}

async fn read_table(
    client: &aws_sdk_dynamodb::Client,
    endpoint: &str,
    name: String,
) -> Result<TableContents, String> {
    let items = scan_table(client, &name).await?;
    let described = client
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .map_err(|e| {
            format!(
                "DescribeTable {name}: {}",
                aws_sdk_dynamodb::error::DisplayErrorContext(&e)
            )
        })?;
    let has_stream = described
        .table()
        .and_then(|t| t.latest_stream_arn())
        .is_some();
    let mut records = Vec::new();
    if has_stream {
        // The local stand-in for the event source mapping reads the stream from its start
        // (TRIM_HORIZON), shard by shard, until a pass finds no more records.
        let store = DynamoStore::new(client.clone(), name.clone());
        let mut reader = local_api::stream::StreamReader::new(&store, endpoint)
            .await
            .map_err(|e| format!("{name}: {e}"))?;
        while let Some(batch) = reader
            .next_batch()
            .await
            .map_err(|e| format!("{name}: {e}"))?
        {
            for record in batch.records {
                let mut images = Vec::new();
                for (label, image) in [
                    ("Keys", record.change.keys),
                    ("NewImage", record.change.new_image),
                    ("OldImage", record.change.old_image),
                ] {
                    images.push((label, Item::from(image)));
                }
                let id = format!(
                    "{} (sequence {})",
                    record.event_id,
                    record.change.sequence_number.unwrap_or_default()
                );
                records.push((id, images));
            }
        }
    }
    Ok(TableContents {
        name,
        items,
        has_stream,
        records,
    })
}

/// Scans the tables at `endpoint` (all of them, or only `tables`) with their streams, and the
/// log files in `log_dir`.
pub async fn scan(
    endpoint: &str,
    tables: Option<&[String]>,
    log_dir: Option<&Path>,
) -> Result<Report, String> {
    let client = shared::config::dynamodb_client(Some(endpoint)).await;
    let names = match tables {
        Some(tables) => tables.to_vec(),
        None => list_tables(&client).await?,
    };
    // Tables are read a few at a time: DynamoDB Local is one JVM.
    let contents: Vec<Result<TableContents, String>> = futures::stream::iter(names)
        .map(|name| read_table(&client, endpoint, name))
        .buffer_unordered(8)
        .collect()
        .await;
    let mut contents = contents.into_iter().collect::<Result<Vec<_>, _>>()?;
    contents.sort_by(|a, b| a.name.cmp(&b.name));

    // The wallets that exist, or existed: addresses in items and in stream images (a deleted
    // user's wallets are still in its records).
    let mut known = KnownAddresses::default();
    for table in &contents {
        for item in &table.items {
            known.insert_from_item(item);
        }
        for (_, images) in &table.records {
            for (_, image) in images {
                known.insert_from_item(image);
            }
        }
    }
    let mut report = Report {
        known_addresses: known.len(),
        ..Report::default()
    };
    let mut scanner = Scanner::new(known);
    let mut findings = Vec::new();
    for table in &contents {
        report.tables += 1;
        report.tables_without_stream += usize::from(!table.has_stream);
        for item in &table.items {
            report.items += 1;
            for (path, hit) in scan_item(&mut scanner, item) {
                findings.push(Finding {
                    location: format!(
                        "table {} item ({}) attribute {path}",
                        table.name,
                        item_key(item)
                    ),
                    hit,
                });
            }
        }
        for (id, images) in &table.records {
            report.stream_records += 1;
            for (label, image) in images {
                for (path, hit) in scan_item(&mut scanner, image) {
                    findings.push(Finding {
                        location: format!("table {} stream record {id} {label}.{path}", table.name),
                        hit,
                    });
                }
            }
        }
    }
    if let Some(dir) = log_dir {
        let (files, lines) = scan_logs(&mut scanner, dir, &mut findings)?;
        report.log_files = files;
        report.log_lines = lines;
    }
    findings.sort();
    findings.dedup();
    report.findings = findings;
    Ok(report)
}

/// Scans every line of every file in `dir`; the files and non-empty lines read.
pub fn scan_logs(
    scanner: &mut Scanner,
    dir: &Path,
    findings: &mut Vec<Finding>,
) -> Result<(usize, usize), String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("reading {}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file())
        .collect();
    paths.sort();
    let mut lines = 0;
    for path in &paths {
        let bytes = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        let text = String::from_utf8_lossy(&bytes);
        for (number, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            lines += 1;
            for hit in scanner.scan_text(line) {
                findings.push(Finding {
                    location: format!("{}:{}", path.display(), number + 1),
                    hit,
                });
            }
        }
    }
    Ok((paths.len(), lines))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::model::AppId;

    fn scanner_knowing(addresses: &[&str]) -> Scanner {
        let mut known = KnownAddresses::default();
        for address in addresses {
            assert!(known.insert(address), "{address}");
        }
        Scanner::new(known)
    }

    fn kinds(hits: &[Hit]) -> Vec<Kind> {
        hits.iter().map(|h| h.kind).collect()
    }

    /// A generated key of `chain`: its bytes and address.
    fn key(chain: ChainType) -> (Vec<u8>, String) {
        let key = shared::domain::wallets::generate(chain).unwrap();
        (key.private_key.to_vec(), key.address.as_str().to_owned())
    }

    #[test]
    fn api_keys_need_a_valid_checksum() {
        let token = shared::model::api_key::issue_key(
            &AppId::generate(),
            &shared::model::Scope::ALL,
            "2026-01-01T00:00:00.000Z",
        )
        .unwrap()
        .token;
        let mut scanner = Scanner::new(KnownAddresses::default());
        for text in [
            format!("Bearer {token}"),
            format!("{{\"key\":\"{token}\"}}"),
            format!("x{token}abc"),
        ] {
            let hits = scanner.scan_text(&text);
            assert_eq!(kinds(&hits), [Kind::ApiKey], "{text}");
            assert_eq!(hits[0].excerpt, format!("{}…", &token[..8]));
        }
        // One character changed: the checksum no longer holds.
        let mut altered = token.clone().into_bytes();
        altered[30] = if altered[30] == b'a' { b'b' } else { b'a' };
        let altered = String::from_utf8(altered).unwrap();
        assert!(scanner.scan_text(&altered).is_empty());
        assert!(scanner.scan_text(&token[..token.len() - 1]).is_empty());
        assert!(scanner.scan_text("wusk_ wusk_0000_").is_empty());
    }

    #[test]
    fn client_secrets_are_found_whole_only() {
        let secret = shared::model::api_key::ClientSecret::generate().unwrap();
        let mut scanner = Scanner::new(KnownAddresses::default());
        let hits = scanner.scan_text(&format!("{{\"api_secret\":\"{}\"}}", secret.reveal()));
        assert_eq!(kinds(&hits), [Kind::ClientSecret]);
        assert!(scanner.scan_text(&secret.reveal()[..60]).is_empty());
    }

    #[test]
    fn webhook_secrets_of_plausible_length() {
        let secret = shared::domain::webhooks::signature::SigningSecret::generate().unwrap();
        let text = secret.reveal();
        let mut scanner = Scanner::new(KnownAddresses::default());
        let hits = scanner.scan_text(&format!("secret={}, next", text.as_str()));
        assert_eq!(kinds(&hits), [Kind::WebhookSecret]);
        assert!(!hits[0].excerpt.contains(&text[8..]));
        // The Standard Webhooks documentation's example (24 bytes).
        assert_eq!(
            kinds(&scanner.scan_text("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")),
            [Kind::WebhookSecret]
        );
        for text in [
            "the secret is not `whsec_` followed by base64",
            "whsec_short",
            "whsec_",
        ] {
            assert!(scanner.scan_text(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn ethereum_keys_in_every_spelling_are_found_by_their_address() {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        let (key, address) = key(ChainType::Ethereum);
        let mut scanner = scanner_knowing(&[&address.to_ascii_uppercase().replace("0X", "0x")]);
        let hex = hex::encode(&key);
        for spelling in [
            hex.clone(),
            format!("0x{hex}"),
            hex.to_uppercase(),
            STANDARD.encode(&key),
            URL_SAFE_NO_PAD.encode(&key),
            bs58::encode(&key).into_string(),
            serde_json::to_string(&key).unwrap(),
            format!("{key:?}"),
        ] {
            let hits = scanner.scan_text(&format!("{{\"msg\":\"k={spelling}\"}}"));
            assert_eq!(kinds(&hits), [Kind::EthereumPrivateKey], "{spelling}");
            assert_eq!(hits[0].address.as_deref(), Some(address.as_str()));
            assert_eq!(hits[0].excerpt, excerpt(&spelling), "{spelling}");
        }
        assert_eq!(kinds(&scanner.scan_bytes(&key)), [Kind::EthereumPrivateKey]);
        // Another key, or this one's address, is nothing.
        let (other, _) = super::tests::key(ChainType::Ethereum);
        assert!(scanner.scan_text(&hex::encode(other)).is_empty());
        assert!(scanner.scan_text(&address).is_empty());
    }

    #[test]
    fn solana_seeds_and_keypairs_are_found() {
        use base64::engine::general_purpose::STANDARD;
        let (seed, address) = key(ChainType::Solana);
        let public = bs58::decode(&address).into_vec().unwrap();
        let keypair: Vec<u8> = seed.iter().chain(&public).copied().collect();
        let mut scanner = scanner_knowing(&[&address]);
        for spelling in [
            bs58::encode(&seed).into_string(),
            hex::encode(&seed),
            STANDARD.encode(&seed),
            serde_json::to_string(&seed).unwrap(),
        ] {
            let hits = scanner.scan_text(&spelling);
            assert_eq!(kinds(&hits), [Kind::SolanaPrivateKey], "{spelling}");
            assert_eq!(hits[0].address.as_deref(), Some(address.as_str()));
        }
        for spelling in [
            bs58::encode(&keypair).into_string(),
            hex::encode(&keypair),
            STANDARD.encode(&keypair),
            // The Solana CLI's keypair file.
            serde_json::to_string(&keypair).unwrap(),
        ] {
            let hits = scanner.scan_text(&format!("loaded {spelling} ok"));
            assert_eq!(kinds(&hits), [Kind::SolanaKeypair], "{spelling}");
        }
        // A keypair is one whatever its address.
        let (other_seed, other_address) = key(ChainType::Solana);
        let other: Vec<u8> = other_seed
            .iter()
            .chain(&bs58::decode(&other_address).into_vec().unwrap())
            .copied()
            .collect();
        let mut blind = Scanner::new(KnownAddresses::default());
        assert_eq!(
            kinds(&blind.scan_text(&bs58::encode(&other).into_string())),
            [Kind::SolanaKeypair]
        );
        // A seed of an unknown wallet, the address itself, random 64 bytes: nothing.
        assert!(
            blind
                .scan_text(&bs58::encode(&seed).into_string())
                .is_empty()
        );
        assert!(scanner.scan_text(&address).is_empty());
        assert!(scanner.scan_text(&hex::encode([7u8; 64])).is_empty());
    }

    #[test]
    fn items_are_scanned_attribute_by_attribute() {
        let (key, address) = key(ChainType::Ethereum);
        let item: Item = HashMap::from([
            ("pk".to_owned(), AttributeValue::S("USER#1".into())),
            (
                "wallets".to_owned(),
                AttributeValue::L(vec![AttributeValue::M(HashMap::from([(
                    "address".to_owned(),
                    AttributeValue::S(address.clone()),
                )]))]),
            ),
            (
                "debug".to_owned(),
                AttributeValue::M(HashMap::from([
                    ("raw".to_owned(), AttributeValue::B(key.clone().into())),
                    (
                        "list".to_owned(),
                        AttributeValue::L(
                            key.iter()
                                .map(|b| AttributeValue::N(b.to_string()))
                                .collect(),
                        ),
                    ),
                ])),
            ),
        ]);
        let mut known = KnownAddresses::default();
        known.insert_from_item(&item);
        assert_eq!(known.len(), 1);
        let mut scanner = Scanner::new(known);
        let paths: Vec<String> = scan_item(&mut scanner, &item)
            .into_iter()
            .map(|(path, hit)| {
                assert_eq!(hit.kind, Kind::EthereumPrivateKey);
                path
            })
            .collect();
        assert_eq!(paths, ["debug.list", "debug.raw"]);
    }

    #[test]
    fn ordinary_text_is_clean() {
        let (_, eth) = key(ChainType::Ethereum);
        let (_, sol) = key(ChainType::Solana);
        let mut scanner = scanner_knowing(&[&eth, &sol]);
        let text = format!(
            "{{\"level\":\"INFO\",\"fields\":{{\"message\":\"wallet created\",\"address\":\"{eth}\",\
             \"solana\":\"{sol}\",\"hash\":\"{}\",\"id\":\"{}\",\"list\":[1,2,3]}}}}",
            hex::encode([0x5au8; 32]),
            uuid::Uuid::new_v4()
        );
        assert!(scanner.scan_text(&text).is_empty());
    }
}

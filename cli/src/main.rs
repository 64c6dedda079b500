//! `wallet-users-admin`: creates the table, apps and API keys; lists and revokes keys.
//! Every command prints JSON on stdout, so scripts can read it.

mod break_glass;
mod export;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::json;
use shared::adapters::DynamoStore;
use shared::adapters::sealer::{KmsSealer, LOCAL_KEK_VAR, LocalSealer, Sealer};
use shared::domain::access::settings;
use shared::domain::apps;
use shared::model::AppId;
use shared::ports::sealer::KeyPurpose;

#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// The DynamoDB table (default: the local stack's, when `scripts/run-local.sh` runs).
    #[arg(long, env = "TABLE_NAME")]
    table: Option<String>,
    /// A DynamoDB endpoint such as DynamoDB Local's (default: AWS, from the usual credentials).
    #[arg(long, env = "DYNAMODB_ENDPOINT")]
    endpoint: Option<String>,
    /// The KMS key that seals API keys' client secrets (the stack's ClientSecretKeyArn output); needed
    /// by create-app and create-key outside the local stack.
    #[arg(long, env = "KMS_KEY_ID")]
    kms_key_id: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Creates the table (with its stream) if it does not exist. For local use: in AWS the
    /// SAM template owns the table.
    CreateTable,
    /// Creates an app and its first API key: prints {"app_id", "api_key", "key_id", "clients"}
    /// (`clients`: what each dialect's client is configured with). Shown only this once.
    CreateApp {
        #[arg(long, default_value = "my app")]
        name: String,
    },
    /// Issues another API key for an app (for rotation, or a narrower key for one backend):
    /// prints as create-app does, with the key's scopes.
    CreateKey {
        #[arg(long)]
        app_id: String,
        /// What the key may do, comma-separated: users:read, users:write, wallets:sign,
        /// webhooks, admin. Every scope unless given.
        #[arg(
            long,
            default_value = "users:read,users:write,wallets:sign,webhooks,admin"
        )]
        scopes: String,
    },
    /// Lists an app's keys: ids, scopes, creation, last use (to the hour) and revocation,
    /// never the keys.
    ListKeys {
        #[arg(long)]
        app_id: String,
    },
    /// Exports every user of an app, as the API shows them (never key material), into JSON
    /// Lines files under `--out` (`<out>/<app>/<export id>/part-*.jsonl`, readable by you
    /// alone), reporting each part on stderr; prints the export's id, count and files. The
    /// job is recorded in the table: `--resume <export id>` finishes one that was stopped.
    ExportUsers {
        #[arg(long)]
        app_id: String,
        #[arg(long)]
        out: std::path::PathBuf,
        #[arg(long)]
        resume: Option<String>,
    },
    /// Restores a deleted user within its retention period (DELETED_USER_RETENTION_DAYS,
    /// default 30): the user, its identifiers and its wallet keys come back. Fails, changing
    /// nothing, if another user took one of its identifiers meanwhile.
    RestoreUser {
        #[arg(long)]
        app_id: String,
        #[arg(long)]
        user_id: String,
    },
    /// Prints an app's settings: whether it requires the allowlist, and its networks.
    GetSettings {
        #[arg(long)]
        app_id: String,
    },
    /// Replaces an app's networks with the JSON array given (as `PATCH /v1/app/settings`
    /// takes it), e.g. `[{"chain_type":"ethereum","chain_id":137,"name":"Polygon",
    /// "explorer_url":"https://polygonscan.com/address/{address}"}]`.
    SetNetworks {
        #[arg(long)]
        app_id: String,
        #[arg(long)]
        networks: String,
    },
    /// Counts every accepted invitation not yet counted on its inviter (a count that neither
    /// the request nor the event publisher could make): prints how many it counted.
    SettleCounts {
        #[arg(long)]
        app_id: String,
    },
    /// Revokes one of an app's keys.
    RevokeKey {
        #[arg(long)]
        app_id: String,
        #[arg(long)]
        key_id: String,
    },
    /// Moves what stacks from before kept in reach of every function (sealed wallet keys beside
    /// their user, client secrets inside their key's record) to partitions only the functions
    /// that need them may read; keys past their retention are deleted. Prints how many moved.
    /// Run once after upgrading; safe to run again, and while the API serves.
    MigrateSecrets,
    /// Writes the username index entries of every user (its own username and its linked
    /// accounts'), each checked against the user's version: prints how many users it indexed.
    /// Run once after upgrading to a version that lists users by username; safe to run again,
    /// and while the API serves.
    ReindexHandles,
    /// Exports wallet private keys, encrypted to an age recipient (`age-keygen` makes one),
    /// into a new file: one user's with --user-id, else every user's. For an emergency only:
    /// each key is recorded (and sent to the app's webhooks as `user.wallet_key_exported`)
    /// before it is opened. In AWS it needs the stack's break-glass role (BreakGlassRoleArn)
    /// and --wallet-kms-key-id (the WalletKeyArn output). Prints how many keys.
    BreakGlassExport {
        #[arg(long)]
        app_id: String,
        #[arg(long)]
        user_id: Option<String>,
        /// The age X25519 recipient (`age1…`) the file is encrypted to.
        #[arg(long)]
        recipient: String,
        /// Why (a ticket, an incident): recorded with every key.
        #[arg(long)]
        reason: String,
        /// The file to write; it must not exist.
        #[arg(long)]
        out: std::path::PathBuf,
        /// The KMS key that seals wallet keys (the stack's WalletKeyArn output); without it,
        /// the local stack's dev key-encryption key.
        #[arg(long, env = "WALLET_KMS_KEY_ID")]
        wallet_kms_key_id: Option<String>,
    },
    /// Revokes every live key of an app at once (a leak whose key is unknown): prints the ids
    /// revoked. Issue a new key first with create-key, or the app is locked out until you do.
    RevokeAllKeys {
        #[arg(long)]
        app_id: String,
    },
}

/// The file `local-api --demo-app` writes: the local stack's table and endpoint.
const LOCAL_STACK_FILE: &str = ".local/local-stack.env";
/// The local stack's dev key-encryption key (`scripts/run-local.sh` makes it).
const LOCAL_KEK_FILE: &str = ".local/dev-kek";

/// The table and endpoint to use: those given, or with neither given, the local stack's.
fn target(table: Option<String>, endpoint: Option<String>) -> Option<(String, Option<String>)> {
    if let Some(table) = table {
        return Some((table, endpoint));
    }
    if endpoint.is_some() {
        return None;
    }
    let text = std::fs::read_to_string(LOCAL_STACK_FILE).ok()?;
    let value = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix('='))
            .map(str::to_owned)
    };
    eprintln!("using the local stack ({LOCAL_STACK_FILE})");
    Some((value("TABLE_NAME")?, Some(value("DYNAMODB_ENDPOINT")?)))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let Some((table, endpoint)) = target(cli.table, cli.endpoint) else {
        eprintln!(
            "error: no table: give --table or TABLE_NAME (the stack's TableName output), or run \
             scripts/run-local.sh to use the local stack"
        );
        return ExitCode::FAILURE;
    };
    let config = shared::config::sdk_config(endpoint.as_deref()).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), table);
    let keys = KeyService {
        config,
        kms_key_id: cli.kms_key_id,
    };
    match run(&store, &keys, cli.command).await {
        Ok(output) => {
            println!("{output:#}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Where the key service that seals client secrets comes from: KMS when a key is given, else
/// the local stack's dev key-encryption key.
struct KeyService {
    config: aws_config::SdkConfig,
    kms_key_id: Option<String>,
}

impl KeyService {
    fn sealer(&self) -> Result<Sealer, String> {
        self.sealer_for(KeyPurpose::ClientSecrets, self.kms_key_id.as_deref())
    }

    /// The sealer of `purpose`: KMS with `kms_key_id`, else the local stack's dev key.
    fn sealer_for(&self, purpose: KeyPurpose, kms_key_id: Option<&str>) -> Result<Sealer, String> {
        if let Some(key_id) = kms_key_id {
            return Ok(Sealer::Kms(KmsSealer::new(
                aws_sdk_kms::Client::new(&self.config),
                key_id.to_owned(),
                purpose,
            )));
        }
        let kek = std::env::var(LOCAL_KEK_VAR)
            .or_else(|_| std::fs::read_to_string(LOCAL_KEK_FILE))
            .map_err(|_| {
                format!(
                    "no key service: give --kms-key-id (the stack's ClientSecretKeyArn output), or run \
                     scripts/run-local.sh to use the local stack's ({LOCAL_KEK_FILE})"
                )
            })?;
        LocalSealer::from_hex(kek.trim())
            .map(Sealer::Local)
            .map_err(|e| e.to_string())
    }

    /// Who runs this, for audit records: the AWS principal's ARN when the key service is KMS
    /// (asked of STS, so it is who AWS says, not who the operator says), else the local user.
    async fn operator(&self, aws: bool) -> Result<String, String> {
        if !aws {
            let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
            return Ok(format!("local:{user}"));
        }
        let identity = aws_sdk_sts::Client::new(&self.config)
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| format!("who is running this? STS refused: {e}"))?;
        identity
            .arn
            .ok_or_else(|| "STS named no principal".to_owned())
    }
}

/// What a new key prints: the key, and what each dialect's client is configured with.
fn issued(app: &AppId, key: &shared::model::api_key::IssuedKey) -> serde_json::Value {
    json!({
        "app_id": app,
        "api_key": key.token,
        "key_id": key.record.key_id,
        "scopes": key.record.scopes(),
        "clients": shared::dialects::credentials::clients(app, key),
    })
}

async fn run(
    store: &DynamoStore,
    keys: &KeyService,
    command: Command,
) -> Result<serde_json::Value, String> {
    let app_id = |text: &str| AppId::parse(text).ok_or_else(|| format!("not an app id: {text}"));
    let failed = |error: apps::AppsError| error.to_string();
    Ok(match command {
        Command::CreateTable => {
            shared::adapters::dynamo::schema::ensure_table(store.client(), store.table())
                .await
                .map_err(|e| e.to_string())?;
            json!({ "table": store.table() })
        }
        Command::CreateApp { name } => {
            let (app, key) = apps::create_app(store, &keys.sealer()?, &name)
                .await
                .map_err(failed)?;
            let mut shown = issued(&app.app_id, &key);
            shown["name"] = json!(app.name);
            shown
        }
        Command::CreateKey { app_id: id, scopes } => {
            let app = app_id(&id)?;
            let scopes = shared::model::Scope::parse_list(&scopes)
                .map_err(|name| format!("--scopes: {name:?} is no scope"))?;
            let key = apps::issue_api_key(store, &keys.sealer()?, &app, &scopes)
                .await
                .map_err(failed)?;
            issued(&app, &key)
        }
        Command::ListKeys { app_id: id } => {
            let keys = apps::list_api_keys(store, &app_id(&id)?)
                .await
                .map_err(failed)?;
            let keys: Vec<_> = keys
                .into_iter()
                .map(|k| {
                    json!({
                        "scopes": k.scopes(),
                        "key_id": k.key_id,
                        "created_at": k.created_at,
                        "last_used_at": k.last_used_at,
                        "revoked_at": k.revoked_at,
                    })
                })
                .collect();
            json!({ "app_id": id, "keys": keys })
        }
        Command::ExportUsers {
            app_id: id,
            out,
            resume,
        } => export::export_users(store, &app_id(&id)?, out, resume).await?,
        Command::RestoreUser {
            app_id: id,
            user_id,
        } => {
            let user_id = shared::model::UserId::parse(&user_id)
                .ok_or_else(|| format!("not a user id: {user_id}"))?;
            let user = shared::domain::users::restore_user(store, &app_id(&id)?, user_id)
                .await
                .map_err(|e| e.to_string())?;
            json!({ "restored": user })
        }
        Command::GetSettings { app_id: id } => {
            let settings = settings::get_settings(store, &app_id(&id)?)
                .await
                .map_err(|e| e.to_string())?;
            json!({ "app_id": id, "settings": settings })
        }
        Command::SetNetworks {
            app_id: id,
            networks,
        } => {
            let value: serde_json::Value = serde_json::from_str(&networks)
                .map_err(|e| format!("--networks is not JSON: {e}"))?;
            let networks = shared::model::network::parse_networks(&value).map_err(|errors| {
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            })?;
            let change = settings::SettingsChange {
                networks: Some(networks),
                ..Default::default()
            };
            let settings = settings::change_settings(store, &app_id(&id)?, &change)
                .await
                .map_err(|e| e.to_string())?;
            json!({ "app_id": id, "settings": settings })
        }
        Command::SettleCounts { app_id: id } => {
            let counted = shared::domain::access::settle_counts(store, &app_id(&id)?)
                .await
                .map_err(|e| e.to_string())?;
            json!({ "app_id": id, "counted": counted })
        }
        Command::RevokeKey { app_id: id, key_id } => {
            apps::revoke_api_key(store, &app_id(&id)?, &key_id)
                .await
                .map_err(failed)?;
            json!({ "app_id": id, "key_id": key_id, "revoked": true })
        }
        Command::MigrateSecrets => {
            let now = shared::clock::now_ms() / 1000;
            let migrated = store
                .migrate_secrets(now)
                .await
                .map_err(|e| e.to_string())?;
            json!({ "migrated": migrated })
        }
        Command::BreakGlassExport {
            app_id: id,
            user_id,
            recipient,
            reason,
            out,
            wallet_kms_key_id,
        } => {
            let user_id = match user_id {
                Some(text) => Some(
                    shared::model::UserId::parse(&text)
                        .ok_or_else(|| format!("not a user id: {text}"))?,
                ),
                None => None,
            };
            let args = break_glass::Args {
                app_id: app_id(&id)?,
                user_id,
                recipient,
                reason,
                out,
                wallet_kms_key_id,
            };
            break_glass::run(store, keys, args).await?
        }
        Command::ReindexHandles => {
            let indexed = store.reindex_handles().await.map_err(|e| e.to_string())?;
            json!({ "indexed": indexed })
        }
        Command::RevokeAllKeys { app_id: id } => {
            let revoked = apps::revoke_all_api_keys(store, &app_id(&id)?)
                .await
                .map_err(failed)?;
            json!({ "app_id": id, "revoked": revoked })
        }
    })
}

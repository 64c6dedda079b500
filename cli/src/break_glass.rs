//! `break-glass-export`: a user's (or every user's) wallet private keys, encrypted to an age
//! recipient, for the operator who must move funds without the stack. See
//! [`shared::domain::wallets::break_glass`] for what is recorded and checked.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde_json::json;
use shared::adapters::DynamoStore;
use shared::domain::wallets::break_glass::{self, Request};
use shared::model::{AppId, UserId};
use shared::ports::sealer::KeyPurpose;
use zeroize::Zeroizing;

use crate::KeyService;

/// What the command was given.
pub struct Args {
    pub app_id: AppId,
    pub user_id: Option<UserId>,
    pub recipient: String,
    pub reason: String,
    pub out: PathBuf,
    pub wallet_kms_key_id: Option<String>,
}

/// Runs the export: the file appears only once every key is in it (written beside it first,
/// readable by its owner alone, and removed if the export stops).
pub async fn run(
    store: &DynamoStore,
    keys: &KeyService,
    args: Args,
) -> Result<serde_json::Value, String> {
    let recipient = age::x25519::Recipient::from_str(&args.recipient)
        .map_err(|e| format!("--recipient is not an age X25519 recipient (age1…): {e}"))?;
    if args.out.exists() {
        return Err(format!("{} exists: choose a new file", args.out.display()));
    }
    let sealer = keys.sealer_for(KeyPurpose::WalletKeys, args.wallet_kms_key_id.as_deref())?;
    let operator = keys.operator(args.wallet_kms_key_id.is_some()).await?;
    let partial = args.out.with_extension("partial");
    let file = create_private(&partial)?;
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .map_err(|e| e.to_string())?;
    let mut writer = encryptor.wrap_output(file).map_err(|e| e.to_string())?;
    let request = Request {
        user: args.user_id,
        reason: args.reason,
        recipient: args.recipient,
        operator: operator.clone(),
    };
    let exported = break_glass::export_keys(store, &sealer, &args.app_id, &request, |key| {
        let mut line = Zeroizing::new(serde_json::to_string(key).map_err(std::io::Error::other)?);
        line.push('\n');
        writer.write_all(line.as_bytes())
    })
    .await;
    let finished = exported
        .map_err(|e| e.to_string())
        .and_then(|count| writer.finish().map(|_| count).map_err(|e| e.to_string()));
    match finished {
        Ok(count) => {
            fs::rename(&partial, &args.out).map_err(|e| e.to_string())?;
            Ok(json!({
                "exported": count,
                "out": args.out,
                "recipient": request.recipient,
                "operator": operator,
            }))
        }
        Err(error) => {
            let _ = fs::remove_file(&partial);
            Err(error)
        }
    }
}

/// A new file only its owner may read.
fn create_private(path: &Path) -> Result<fs::File, String> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))
}

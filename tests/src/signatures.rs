//! Signatures checked by code nobody here wrote: tests/clients/verify_signatures.py (eth-account
//! and solders, in the venv scripts/seed-clients.sh makes) reads cases as JSON on stdin and
//! prints an `ok` line per case that verifies.

use std::path::Path;
use std::process::Stdio;

use serde_json::Value;
use tokio::io::AsyncWriteExt;

/// Runs the verifier on `cases`; panics if any case fails; the number of checks that passed.
pub async fn verify(cases: &Value) -> usize {
    let python = std::env::var("SEED_CLIENTS_PYTHON").expect(
        "SEED_CLIENTS_PYTHON is not set: run the tests with scripts/test.sh (scripts/seed-clients.sh)",
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/verify_signatures.py");
    let mut child = tokio::process::Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the verifier starts");
    let mut stdin = child.stdin.take().expect("its stdin");
    stdin
        .write_all(cases.to_string().as_bytes())
        .await
        .expect("the cases are written");
    drop(stdin);
    let output = child.wait_with_output().await.expect("the verifier ends");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout.lines().filter(|l| l.starts_with("ok ")).count()
}

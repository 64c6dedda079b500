//! After the test suite: scans every item and stream record of every table in the DynamoDB
//! Local at `DYNAMODB_ENDPOINT`, and every log line the tests captured in `TEST_LOG_DIR`, for
//! API keys, webhook secrets and wallet private keys (see `api_tests::secrets`). Exits
//! non-zero on any finding, and when it scanned no item, stream record or log line (a scan
//! that read nothing proves nothing); `--allow-empty` accepts that, for a partial run.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[tokio::main]
async fn main() -> ExitCode {
    let allow_empty = std::env::args().skip(1).any(|arg| arg == "--allow-empty");
    let (Ok(endpoint), Some(log_dir)) = (
        std::env::var(shared::config::DYNAMODB_ENDPOINT_VAR),
        std::env::var_os(api_tests::TEST_LOG_DIR_VAR).filter(|dir| !dir.is_empty()),
    ) else {
        eprintln!("secrets-scan: set DYNAMODB_ENDPOINT and TEST_LOG_DIR (scripts/test.sh does)");
        return ExitCode::FAILURE;
    };
    let log_dir = PathBuf::from(log_dir);
    let started = Instant::now();
    let report = match api_tests::secrets::scan(&endpoint, None, Some(&log_dir)).await {
        Ok(report) => report,
        Err(error) => {
            eprintln!("secrets-scan: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "secrets-scan: {report} ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    for finding in &report.findings {
        println!("  {finding}");
    }
    if !report.findings.is_empty() {
        eprintln!("secrets-scan: secrets found where none may be");
        return ExitCode::FAILURE;
    }
    let empty = report.items == 0 || report.stream_records == 0 || report.log_lines == 0;
    if empty && !allow_empty {
        eprintln!(
            "secrets-scan: scanned no items, stream records or log lines: the scan is broken \
             (is TEST_LOG_DIR the directory the tests wrote to?)"
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

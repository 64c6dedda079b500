//! Logging: JSON lines in Lambda (CloudWatch parses them), plain text for local runs.
//! Request bodies and headers are never logged: they carry API keys and personal data.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `RUST_LOG` filters (default `info`); `LOG_FORMAT=text`
/// switches to human-readable lines.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let installed = if std::env::var("LOG_FORMAT").as_deref() == Ok("text") {
        builder.try_init()
    } else {
        builder.json().with_current_span(false).try_init()
    };
    // A second init (tests, the local server embedding several handlers) keeps the first.
    drop(installed);
}

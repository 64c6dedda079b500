//! Logging: JSON lines in Lambda (CloudWatch parses them), plain text for local runs.
//! Request bodies and headers are never logged: they carry API keys and personal data.

use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the global subscriber. `RUST_LOG` filters (default `info`); `LOG_FORMAT=text`
/// switches to human-readable lines.
pub fn init() {
    let filter = filter_from_env();
    // A second init (tests, the local server embedding several handlers) keeps the first.
    if std::env::var("LOG_FORMAT").as_deref() == Ok("text") {
        drop(
            tracing_subscriber::fmt()
                .with_target(false)
                .finish()
                .with(filter)
                .try_init(),
        );
    } else {
        drop(
            tracing_subscriber::registry()
                .with(filter)
                .with(json_layer(std::io::stdout))
                .try_init(),
        );
    }
}

/// `RUST_LOG` as a list of `level` and `target=level` directives (`info,shared=debug`); an
/// unset or unparsable value means `info`. Targets, not `EnvFilter`: its span and field
/// filters need a regex engine, 170 KB of every function's zip.
pub fn filter_from_env() -> Targets {
    std::env::var("RUST_LOG")
        .ok()
        .and_then(|directives| directives.parse().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO))
}

/// The JSON line format of the deployed functions' logs (one object per event, without span
/// lists or targets), written to `writer`. The test harness captures its logs in it too.
pub fn json_layer<S, W>(writer: W) -> impl Layer<S> + Send + Sync + 'static
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(false)
        .with_target(false)
        .with_writer(writer)
}

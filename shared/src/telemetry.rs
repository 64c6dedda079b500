//! Logging: JSON lines in Lambda (CloudWatch parses them), plain text for local runs.
//! Request bodies and headers are never logged: they carry API keys and personal data.

use tracing::{Level, Subscriber};
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
    filter_from(std::env::var("RUST_LOG").ok().as_deref())
}

/// The filter `directives` (a `RUST_LOG` value) ask for, with the SDK's and HTTP stacks'
/// targets held to `info` at most.
pub fn filter_from(directives: Option<&str>) -> Targets {
    let asked = directives
        .and_then(|directives| directives.parse().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO));
    cap_wire_targets(&asked)
}

/// Crates whose debug and trace events show what they send and receive: a KMS `Decrypt`
/// answer (a plaintext data key), API keys in headers, users' data in bodies.
const WIRE_TARGETS: [&str; 13] = [
    "aws_smithy",
    "aws_sdk",
    "aws_config",
    "aws_runtime",
    "aws_sigv4",
    "aws_credential_types",
    "hyper",
    "reqwest",
    "h2",
    "rustls",
    "tower",
    "lambda_runtime",
    "lambda_http",
];

/// `filter` with every wire target at `info` at most. A directive is matched by prefix and the
/// longest wins, so each wire crate gets a directive of its own (capped from what `filter`
/// gives it) and any longer directive under one is capped too.
fn cap_wire_targets(filter: &Targets) -> Targets {
    let is_wire = |target: &str| WIRE_TARGETS.iter().any(|wire| target.starts_with(wire));
    let mut capped = match filter.default_level() {
        Some(level) => Targets::new().with_default(level),
        None => Targets::new(),
    };
    capped = capped.with_targets(filter.iter().map(|(target, level)| {
        let level = if is_wire(target) {
            level.min(LevelFilter::INFO)
        } else {
            level
        };
        (target.to_owned(), level)
    }));
    for wire in WIRE_TARGETS {
        let asked = [
            Level::TRACE,
            Level::DEBUG,
            Level::INFO,
            Level::WARN,
            Level::ERROR,
        ]
        .into_iter()
        .find(|level| filter.would_enable(wire, level))
        .map_or(LevelFilter::OFF, LevelFilter::from_level);
        capped = capped.with_target(wire, asked.min(LevelFilter::INFO));
    }
    capped
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Targets of the SDK and HTTP stacks, as their events name them.
    const WIRE_TARGETS: [&str; 9] = [
        "aws_smithy_runtime::client::http::body",
        "aws_smithy_http_client::hyper_impls",
        "aws_sdk_kms::operation::decrypt",
        "aws_config::imds",
        "hyper::proto::h1::io",
        "hyper_util::client::legacy::pool",
        "reqwest::connect",
        "h2::codec::framed_read",
        "rustls::conn",
    ];

    #[test]
    fn no_directive_makes_the_sdk_or_http_stacks_log_below_info() {
        for directives in [
            "trace",
            "debug",
            "aws_smithy_runtime=trace,aws_smithy_runtime::client::http::body=trace",
            "hyper=trace,hyper_util=trace,reqwest=trace,h2=trace,rustls=trace",
            "aws_sdk_kms=trace,aws_config=debug,aws=trace",
        ] {
            let filter = filter_from(Some(directives));
            for target in WIRE_TARGETS {
                assert!(
                    !filter.would_enable(target, &Level::DEBUG),
                    "{directives}: {target} logs at debug"
                );
            }
        }
        let filter = filter_from(Some("trace"));
        assert!(filter.would_enable("hyper::proto::h1::io", &Level::INFO));
        assert!(filter.would_enable("shared::domain", &Level::TRACE));
        // Quieter than info stays quieter.
        let filter = filter_from(Some("warn"));
        assert!(!filter.would_enable("aws_smithy_runtime", &Level::INFO));
        assert!(filter.would_enable("aws_smithy_runtime", &Level::WARN));
        assert!(filter_from(None).would_enable("shared", &Level::INFO));
    }
}

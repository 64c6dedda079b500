//! What went wrong, in words we wrote, and the error that caused it when an adapter had one
//! (an SDK error with its own chain of sources). The words may reach a log; the cause is kept
//! whole for the log line written once at the edge, and never reaches a client.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// A failure's description and cause.
#[derive(Debug, Clone)]
pub struct Fault {
    what: String,
    cause: Option<Arc<dyn Error + Send + Sync>>,
}

impl Fault {
    /// A failure described by `what`, with no underlying error.
    pub fn new(what: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            cause: None,
        }
    }

    /// A failure described by `what`, caused by `cause`.
    pub fn caused_by(what: impl Into<String>, cause: impl Error + Send + Sync + 'static) -> Self {
        Self {
            what: what.into(),
            cause: Some(Arc::new(cause)),
        }
    }

    /// The error that caused this failure, if there was one.
    pub fn cause(&self) -> Option<&(dyn Error + Send + Sync + 'static)> {
        self.cause.as_deref()
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

impl Error for Fault {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.cause
            .as_deref()
            .map(|cause| cause as &(dyn Error + 'static))
    }
}

/// Two faults are alike when they say the same: causes are for logs, not for comparing
/// outcomes.
impl PartialEq for Fault {
    fn eq(&self, other: &Self) -> bool {
        self.what == other.what
    }
}

impl Eq for Fault {}

impl From<String> for Fault {
    fn from(what: String) -> Self {
        Self::new(what)
    }
}

impl From<&str> for Fault {
    fn from(what: &str) -> Self {
        Self::new(what)
    }
}

/// `error` and every error beneath it, joined with `: `: the whole story for one log line.
pub fn chain(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        // Some errors repeat their source's message in their own; say it once.
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_names_every_cause_once() {
        let io = std::io::Error::other("connection reset");
        let fault = Fault::caused_by("store unreachable", io);
        assert_eq!(chain(&fault), "store unreachable: connection reset");
        assert_eq!(fault, Fault::new("store unreachable"));
        assert_eq!(chain(&Fault::new("alone")), "alone");
    }
}

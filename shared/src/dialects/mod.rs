//! The dialects: other services' APIs spoken verbatim, so that a team leaving Original, Privy,
//! OST KIT or the find-or-create onboarding API changes one base URL and nothing else. Each
//! is an edge beside the native one: it reads its service's requests into the domain's input,
//! and writes the domain's outcome (and every error) as its service would. No rule lives here.

pub mod credentials;

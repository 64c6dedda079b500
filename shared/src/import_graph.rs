//! The modules of this crate import each other in no cycle, and imports point down the layers
//! only (the domain knows no edge and no adapter): read from the source itself, so a change
//! that bends the layers fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// `model/user` for `src/model/user.rs`, `store` for `src/store/mod.rs`.
fn module_of(root: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(root).unwrap().with_extension("");
    let name = relative.to_string_lossy().replace('\\', "/");
    name.strip_suffix("/mod").unwrap_or(&name).to_owned()
}

/// The paths after each `crate::` and `super::` in the code (not in comments, not in the
/// unit tests at the end of a file).
fn imported_paths(text: &str) -> Vec<(bool, Vec<String>)> {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut paths = Vec::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for (prefix, from_root) in [("crate::", true), ("super::", false)] {
            let mut rest = line;
            while let Some(at) = rest.find(prefix) {
                rest = &rest[at + prefix.len()..];
                let path: String = rest
                    .chars()
                    .take_while(|c| {
                        c.is_ascii_lowercase() || *c == '_' || *c == ':' || c.is_ascii_digit()
                    })
                    .collect();
                let segments = path
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned);
                paths.push((from_root, segments.collect()));
            }
        }
    }
    paths
}

fn graph() -> Graph {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let modules: BTreeMap<String, PathBuf> = files
        .iter()
        .map(|f| (module_of(&root, f), f.clone()))
        .collect();
    let mut graph = Graph::new();
    for (module, file) in &modules {
        let text = std::fs::read_to_string(file).unwrap();
        // `super` of `a/b` (in b.rs) is `a`; of `a/b` in `a/b/mod.rs` also `a`.
        let parent = module
            .rsplit_once('/')
            .map(|(p, _)| p.to_owned())
            .unwrap_or_default();
        let edges = graph.entry(module.clone()).or_default();
        for (from_root, segments) in imported_paths(&text) {
            let base: Vec<String> = if from_root || parent.is_empty() {
                Vec::new()
            } else {
                parent.split('/').map(str::to_owned).collect()
            };
            // The longest prefix of the path that names a module of this crate.
            let target = (1..=segments.len()).rev().find_map(|n| {
                let mut candidate = base.clone();
                candidate.extend_from_slice(&segments[..n]);
                let name = candidate.join("/");
                modules.contains_key(&name).then_some(name)
            });
            let target =
                target.or_else(|| (!parent.is_empty() && !from_root).then(|| parent.clone()));
            if let Some(target) = target
                && target != *module
            {
                edges.insert(target);
            }
        }
    }
    graph
}

/// The modules on a cycle through `start`, if there is one.
fn cycle_through(graph: &Graph, start: &str) -> Option<Vec<String>> {
    fn walk(
        graph: &Graph,
        start: &str,
        at: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in graph.get(at).into_iter().flatten() {
            if next == start {
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, start, next, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_owned()];
    walk(graph, start, start, &mut path, &mut BTreeSet::new()).then_some(path)
}

#[test]
fn no_two_modules_import_each_other_even_through_others() {
    let graph = graph();
    assert!(
        graph.len() > 40,
        "the crate's modules were not found: {graph:?}"
    );
    let cycles: Vec<String> = graph
        .keys()
        .filter_map(|module| cycle_through(&graph, module))
        .map(|cycle| cycle.join(" -> "))
        .collect();
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

/// The layer a module belongs to: its top-level module.
fn layer(module: &str) -> &str {
    module.split('/').next().unwrap_or(module)
}

/// What each layer may import besides itself. Imports point down only: model <- ports <-
/// domain <- adapters and edge; a dialect is an edge of another service's API, built on the
/// native edge's parts (auth, envelope, idempotency) and never imported by it; `config` wires adapters for the functions; `clock`,
/// `telemetry` and `tls` are the platform every layer may use.
const MAY_IMPORT: [(&str, &[&str]); 11] = [
    ("model", &["clock"]),
    ("ports", &["model", "clock"]),
    ("domain", &["model", "ports", "clock"]),
    ("adapters", &["model", "ports", "domain", "clock", "tls"]),
    ("edge", &["model", "ports", "domain", "clock"]),
    ("dialects", &["model", "ports", "domain", "edge", "clock"]),
    ("config", &["model", "ports", "adapters", "tls"]),
    ("clock", &[]),
    ("telemetry", &[]),
    ("tls", &[]),
    ("lib", &[]),
];

/// Every import that points up or sideways across layers (the domain into the edge or an
/// adapter, a port into the domain, the edge into an adapter...).
fn layer_violations(graph: &Graph) -> Vec<String> {
    let mut found = Vec::new();
    for (module, imports) in graph {
        if module == "import_graph" {
            continue;
        }
        let from = layer(module);
        let allowed = MAY_IMPORT
            .iter()
            .find(|(name, _)| *name == from)
            .map(|(_, allowed)| *allowed);
        let Some(allowed) = allowed else {
            found.push(format!("{module} is in no layer"));
            continue;
        };
        for imported in imports {
            let to = layer(imported);
            if to != from && !allowed.contains(&to) {
                found.push(format!("{module} -> {imported}"));
            }
        }
    }
    found
}

#[test]
fn imports_point_down_the_layers_only() {
    let found = layer_violations(&graph());
    assert!(found.is_empty(), "imports across layers: {found:#?}");
}

/// Crates of the edge and the adapters: the model, the ports and the domain name none of them.
const OUTER_CRATES: [&str; 8] = [
    "aws_sdk_",
    "aws_config",
    "aws_lambda_events",
    "aws_smithy",
    "lambda_http",
    "lambda_runtime",
    "reqwest",
    "http::",
];

#[test]
fn the_inner_layers_name_no_sdk_and_no_http_type() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for inner in ["model", "ports", "domain"] {
        let mut files = Vec::new();
        sources(&root.join(inner), &mut files);
        assert!(!files.is_empty(), "no sources under {inner}");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for name in OUTER_CRATES {
                    if line.contains(name) {
                        found.push(format!("{}: {}", module_of(&root, &file), line.trim()));
                    }
                }
            }
        }
    }
    assert!(found.is_empty(), "outer crates in inner layers: {found:#?}");
}

#[test]
fn a_domain_module_importing_the_edge_is_found() {
    let mut graph = Graph::new();
    graph
        .entry("domain/users".into())
        .or_default()
        .insert("edge/api".into());
    graph
        .entry("edge/api".into())
        .or_default()
        .insert("domain/users".into());
    assert_eq!(layer_violations(&graph), ["domain/users -> edge/api"]);
}

#[test]
fn the_graph_sees_a_cycle_when_there_is_one() {
    let mut graph = Graph::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("c".into());
    graph.entry("c".into()).or_default().insert("a".into());
    graph.entry("d".into()).or_default().insert("a".into());
    assert_eq!(
        cycle_through(&graph, "a"),
        Some(vec!["a".into(), "b".into(), "c".into()])
    );
    assert_eq!(cycle_through(&graph, "d"), None);
    let paths =
        imported_paths("use crate::adapters::dynamo::{x};\n// crate::edge::api\nuse super::keys;");
    assert_eq!(paths[0], (true, vec!["adapters".into(), "dynamo".into()]));
    assert_eq!(paths[1], (false, vec!["keys".into()]));
    assert_eq!(paths.len(), 2);
}

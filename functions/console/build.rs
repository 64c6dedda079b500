//! Compiles the console's build (`console/dist`, made by `npm run build` in `console/`) into the
//! function, so `sam build` and `scripts/package.sh` ship it in the function's zip. Without a
//! build the function still compiles (the Rust workspace builds without Node) and answers 503
//! saying how to build it; a warning says so at compile time.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let dist = manifest.join("../../console/dist");
    // A directory: cargo rebuilds when anything in it changes.
    println!("cargo:rerun-if-changed={}", dist.display());
    let mut files: Vec<(String, PathBuf)> = match std::fs::read_dir(&dist) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
            .map(|entry| {
                (
                    entry.file_name().to_string_lossy().into_owned(),
                    entry.path(),
                )
            })
            .collect(),
        Err(_) => {
            println!(
                "cargo:warning=console/dist is missing: the console function will answer 503 \
                 (run `npm ci && npm run build` in console/ before building)"
            );
            Vec::new()
        }
    };
    files.sort();
    let mut source = String::from(
        "/// The console's files, by name.\npub static FILES: &[(&str, &[u8])] = &[\n",
    );
    for (name, path) in &files {
        writeln!(
            source,
            "    ({name:?}, include_bytes!({:?})),",
            path.canonicalize()?
        )?;
    }
    source.push_str("];\n");
    std::fs::write(
        PathBuf::from(std::env::var("OUT_DIR")?).join("files.rs"),
        source,
    )?;
    Ok(())
}

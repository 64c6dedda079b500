//! The local stack's secrets on disk (`.local/api-key`, the demo key's client credentials):
//! readable by their owner alone, whatever the umask, so another account on a shared machine
//! cannot read a key that seals and signs.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Writes `contents` to `path` with mode 0600 (an existing file is narrowed to it first),
/// creating missing parent directories with mode 0700.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)?;
    }
    if path.exists() {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("{name}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&dir).unwrap();
        dir
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn secrets_are_written_for_their_owner_alone() {
        let root = scratch("private-files");
        let key = root.join(".local/api-key");
        write_private(&key, b"wu_live_secret").unwrap();
        assert_eq!(mode(&root.join(".local")), 0o700);
        assert_eq!(mode(&key), 0o600);
        // A file left readable by an earlier version is narrowed when written again.
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&key, b"wu_live_other").unwrap();
        assert_eq!(mode(&key), 0o600);
        assert_eq!(std::fs::read(&key).unwrap(), b"wu_live_other");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn the_dev_kek_script_makes_a_key_readable_by_its_owner_alone() {
        let root = scratch("dev-kek");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/dev-kek.sh");
        let status = std::process::Command::new("bash")
            .arg(script)
            .current_dir(&root)
            .status()
            .unwrap();
        assert!(status.success());
        let kek = root.join(".local/dev-kek");
        assert_eq!(std::fs::read_to_string(&kek).unwrap().trim().len(), 64);
        assert_eq!(mode(&root.join(".local")), 0o700);
        assert_eq!(mode(&kek), 0o600);
        std::fs::remove_dir_all(root).unwrap();
    }
}

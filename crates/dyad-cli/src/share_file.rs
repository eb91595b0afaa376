//! Share files (exactly the string `get_user_share` returns) and session files (what
//! `export_session` returns), written atomically with mode 0600.

use std::io::Write;
use std::path::{Path, PathBuf};

use dyad_sdk::UserShare;
use zeroize::Zeroizing;

use crate::CliError;

/// The share string in `path`, or `None` if the file does not exist or is empty.
pub fn read(path: &Path) -> Result<Option<Zeroizing<String>>, CliError> {
    match std::fs::read_to_string(path).map(Zeroizing::new) {
        Ok(s) if s.trim().is_empty() => Ok(None),
        Ok(s) => Ok(Some(Zeroizing::new(s.trim().to_string()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CliError::Io(format!("reading {}: {e}", path.display()))),
    }
}

/// The share string in `path`, which must exist.
pub fn read_required(path: &Path) -> Result<Zeroizing<String>, CliError> {
    read(path)?.ok_or_else(|| CliError::Usage(format!("share file {} is missing or empty", path.display())))
}

fn folder(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// A fresh temporary file beside `path`, created exclusively (never through an existing file or
/// symlink) with mode 0600.
fn create_temp(path: &Path) -> Result<(std::fs::File, PathBuf), CliError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = folder(path).join(format!(".{name}.{}.tmp", uuid_like()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let f = opts
        .open(&tmp)
        .map_err(|e| CliError::Io(format!("cannot write beside {}: {e}", path.display())))?;
    Ok((f, tmp))
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}-{nanos}", std::process::id())
}

/// Check, before a wallet is created, that its share can be saved at `path`: a wallet whose
/// share cannot be written would be lost.
pub fn check_writable(path: &Path) -> Result<(), CliError> {
    let (f, tmp) = create_temp(path)?;
    drop(f);
    std::fs::remove_file(&tmp).map_err(|e| CliError::Io(format!("cleaning up {}: {e}", tmp.display())))
}

/// Replace `path` with `share`: write a fresh 0600 temporary file beside it, sync, rename over,
/// sync the folder. A failure leaves the old file as it was and no temporary file behind.
pub fn write(path: &Path, share: &UserShare) -> Result<(), CliError> {
    write_secret(path, share.expose())
}

/// Replace `path` with the secret `text` the same way (0600, atomic, synced): share files and
/// session files.
pub fn write_secret(path: &Path, text: &str) -> Result<(), CliError> {
    let (mut f, tmp) = create_temp(path)?;
    let io = |e: std::io::Error| CliError::Io(format!("writing {}: {e}", path.display()));
    let written = f
        .write_all(text.as_bytes())
        .and_then(|_| f.sync_all())
        .and_then(|_| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    if let Ok(dir) = std::fs::File::open(folder(path)) {
        let _ = dir.sync_all();
    }
    Ok(())
}

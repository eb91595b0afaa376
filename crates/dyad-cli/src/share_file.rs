//! Share files: exactly the string `get_user_share` returns, written atomically with mode 0600.

use std::io::Write;
use std::path::Path;

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

/// Replace `path` with `share` (write a temporary file beside it, then rename).
pub fn write(path: &Path, share: &UserShare) -> Result<(), CliError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    let io = |e: std::io::Error| CliError::Io(format!("writing {}: {e}", path.display()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp).map_err(io)?;
    f.write_all(share.expose().as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

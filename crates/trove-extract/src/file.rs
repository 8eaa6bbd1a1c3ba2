//! Opening a file that may no longer be what it was when it was added: regular files only
//! (a path swapped for a FIFO or a device fails at once instead of hanging), every read
//! capped, and a version stamp (size + mtime) to tell whether it changed while read.

use std::fs::{File, Metadata};
use std::io::Read;
use std::path::Path;
use std::time::SystemTime;

use crate::ExtractError;

/// Size and modification time: what changes when a file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    pub len: u64,
    pub modified: Option<SystemTime>,
}

impl Version {
    pub fn of(meta: &Metadata) -> Self {
        Self {
            len: meta.len(),
            modified: meta.modified().ok(),
        }
    }

    /// The version at `path` now (following symlinks, like opening it does).
    pub fn now(path: &Path) -> Result<Self, ExtractError> {
        std::fs::metadata(path)
            .map(|m| Self::of(&m))
            .map_err(|e| ExtractError::from_io(&e, path))
    }
}

/// Opens `path` for reading without blocking (a FIFO would otherwise wait for a writer)
/// and checks on the open descriptor that it is a regular file.
pub fn open_regular(path: &Path) -> Result<(File, Metadata), ExtractError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = opts
        .open(path)
        .map_err(|e| ExtractError::from_io(&e, path))?;
    let meta = file
        .metadata()
        .map_err(|e| ExtractError::from_io(&e, path))?;
    if meta.is_dir() {
        return Err(ExtractError::IsDirectory {
            path: path.display().to_string(),
        });
    }
    if !meta.is_file() {
        return Err(ExtractError::NotRegular {
            path: path.display().to_string(),
        });
    }
    // A regular file: reads may block again (some network and FUSE file systems would
    // otherwise answer EAGAIN).
    #[cfg(unix)]
    clear_nonblocking(&file);
    Ok((file, meta))
}

#[cfg(unix)]
#[allow(unsafe_code)]
fn clear_nonblocking(file: &File) {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own; failure leaves the flag set, which is harmless
    // for local files.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
    }
}

/// Reads at most `limit` bytes; a file that has grown past it meanwhile is too large.
pub fn read_capped(mut file: File, size_hint: u64, limit: u64) -> Result<Vec<u8>, ExtractError> {
    if size_hint > limit {
        return Err(ExtractError::TooLarge {
            size: size_hint,
            limit,
        });
    }
    let mut bytes = Vec::with_capacity(size_hint.min(limit) as usize);
    (&mut file)
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| ExtractError::Io {
            message: e.to_string(),
        })?;
    if bytes.len() as u64 > limit {
        return Err(ExtractError::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_or_a_device_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.txt");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo reads a valid NUL-terminated path.
        #[allow(unsafe_code)]
        let made = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
        assert_eq!(made, 0);
        let err = open_regular(&fifo).unwrap_err();
        assert!(matches!(err, ExtractError::NotRegular { .. }), "{err:?}");
        assert!(err.to_string().contains("not a regular file"), "{err}");

        let link = dir.path().join("zero.txt");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let err = open_regular(&link).unwrap_err();
        assert!(matches!(err, ExtractError::NotRegular { .. }), "{err:?}");
    }

    #[test]
    fn reads_are_capped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.txt");
        std::fs::write(&p, vec![b'a'; 1000]).unwrap();
        let (f, meta) = open_regular(&p).unwrap();
        // The file grew after its size was checked: the read stops at the limit + 1.
        let err = read_capped(f, 10, 100).unwrap_err();
        assert!(
            matches!(
                err,
                ExtractError::TooLarge {
                    size: 101,
                    limit: 100
                }
            ),
            "{err:?}"
        );
        let (f, _) = open_regular(&p).unwrap();
        assert_eq!(read_capped(f, meta.len(), 1000).unwrap().len(), 1000);
        assert_eq!(Version::now(&p).unwrap(), Version::of(&meta));
    }
}

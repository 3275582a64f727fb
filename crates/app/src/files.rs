//! Uploaded files on disk, under the data folder:
//! `<data_dir>/content/<account>/<content id>`. A body is first received
//! into a temporary file next to its destination (never while a database
//! lock is held), then moved into place inside the transaction that records
//! it; if that transaction fails the move is undone.

use crate::AppConfig;
use crate::error::AppError;
use leadteam_domain::{AccountId, ContentId};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// The folder of an account's files.
pub(crate) fn account_dir(config: &AppConfig, account: AccountId) -> PathBuf {
    config.data_dir.join("content").join(account.0.to_string())
}

/// Where the file of a piece of content lives.
pub(crate) fn content_path(config: &AppConfig, account: AccountId, id: ContentId) -> PathBuf {
    account_dir(config, account).join(id.0.to_string())
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> AppError {
    AppError::Internal(crate::Fault::new(format!("{what} {}", path.display()), e))
}

/// A file removed when dropped, unless it was moved into place.
pub(crate) struct TempFile {
    path: Option<PathBuf>,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A received body: where it is, its size and its first bytes.
pub(crate) struct Received {
    pub temp: TempFile,
    pub size: u64,
    pub head: Vec<u8>,
}

/// Receives `body` into a temporary file in `dir`, refusing more than `max`
/// bytes (413, nothing left on disk).
pub(crate) async fn receive<R: AsyncRead + Unpin>(
    dir: &Path,
    mut body: R,
    max: u64,
    head_len: usize,
    too_large: impl Fn() -> AppError,
) -> Result<Received, AppError> {
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| io_error("cannot create", dir, e))?;
    let path = dir.join(format!(".upload-{}", crate::auth::random_token()));
    let mut file = tokio::fs::File::create(&path)
        .await
        .map_err(|e| io_error("cannot create", &path, e))?;
    let temp = TempFile {
        path: Some(path.clone()),
    };
    let mut size: u64 = 0;
    let mut head = Vec::with_capacity(head_len);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = body
            .read(&mut buf)
            .await
            .map_err(|e| AppError::field("file", format!("the upload was interrupted: {e}")))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        if size > max {
            return Err(too_large());
        }
        if head.len() < head_len {
            let take = (head_len - head.len()).min(n);
            head.extend_from_slice(&buf[..take]);
        }
        file.write_all(&buf[..n])
            .await
            .map_err(|e| io_error("cannot write", &path, e))?;
    }
    file.flush()
        .await
        .map_err(|e| io_error("cannot write", &path, e))?;
    file.sync_all()
        .await
        .map_err(|e| io_error("cannot sync", &path, e))?;
    Ok(Received { temp, size, head })
}

/// A file moved into place; the file it replaced is kept aside until
/// `finish` (dropped) or `undo` (put back).
pub(crate) struct Placed {
    dest: PathBuf,
    backup: Option<PathBuf>,
}

/// Moves `temp` to `dest`, keeping an older file at `dest` aside.
pub(crate) async fn place(mut temp: TempFile, dest: &Path) -> Result<Placed, AppError> {
    let Some(src) = temp.path.take() else {
        return Err(AppError::Internal("temporary file already used".into()));
    };
    // A name of its own, so that a later upload never takes this backup.
    let backup = dest.with_extension(format!("previous-{}", crate::auth::random_token()));
    let had_old = match tokio::fs::rename(dest, &backup).await {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => {
            temp.path = Some(src);
            return Err(io_error("cannot move aside", dest, e));
        }
    };
    if let Err(e) = tokio::fs::rename(&src, dest).await {
        temp.path = Some(src);
        if had_old {
            let _ = tokio::fs::rename(&backup, dest).await;
        }
        return Err(io_error("cannot move into place", dest, e));
    }
    Ok(Placed {
        dest: dest.to_path_buf(),
        backup: had_old.then_some(backup),
    })
}

impl Placed {
    /// The transaction committed: the replaced file goes.
    pub(crate) async fn finish(self) {
        if let Some(b) = &self.backup {
            remove_quietly(b).await;
        }
    }

    /// The transaction failed: the new file goes and the old one comes back.
    pub(crate) async fn undo(self) {
        remove_quietly(&self.dest).await;
        if let Some(b) = &self.backup
            && let Err(e) = tokio::fs::rename(b, &self.dest).await
        {
            tracing::error!(file = %self.dest.display(), error = %e, "cannot restore the previous file");
        }
    }
}

/// Removes a file, logging failures other than "not there".
pub(crate) async fn remove_quietly(path: &Path) {
    match tokio::fs::remove_file(path).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(file = %path.display(), error = %e, "cannot remove file"),
    }
}

/// Removes every file of an account (after the account was deleted).
pub(crate) async fn remove_account(config: &AppConfig, account: AccountId) {
    let dir = account_dir(config, account);
    match tokio::fs::remove_dir_all(&dir).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot remove the account's files")
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn scratch() -> PathBuf {
        std::env::temp_dir().join(format!("leadteam-files-{}", crate::auth::random_token()))
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused_while_streaming_and_leaves_nothing() {
        let dir = scratch();
        // No declared length: the limit holds while the bytes arrive.
        let body: &[u8] = &[7u8; 1001];
        let r = receive(&dir, body, 1000, 4, || AppError::TooLarge("big".into())).await;
        assert!(matches!(r, Err(AppError::TooLarge(_))));
        assert!(entries(&dir).is_empty(), "{:?}", entries(&dir));
        let body: &[u8] = &[7u8; 1000];
        let got = receive(&dir, body, 1000, 4, || AppError::TooLarge("big".into()))
            .await
            .unwrap();
        assert_eq!((got.size, got.head.as_slice()), (1000, &[7u8; 4][..]));
        drop(got);
        assert!(entries(&dir).is_empty(), "dropped temp files are removed");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn placing_keeps_the_old_file_until_finish_and_undo_restores_it() {
        let dir = scratch();
        let dest = dir.join("42");
        let first: &[u8] = b"first";
        let got = receive(&dir, first, 100, 4, || AppError::TooLarge("big".into()))
            .await
            .unwrap();
        place(got.temp, &dest).await.unwrap().finish().await;
        assert_eq!(entries(&dir), ["42"]);

        let second: &[u8] = b"second";
        let got = receive(&dir, second, 100, 4, || AppError::TooLarge("big".into()))
            .await
            .unwrap();
        let placed = place(got.temp, &dest).await.unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"second");
        placed.undo().await;
        assert_eq!(std::fs::read(&dest).unwrap(), b"first");
        assert_eq!(entries(&dir), ["42"]);

        let got = receive(&dir, second, 100, 4, || AppError::TooLarge("big".into()))
            .await
            .unwrap();
        place(got.temp, &dest).await.unwrap().finish().await;
        assert_eq!(std::fs::read(&dest).unwrap(), b"second");
        assert_eq!(entries(&dir), ["42"]);
        let _ = std::fs::remove_dir_all(dir);
    }
}

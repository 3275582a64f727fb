//! The transport used without SMTP: each message becomes `<id>.eml` in a
//! folder, and its links are logged.

use crate::transport::{BoxFuture, Outgoing, SendError, Transport};
use crate::{MailError, links};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct FileTransport {
    dir: PathBuf,
}

impl FileTransport {
    /// Writes into `dir`, created when missing.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, MailError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|source| MailError::Io {
            what: format!("cannot create the mail folder {}", dir.display()),
            source,
        })?;
        Ok(FileTransport { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where message `id` is written.
    pub fn path_of(&self, id: i64) -> PathBuf {
        self.dir.join(format!("{id}.eml"))
    }

    async fn write(&self, m: &Outgoing) -> Result<(), SendError> {
        let path = self.path_of(m.id);
        // Written aside then renamed: a reader never sees half a message.
        let tmp = self.dir.join(format!(".{}.eml.tmp", m.id));
        tokio::fs::write(&tmp, &m.raw)
            .await
            .map_err(|e| SendError(format!("cannot write {}: {e}", tmp.display())))?;
        tokio::fs::rename(&tmp, &path)
            .await
            .map_err(|e| SendError(format!("cannot write {}: {e}", path.display())))?;
        let to = m.to.as_str();
        let found = links(&m.body_text);
        if found.is_empty() {
            tracing::info!(to, subject = %m.subject, "mail written to {}", path.display());
        }
        for link in found {
            tracing::info!(to, link, "mail written to {}", path.display());
        }
        Ok(())
    }
}

impl Transport for FileTransport {
    fn send<'a>(&'a self, message: &'a Outgoing) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(self.write(message))
    }

    fn describe(&self) -> String {
        format!("files in {}", self.dir.display())
    }
}

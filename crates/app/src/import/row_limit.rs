//! A bound on one row of a CSV file as it streams in: a row (a cell with an
//! unclosed quote, say, which runs to the end of the file) longer than
//! [`MAX_ROW_BYTES`] stops the read with the line it started on, instead of
//! the CSV reader holding the rest of the file in memory.

use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

/// The longest row accepted (spreadsheets hold at most 32,767 characters a
/// cell; this leaves room for many such cells).
pub const MAX_ROW_BYTES: usize = 1024 * 1024;

/// Why the read stopped: the row starting at `line` is too long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the row starting on line {line} is longer than {max} bytes (an unclosed quote?)")]
pub struct RowTooLong {
    pub line: u64,
    pub max: usize,
}

/// Wraps a reader: counts the bytes of the current row (a newline outside
/// quotes ends a row; quotes are toggled by `"`, so `""` inside a quoted
/// cell leaves the state as it was) and fails the read past the bound.
pub struct RowLimit<R> {
    inner: R,
    max: usize,
    in_quotes: bool,
    row_bytes: usize,
    /// The physical line being read (1 = the header).
    line: u64,
    /// The line the current row started on.
    row_start: u64,
}

impl<R> RowLimit<R> {
    /// The wrapped reader.
    pub fn into_inner(self) -> R {
        self.inner
    }

    pub fn new(inner: R, max: usize) -> Self {
        RowLimit {
            inner,
            max,
            in_quotes: false,
            row_bytes: 0,
            line: 1,
            row_start: 1,
        }
    }

    /// Follows the bytes just read; the line of an overlong row.
    fn scan(&mut self, bytes: &[u8]) -> Result<(), RowTooLong> {
        for &b in bytes {
            match b {
                b'"' => self.in_quotes = !self.in_quotes,
                b'\n' => {
                    self.line += 1;
                    if !self.in_quotes {
                        self.row_bytes = 0;
                        self.row_start = self.line;
                        continue;
                    }
                }
                _ => {}
            }
            self.row_bytes += 1;
            if self.row_bytes > self.max {
                return Err(RowTooLong {
                    line: self.row_start,
                    max: self.max,
                });
            }
        }
        Ok(())
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for RowLimit<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let fresh = buf.filled()[before..].to_vec();
                match this.scan(&fresh) {
                    Ok(()) => Poll::Ready(Ok(())),
                    Err(e) => {
                        // The bytes of the failed read are not handed on.
                        buf.set_filled(before);
                        Poll::Ready(Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
                    }
                }
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tokio::io::AsyncReadExt;

    async fn read(text: &str, max: usize) -> Result<String, RowTooLong> {
        let mut r = RowLimit::new(text.as_bytes(), max);
        let mut out = String::new();
        match r.read_to_string(&mut out).await {
            Ok(_) => Ok(out),
            Err(e) => Err(*e.into_inner().unwrap().downcast::<RowTooLong>().unwrap()),
        }
    }

    #[tokio::test]
    async fn rows_within_the_bound_pass_quoted_newlines_included() {
        let text = "name,note\nBea,\"two\nlines\"\nCy,\"say \"\"hi\"\"\"\n";
        assert_eq!(read(text, 20).await.unwrap(), text);
    }

    #[tokio::test]
    async fn an_unclosed_quote_stops_at_the_bound_with_the_line_it_began_on() {
        let mut text = String::from("name,note\nBea,ok\nCy,\"never closed\n");
        text.push_str(&"x\n".repeat(100));
        assert_eq!(read(&text, 50).await, Err(RowTooLong { line: 3, max: 50 }));
    }
}

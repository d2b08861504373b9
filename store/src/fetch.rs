//! Fetching from `file://`, `http://` and `https://` URIs.
//!
//! HTTP goes through reqwest on a tokio runtime: many downloads at once, retries with backoff on
//! transient failures, and resumption (a `Range` request continuing a `.partial` file) after a
//! dropped connection. Every fetch is bounded by an expected or maximum size, so a server that
//! never stops sending cannot fill the disk.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A fetch that failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{uri}: not found")]
    NotFound { uri: String },
    #[error("{uri}: unsupported URI scheme (use file://, http:// or https://)")]
    Scheme { uri: String },
    #[error("{uri}: {source}")]
    Io { uri: String, source: std::io::Error },
    #[error("{uri}: HTTP status {status}")]
    Status { uri: String, status: u16 },
    #[error("{uri}: {source}")]
    Http { uri: String, source: reqwest::Error },
    #[error("{uri}: larger than the expected {limit} bytes")]
    TooLarge { uri: String, limit: u64 },
}

impl FetchError {
    /// Whether retrying could help.
    fn transient(&self) -> bool {
        match self {
            FetchError::Http { .. } => true,
            FetchError::Status { status, .. } => *status >= 500 || *status == 408 || *status == 429,
            _ => false,
        }
    }
}

/// Joins an archive base URI and a relative path.
pub fn join_uri(base: &str, rel: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        rel.trim_start_matches('/')
    )
}

/// A local file's error, with not-found told apart (so index fallbacks can try the next form).
fn file_error(uri: &str, source: std::io::Error) -> FetchError {
    if source.kind() == std::io::ErrorKind::NotFound {
        FetchError::NotFound {
            uri: uri.to_owned(),
        }
    } else {
        FetchError::Io {
            uri: uri.to_owned(),
            source,
        }
    }
}

fn file_path(uri: &str) -> Option<PathBuf> {
    uri.strip_prefix("file://").map(PathBuf::from)
}

/// Downloads whole small files (Release files, indices) and many large ones (.debs) concurrently.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    retries: u32,
}

impl Fetcher {
    /// A fetcher with particle's defaults (3 retries, 30 s connect timeout).
    pub fn new() -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(30))
            .read_timeout(Duration::from_secs(60))
            .user_agent(concat!("particle/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| FetchError::Http {
                uri: String::new(),
                source,
            })?;
        Ok(Self { client, retries: 3 })
    }

    /// Fetches `uri` into memory, refusing more than `limit` bytes.
    pub async fn get(&self, uri: &str, limit: u64) -> Result<Vec<u8>, FetchError> {
        if let Some(path) = file_path(uri) {
            let data = tokio::fs::read(&path)
                .await
                .map_err(|e| file_error(uri, e))?;
            if data.len() as u64 > limit {
                return Err(FetchError::TooLarge {
                    uri: uri.to_owned(),
                    limit,
                });
            }
            return Ok(data);
        }
        self.check_scheme(uri)?;
        let dir = tempfile::tempdir().map_err(|source| FetchError::Io {
            uri: uri.to_owned(),
            source,
        })?;
        let dest = dir.path().join("download");
        self.download(uri, &dest, limit).await?;
        tokio::fs::read(&dest)
            .await
            .map_err(|source| FetchError::Io {
                uri: uri.to_owned(),
                source,
            })
    }

    /// [`Fetcher::get`] for callers without an async runtime: runs one for the call.
    pub fn get_blocking(&self, uri: &str, limit: u64) -> Result<Vec<u8>, FetchError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| FetchError::Io {
                uri: uri.to_owned(),
                source,
            })?;
        rt.block_on(self.get(uri, limit))
    }

    fn check_scheme(&self, uri: &str) -> Result<(), FetchError> {
        if uri.starts_with("http://") || uri.starts_with("https://") {
            Ok(())
        } else {
            Err(FetchError::Scheme {
                uri: uri.to_owned(),
            })
        }
    }

    /// Downloads `uri` to `dest` (through `dest.partial`, resumed across retries), at most `limit`
    /// bytes. For `file://` URIs, copies.
    pub async fn download(&self, uri: &str, dest: &Path, limit: u64) -> Result<(), FetchError> {
        let io = |source| FetchError::Io {
            uri: uri.to_owned(),
            source,
        };
        if let Some(path) = file_path(uri) {
            let meta = tokio::fs::metadata(&path)
                .await
                .map_err(|e| file_error(uri, e))?;
            if meta.len() > limit {
                return Err(FetchError::TooLarge {
                    uri: uri.to_owned(),
                    limit,
                });
            }
            tokio::fs::copy(&path, dest).await.map_err(io)?;
            return Ok(());
        }
        self.check_scheme(uri)?;
        let partial = dest.with_extension("partial");
        let mut attempt = 0;
        loop {
            match self.try_download(uri, &partial, limit).await {
                Ok(()) => break,
                Err(e) if e.transient() && attempt < self.retries => {
                    attempt += 1;
                    tracing::warn!("{e}; retrying ({attempt}/{})", self.retries);
                    tokio::time::sleep(Duration::from_millis(250 << attempt)).await;
                }
                Err(e) => return Err(e),
            }
        }
        tokio::fs::rename(&partial, dest).await.map_err(io)
    }

    async fn try_download(&self, uri: &str, partial: &Path, limit: u64) -> Result<(), FetchError> {
        use futures_util::StreamExt;
        let io = |source| FetchError::Io {
            uri: uri.to_owned(),
            source,
        };
        let have = tokio::fs::metadata(partial)
            .await
            .map(|m| m.len())
            .unwrap_or(0);
        let mut req = self.client.get(uri);
        if have > 0 {
            req = req.header(reqwest::header::RANGE, format!("bytes={have}-"));
        }
        let resp = req.send().await.map_err(|source| FetchError::Http {
            uri: uri.to_owned(),
            source,
        })?;
        let status = resp.status().as_u16();
        let append = match status {
            200 => false,
            206 => true,
            404 | 410 => {
                return Err(FetchError::NotFound {
                    uri: uri.to_owned(),
                })
            }
            416 if have > 0 => {
                // The partial file may already be complete, or be garbage: start over.
                tokio::fs::remove_file(partial).await.map_err(io)?;
                return Err(FetchError::Status {
                    uri: uri.to_owned(),
                    status: 503,
                });
            }
            s => {
                return Err(FetchError::Status {
                    uri: uri.to_owned(),
                    status: s,
                })
            }
        };
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(partial)
            .map_err(io)?;
        let mut written = if append { have } else { 0 };
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|source| FetchError::Http {
                uri: uri.to_owned(),
                source,
            })?;
            written += chunk.len() as u64;
            if written > limit {
                let _ = std::fs::remove_file(partial);
                return Err(FetchError::TooLarge {
                    uri: uri.to_owned(),
                    limit,
                });
            }
            file.write_all(&chunk).map_err(io)?;
        }
        file.sync_all().map_err(io)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins() {
        assert_eq!(join_uri("file:///m/", "/dists/x"), "file:///m/dists/x");
        assert_eq!(
            join_uri("http://h/debian", "pool/a.deb"),
            "http://h/debian/pool/a.deb"
        );
    }

    #[test]
    fn file_uris_and_limits() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("f");
        std::fs::write(&p, b"0123456789").expect("write");
        let f = Fetcher::new().expect("client");
        let uri = format!("file://{}", p.display());
        assert_eq!(rt.block_on(f.get(&uri, 10)).expect("fits"), b"0123456789");
        assert!(matches!(
            rt.block_on(f.get(&uri, 9)),
            Err(FetchError::TooLarge { .. })
        ));
        assert!(matches!(
            rt.block_on(f.get(&format!("{uri}.missing"), 9)),
            Err(FetchError::NotFound { .. })
        ));
        assert!(matches!(
            rt.block_on(f.get("ftp://x/y", 9)),
            Err(FetchError::Scheme { .. })
        ));
    }
}

//! The `.deb` reader: the ar container, the control member and a streaming view of the data
//! member, all under [`DebLimits`] so that a hostile archive fails with a clear error and bounded
//! memory.
//!
//! Layout of a binary package, as dpkg reads it (`dpkg-deb(1)`, `deb(5)`):
//!
//! 1. `debian-binary`: `2.<minor>\n`. Any other major version is refused.
//! 2. `control.tar`, `control.tar.gz`, `control.tar.xz` or `control.tar.zst`.
//! 3. `data.tar`, `data.tar.gz`, `data.tar.xz` or `data.tar.zst`.
//!
//! Members whose name starts with `_` may appear anywhere after `debian-binary` and are skipped,
//! as dpkg does (debsigs' `_gpgorigin`, for instance). Any other member, a duplicate, or a member
//! out of this order is an error. `data.tar.bz2` and `data.tar.lzma` are legal in dpkg but refused
//! here with [`DebError::UnsupportedCompression`]: no package in Debian's current archives uses
//! them, and supporting them would pull in another decompressor for dead formats.
//!
//! Reading is streaming: [`DebReader::new`] reads up to the start of the data member (holding at
//! most the control member in memory), then [`DebReader::into_data`] gives the decompressed
//! `data.tar` as a [`Read`] and [`DebReader::into_entries`] iterates its entries.
//!
//! ## The data bound
//!
//! The decompressed `data.tar` may not exceed
//! `Installed-Size × 1024 × expansion_factor + expansion_slack` bytes, capped at `max_data_size`
//! (defaults: factor 2, slack 32 MiB, cap 64 GiB). Installed-Size counts file contents plus 1 KiB
//! per directory, symlink or other entry; the tar stream adds a 512-byte header and up to 511
//! bytes of padding per entry, so the factor and the slack leave room for packages with very many
//! small files. The compressed data member must fit the same bound, checked from its ar header
//! before a byte of it is read.

mod ar;
mod control;
mod entries;

pub use self::control::{Conffile, Control, Md5Sum, MAINTAINER_SCRIPTS};
pub use self::entries::{EntryKind, EntryMeta};

use self::ar::{MemberHeader, HEADER_LEN, MAGIC};
use self::entries::EntryReader;
use crate::deb822::Deb822Error;
use crate::index::{Compression, IndexError};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

/// Bounds on what reading one `.deb` may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DebLimits {
    /// Bytes of the decompressed `control.tar` (and of its compressed member, and of any `_`
    /// member). Default 16 MiB.
    pub max_control_size: u64,
    /// Bytes of one path or link target. Default 4096 (Linux's `PATH_MAX`).
    pub max_name_len: usize,
    /// Tar headers in one member, extension headers included. Default 2^20.
    pub max_entries: u64,
    /// Bytes of one PAX extended header. Default 64 KiB.
    pub max_pax_size: u64,
    /// See the module documentation on the data bound. Default 2.
    pub expansion_factor: u64,
    /// See the module documentation on the data bound. Default 32 MiB.
    pub expansion_slack: u64,
    /// Absolute cap on the decompressed `data.tar`. Default 64 GiB.
    pub max_data_size: u64,
    /// Memory a decompressor may use (xz memlimit, zstd window). Default 256 MiB.
    pub max_decoder_memory: u64,
}

impl Default for DebLimits {
    fn default() -> Self {
        Self {
            max_control_size: 16 << 20,
            max_name_len: 4096,
            max_entries: 1 << 20,
            max_pax_size: 64 << 10,
            expansion_factor: 2,
            expansion_slack: 32 << 20,
            max_data_size: 64 << 30,
            max_decoder_memory: 256 << 20,
        }
    }
}

impl DebLimits {
    /// The bound on the decompressed `data.tar` of a package declaring `installed_size_kib`.
    pub fn data_limit(&self, installed_size_kib: u64) -> u64 {
        installed_size_kib
            .saturating_mul(1024)
            .saturating_mul(self.expansion_factor)
            .saturating_add(self.expansion_slack)
            .min(self.max_data_size)
    }
}

/// Why a `.deb` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DebError {
    #[error("could not open {path}")]
    Open { path: PathBuf, source: io::Error },
    #[error("could not read the .deb at offset {offset}")]
    Io { offset: u64, source: io::Error },
    #[error("not a .deb: the file does not start with the ar magic `!<arch>\\n`")]
    BadMagic,
    #[error("truncated ar member header at offset {offset} ({got} of 60 bytes)")]
    TruncatedHeader { offset: u64, got: usize },
    #[error("ar member header at offset {offset} ({member}) does not end with \"`\\n\"")]
    BadHeaderTerminator { offset: u64, member: String },
    #[error("ar member {member} at offset {offset}: size field {field:?} is not a decimal number")]
    BadSize {
        offset: u64,
        member: String,
        field: String,
    },
    #[error("ar member name {name:?} at offset {offset} is empty or not printable ASCII")]
    BadMemberName { offset: u64, name: String },
    #[error("ar member {member} claims {size} bytes at offset {offset}, beyond the end of the {len}-byte file")]
    HeaderOverflow {
        member: String,
        offset: u64,
        size: u64,
        len: u64,
    },
    #[error("ar member {member} is truncated: {got} of {expected} bytes")]
    Truncated {
        member: String,
        expected: u64,
        got: u64,
    },
    #[error("not a Debian binary package: the first member is {found:?}, not debian-binary")]
    NotDebianBinary { found: String },
    #[error("debian-binary is malformed: {what}")]
    BadDebianBinary { what: &'static str },
    #[error("unsupported .deb format version {version:?}: only 2.x is understood")]
    UnsupportedVersion { version: String },
    #[error("ar member {member} is out of order: expected {expected}")]
    MemberOrder {
        member: String,
        expected: &'static str,
    },
    #[error("duplicate ar member {member}")]
    DuplicateMember { member: String },
    #[error("unknown ar member {member} (only members starting with `_` may be added)")]
    UnknownMember { member: String },
    #[error("ar member {member}: unknown compression")]
    UnknownCompression { member: String },
    #[error("ar member {member}: compression is valid for dpkg but not supported by particle")]
    UnsupportedCompression { member: String },
    #[error("the .deb ends before its {member} member")]
    MissingMember { member: &'static str },
    #[error("ar member {member} is {size} bytes, above the limit of {limit}")]
    MemberTooLarge {
        member: String,
        size: u64,
        limit: u64,
    },
    #[error("{member} decompresses to more than {limit} bytes{}", match installed_size_kib {
        Some(kib) => format!(" (the bound for Installed-Size {kib} KiB)"),
        None => String::new(),
    })]
    TooLarge {
        member: String,
        limit: u64,
        /// The control's Installed-Size, for the data member.
        installed_size_kib: Option<u64>,
    },
    #[error("could not decompress {member}")]
    Decompress { member: String, source: io::Error },
    #[error("could not read the tar archive in {member}")]
    Tar {
        member: &'static str,
        source: io::Error,
    },
    #[error("{member}: more than {limit} tar entries")]
    TooManyEntries { member: &'static str, limit: u64 },
    #[error("{member}: a name of {len} bytes is longer than the limit of {limit}")]
    NameTooLong {
        member: &'static str,
        len: u64,
        limit: usize,
    },
    #[error("{member}: a PAX header of {size} bytes is larger than the limit of {limit}")]
    PaxTooLarge {
        member: &'static str,
        size: u64,
        limit: u64,
    },
    #[error("{member}: entry {entry}: PAX size {pax} disagrees with the header's size {header}")]
    PaxSizeMismatch {
        member: &'static str,
        entry: String,
        header: u64,
        pax: u64,
    },
    #[error("{member}: entry {entry}: unsupported tar entry type {:?}", char::from(*kind))]
    UnsupportedEntryType {
        member: &'static str,
        entry: String,
        kind: u8,
    },
    #[error("{member}: entry {entry}: {what}")]
    BadEntry {
        member: &'static str,
        entry: String,
        what: &'static str,
    },
    #[error("control.tar: entry {entry}: {what}")]
    BadControlEntry { entry: String, what: &'static str },
    #[error("control.tar has no {file} file")]
    MissingControlFile { file: &'static str },
    #[error("control.tar: {file} is not UTF-8 (byte {offset})")]
    NotUtf8 { file: &'static str, offset: usize },
    #[error("control file: syntax error")]
    ControlSyntax { source: Deb822Error },
    #[error("control file: a second stanza starts at line {line}")]
    ExtraStanza { line: usize },
    #[error("control file: bad field")]
    ControlFields { source: IndexError },
    #[error("control.tar: {file} line {line}: {what}")]
    BadControlFile {
        file: &'static str,
        line: usize,
        what: &'static str,
    },
}

impl DebError {
    /// Recovers the [`DebError`] carried inside an `io::Error` returned by [`DataReader`]'s or
    /// [`DataEntry`]'s `read` (limits, truncation, decompression), or gives the error back.
    pub fn from_io(e: io::Error) -> Result<DebError, io::Error> {
        unwrap_io(e)
    }
}

/// Turns an I/O error from a stream stack back into the [`DebError`] a layer of it raised.
fn unwrap_io(e: io::Error) -> Result<DebError, io::Error> {
    if e.get_ref().is_some_and(|inner| inner.is::<DebError>()) {
        let inner = e
            .into_inner()
            .expect("checked: the error has an inner error");
        Ok(*inner
            .downcast::<DebError>()
            .expect("checked: the inner error is a DebError"))
    } else {
        Err(e)
    }
}

fn tar_error(member: &'static str, e: io::Error) -> DebError {
    unwrap_io(e).unwrap_or_else(|source| DebError::Tar { member, source })
}

/// The ar layer: a reader with its position, and the file's length when known.
struct Ar<R> {
    r: R,
    pos: u64,
    len: Option<u64>,
    /// An odd-sized member was consumed: one alignment byte comes before the next header.
    pad: bool,
}

impl<R: Read> Ar<R> {
    fn io(&self, source: io::Error) -> DebError {
        DebError::Io {
            offset: self.pos,
            source,
        }
    }

    fn magic(&mut self) -> Result<(), DebError> {
        let mut m = [0u8; 8];
        let got = ar::read_full(&mut self.r, &mut m).map_err(|e| self.io(e))?;
        if got != 8 || &m != MAGIC {
            return Err(DebError::BadMagic);
        }
        self.pos = 8;
        Ok(())
    }

    /// The next member header, or `None` at the end of the archive.
    fn next_header(&mut self) -> Result<Option<MemberHeader>, DebError> {
        if self.pad {
            let mut b = [0u8; 1];
            if ar::read_full(&mut self.r, &mut b).map_err(|e| self.io(e))? == 0 {
                return Ok(None);
            }
            self.pos += 1;
            self.pad = false;
        }
        let mut h = [0u8; HEADER_LEN];
        let got = ar::read_full(&mut self.r, &mut h).map_err(|e| self.io(e))?;
        match got {
            0 => return Ok(None),
            HEADER_LEN => {}
            _ => {
                return Err(DebError::TruncatedHeader {
                    offset: self.pos,
                    got,
                })
            }
        }
        let m = ar::parse_header(&h, self.pos)?;
        self.pos += HEADER_LEN as u64;
        if let Some(len) = self.len {
            if m.size > len.saturating_sub(self.pos) {
                return Err(DebError::HeaderOverflow {
                    member: m.name,
                    offset: m.offset,
                    size: m.size,
                    len,
                });
            }
        }
        Ok(Some(m))
    }

    /// Accounts for a member whose content has been consumed.
    fn consumed(&mut self, m: &MemberHeader) {
        self.pos += m.size;
        self.pad = m.size % 2 == 1;
    }

    /// Reads and discards a member's content.
    fn skip(&mut self, m: &MemberHeader) -> Result<(), DebError> {
        let mut member = MemberReader::new(&mut self.r, m);
        member.drain()?;
        self.consumed(m);
        Ok(())
    }
}

/// Exactly one member's content: end of input before `size` bytes is [`DebError::Truncated`].
struct MemberReader<R> {
    r: R,
    remaining: u64,
    size: u64,
    name: String,
}

impl<R: Read> MemberReader<R> {
    fn new(r: R, m: &MemberHeader) -> Self {
        Self {
            r,
            remaining: m.size,
            size: m.size,
            name: m.name.clone(),
        }
    }

    /// Reads the rest of the member, checking it is all there.
    fn drain(&mut self) -> Result<(), DebError> {
        io::copy(self, &mut io::sink()).map(drop).map_err(|e| {
            unwrap_io(e).unwrap_or_else(|source| DebError::Io {
                offset: self.size - self.remaining,
                source,
            })
        })
    }
}

impl<R: Read> Read for MemberReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.r.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::other(DebError::Truncated {
                member: self.name.clone(),
                expected: self.size,
                got: self.size - self.remaining,
            }));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// A decompressor over one member.
enum Decoder<M: Read> {
    None(M),
    Gzip(flate2::read::MultiGzDecoder<M>),
    Xz(liblzma::read::XzDecoder<M>),
    Zstd(zstd::stream::read::Decoder<'static, BufReader<M>>),
}

impl<M: Read> Decoder<M> {
    fn new(compression: Compression, m: M, limits: &DebLimits) -> io::Result<Self> {
        Ok(match compression {
            Compression::None => Decoder::None(m),
            Compression::Gzip => Decoder::Gzip(flate2::read::MultiGzDecoder::new(m)),
            Compression::Xz => {
                let stream = liblzma::stream::Stream::new_stream_decoder(
                    limits.max_decoder_memory,
                    liblzma::stream::CONCATENATED,
                )
                .map_err(io::Error::other)?;
                Decoder::Xz(liblzma::read::XzDecoder::new_stream(m, stream))
            }
            Compression::Zstd => {
                let mut d = zstd::stream::read::Decoder::new(m)?;
                // The largest window that fits the memory limit (zstd's own limit is 2^31).
                let log = 63 - limits.max_decoder_memory.max(1 << 10).leading_zeros();
                d.window_log_max(log.min(31))?;
                Decoder::Zstd(d)
            }
        })
    }

    fn into_inner(self) -> M {
        match self {
            Decoder::None(m) => m,
            Decoder::Gzip(d) => d.into_inner(),
            Decoder::Xz(d) => d.into_inner(),
            Decoder::Zstd(d) => d.finish().into_inner(),
        }
    }
}

impl<M: Read> Read for Decoder<M> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::None(m) => m.read(buf),
            Decoder::Gzip(d) => d.read(buf),
            Decoder::Xz(d) => d.read(buf),
            Decoder::Zstd(d) => d.read(buf),
        }
    }
}

/// Decompresses one member, failing once its output passes `limit` bytes. Errors of the layers
/// below (truncation) pass through; decompressor errors become [`DebError::Decompress`].
struct Bounded<M: Read> {
    decoder: Decoder<M>,
    out: u64,
    limit: u64,
    member: String,
    installed_size_kib: Option<u64>,
}

impl<M: Read> Read for Bounded<M> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match self.decoder.read(buf) {
            Ok(n) => n,
            Err(e) => {
                return Err(match unwrap_io(e) {
                    Ok(inner) => io::Error::other(inner),
                    Err(source) => io::Error::other(DebError::Decompress {
                        member: self.member.clone(),
                        source,
                    }),
                })
            }
        };
        self.out += n as u64;
        if self.out > self.limit {
            return Err(io::Error::other(DebError::TooLarge {
                member: self.member.clone(),
                limit: self.limit,
                installed_size_kib: self.installed_size_kib,
            }));
        }
        Ok(n)
    }
}

/// The compression named by a member's extension (after `control.tar` or `data.tar`).
fn member_compression(member: &str, ext: &str, data: bool) -> Result<Compression, DebError> {
    match ext {
        "" => Ok(Compression::None),
        ".gz" => Ok(Compression::Gzip),
        ".xz" => Ok(Compression::Xz),
        ".zst" => Ok(Compression::Zstd),
        ".bz2" | ".lzma" if data => Err(DebError::UnsupportedCompression {
            member: member.to_owned(),
        }),
        _ => Err(DebError::UnknownCompression {
            member: member.to_owned(),
        }),
    }
}

/// A `.deb` read up to its data member.
pub struct DebReader<R: Read> {
    ar: Ar<R>,
    control: Control,
    data: MemberHeader,
    data_compression: Compression,
    limits: DebLimits,
}

impl<R: Read> std::fmt::Debug for DebReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DebReader")
            .field("package", &self.control.package.key())
            .field("data", &self.data.name)
            .field("data_size", &self.data.size)
            .finish_non_exhaustive()
    }
}

impl DebReader<BufReader<File>> {
    /// Opens the `.deb` at `path` (its length is used to reject members that claim to extend
    /// past the end of the file before reading them).
    pub fn open(path: &Path, limits: DebLimits) -> Result<Self, DebError> {
        let open_err = |source| DebError::Open {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(open_err)?;
        let len = file.metadata().map_err(open_err)?.len();
        Self::read(BufReader::with_capacity(64 << 10, file), Some(len), limits)
    }
}

impl<'a> DebReader<&'a [u8]> {
    /// Reads a `.deb` held in memory.
    pub fn from_bytes(bytes: &'a [u8], limits: DebLimits) -> Result<Self, DebError> {
        Self::read(bytes, Some(bytes.len() as u64), limits)
    }
}

impl<R: Read> DebReader<R> {
    /// Reads `debian-binary` and the control member from a stream of unknown length.
    pub fn new(reader: R, limits: DebLimits) -> Result<Self, DebError> {
        Self::read(reader, None, limits)
    }

    /// Like [`DebReader::new`], for a stream known to be `len` bytes long.
    pub fn with_len(reader: R, len: u64, limits: DebLimits) -> Result<Self, DebError> {
        Self::read(reader, Some(len), limits)
    }

    fn read(reader: R, len: Option<u64>, limits: DebLimits) -> Result<Self, DebError> {
        let mut ar = Ar {
            r: reader,
            pos: 0,
            len,
            pad: false,
        };
        ar.magic()?;
        let first = ar.next_header()?.ok_or(DebError::MissingMember {
            member: "debian-binary",
        })?;
        if first.name != "debian-binary" {
            return Err(DebError::NotDebianBinary { found: first.name });
        }
        if first.size > 1024 {
            return Err(DebError::MemberTooLarge {
                member: first.name,
                size: first.size,
                limit: 1024,
            });
        }
        let mut version = Vec::with_capacity(first.size as usize);
        MemberReader::new(&mut ar.r, &first)
            .read_to_end(&mut version)
            .map_err(|e| {
                unwrap_io(e).unwrap_or_else(|source| DebError::Io {
                    offset: first.offset,
                    source,
                })
            })?;
        ar.consumed(&first);
        check_version(&version)?;

        let mut control: Option<Control> = None;
        loop {
            let Some(m) = ar.next_header()? else {
                return Err(DebError::MissingMember {
                    member: if control.is_some() {
                        "data.tar"
                    } else {
                        "control.tar"
                    },
                });
            };
            if m.name.starts_with('_') {
                if m.size > limits.max_control_size {
                    return Err(DebError::MemberTooLarge {
                        member: m.name,
                        size: m.size,
                        limit: limits.max_control_size,
                    });
                }
                ar.skip(&m)?;
            } else if let Some(ext) = m.name.strip_prefix("control.tar") {
                if control.is_some() {
                    return Err(DebError::DuplicateMember { member: m.name });
                }
                let compression = member_compression(&m.name, ext, false)?;
                control = Some(read_control(&mut ar, &m, compression, &limits)?);
            } else if let Some(ext) = m.name.strip_prefix("data.tar") {
                let Some(control) = control else {
                    return Err(DebError::MemberOrder {
                        member: m.name,
                        expected: "control.tar",
                    });
                };
                let data_compression = member_compression(&m.name, ext, true)?;
                let limit = limits.data_limit(control.package.installed_size);
                if m.size > limit {
                    return Err(DebError::MemberTooLarge {
                        member: m.name,
                        size: m.size,
                        limit,
                    });
                }
                return Ok(DebReader {
                    ar,
                    control,
                    data: m,
                    data_compression,
                    limits,
                });
            } else if m.name == "debian-binary" {
                return Err(DebError::DuplicateMember { member: m.name });
            } else {
                return Err(DebError::UnknownMember { member: m.name });
            }
        }
    }

    /// The control member.
    pub fn control(&self) -> &Control {
        &self.control
    }

    /// The compression of the data member.
    pub fn data_compression(&self) -> Compression {
        self.data_compression
    }

    /// The size of the (compressed) data member in bytes.
    pub fn data_size(&self) -> u64 {
        self.data.size
    }

    /// The bound on the decompressed `data.tar` (see the module documentation).
    pub fn data_limit(&self) -> u64 {
        self.limits.data_limit(self.control.package.installed_size)
    }

    /// The control member, and the decompressed `data.tar` as a stream (bounded by
    /// [`DebReader::data_limit`]). Errors raised by this crate's layers come out of `read` as
    /// `io::Error`s wrapping a [`DebError`]: see [`DebError::from_io`].
    pub fn into_data(self) -> Result<(Control, DataReader<R>), DebError> {
        let limit = self.data_limit();
        let installed_size_kib = Some(self.control.package.installed_size);
        let DebReader {
            ar,
            control,
            data,
            data_compression,
            limits,
        } = self;
        let Ar { r, pos, len, .. } = ar;
        let member = MemberReader::new(r, &data);
        let decoder = Decoder::new(data_compression, member, &limits).map_err(|source| {
            DebError::Decompress {
                member: data.name.clone(),
                source,
            }
        })?;
        let bounded = Bounded {
            decoder,
            out: 0,
            limit,
            member: data.name.clone(),
            installed_size_kib,
        };
        Ok((
            control,
            DataReader {
                bounded,
                data,
                after: (pos, len),
                limits,
            },
        ))
    }

    /// The control member, and the data member's tar entries.
    pub fn into_entries(self) -> Result<(Control, DataArchive<R>), DebError> {
        let (control, data) = self.into_data()?;
        let limits = data.limits;
        Ok((
            control,
            DataArchive {
                archive: tar::Archive::new(data),
                limits,
            },
        ))
    }
}

fn check_version(bytes: &[u8]) -> Result<(), DebError> {
    let nl = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or(DebError::BadDebianBinary { what: "no newline" })?;
    let line = std::str::from_utf8(&bytes[..nl])
        .map_err(|_| DebError::BadDebianBinary { what: "not UTF-8" })?;
    let (major, _minor) = line.split_once('.').ok_or(DebError::BadDebianBinary {
        what: "no dot in the version",
    })?;
    if major != "2" {
        return Err(DebError::UnsupportedVersion {
            version: line.chars().take(40).collect(),
        });
    }
    Ok(())
}

fn read_control<R: Read>(
    ar: &mut Ar<R>,
    m: &MemberHeader,
    compression: Compression,
    limits: &DebLimits,
) -> Result<Control, DebError> {
    if m.size > limits.max_control_size {
        return Err(DebError::MemberTooLarge {
            member: m.name.clone(),
            size: m.size,
            limit: limits.max_control_size,
        });
    }
    let mut member = MemberReader::new(&mut ar.r, m);
    let decoder =
        Decoder::new(compression, &mut member, limits).map_err(|source| DebError::Decompress {
            member: m.name.clone(),
            source,
        })?;
    let bounded = Bounded {
        decoder,
        out: 0,
        limit: limits.max_control_size,
        member: m.name.clone(),
        installed_size_kib: None,
    };
    let mut archive = tar::Archive::new(bounded);
    let mut entries = archive
        .entries()
        .map_err(|e| tar_error("control.tar", e))?
        .raw(true);
    let mut reader = EntryReader {
        member: "control.tar",
        limits: *limits,
        count: 0,
    };
    let mut members = BTreeMap::new();
    while let Some((meta, mut entry)) = reader.next(&mut entries)? {
        let shown = meta.display_path();
        let bad = |what| DebError::BadControlEntry {
            entry: shown.clone(),
            what,
        };
        let name = meta.relative_path();
        let name = name.strip_suffix(b"/").unwrap_or(name);
        match meta.kind {
            EntryKind::Directory if name.is_empty() || name == b"." => continue,
            EntryKind::Directory => return Err(bad("subdirectories are not allowed")),
            EntryKind::File => {}
            _ => return Err(bad("only regular files are allowed")),
        }
        if name.is_empty() || name.contains(&b'/') || name == b"." || name == b".." {
            return Err(bad("not a plain file name"));
        }
        let name = std::str::from_utf8(name)
            .map_err(|_| bad("name is not UTF-8"))?
            .to_owned();
        // The decompressed stream is bounded, so this allocation is too.
        let mut content = Vec::with_capacity(meta.size.min(limits.max_control_size) as usize);
        entry
            .read_to_end(&mut content)
            .map_err(|e| tar_error("control.tar", e))?;
        if members.insert(name, content).is_some() {
            return Err(bad("duplicate file"));
        }
    }
    // Read to the end of the compressed stream so that its integrity check runs.
    let mut bounded = archive.into_inner();
    io::copy(&mut bounded, &mut io::sink()).map_err(|e| tar_error("control.tar", e))?;
    drop(bounded);
    member.drain()?;
    ar.consumed(m);
    Control::from_members(members)
}

/// The decompressed `data.tar` of a `.deb`, bounded. Call [`DataReader::finish`] after reading
/// it to check the rest of the archive.
pub struct DataReader<R: Read> {
    bounded: Bounded<MemberReader<R>>,
    data: MemberHeader,
    /// (position after the data member's header, file length)
    after: (u64, Option<u64>),
    limits: DebLimits,
}

impl<R: Read> std::fmt::Debug for DataReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataReader")
            .field("member", &self.data.name)
            .field("out", &self.bounded.out)
            .finish()
    }
}

impl<R: Read> Read for DataReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.bounded.read(buf)
    }
}

impl<R: Read> DataReader<R> {
    /// Reads the rest of the data member (so the decompressor's integrity check runs), then
    /// checks that only `_` members follow it.
    pub fn finish(mut self) -> Result<(), DebError> {
        let name = self.data.name.clone();
        io::copy(&mut self.bounded, &mut io::sink()).map_err(|e| {
            unwrap_io(e).unwrap_or_else(|source| DebError::Decompress {
                member: name,
                source,
            })
        })?;
        let mut member = self.bounded.decoder.into_inner();
        member.drain()?;
        let (pos, len) = self.after;
        let mut ar = Ar {
            r: member.r,
            pos,
            len,
            pad: false,
        };
        ar.consumed(&self.data);
        while let Some(m) = ar.next_header()? {
            if !m.name.starts_with('_') {
                return Err(if m.name.starts_with("data.tar") {
                    DebError::DuplicateMember { member: m.name }
                } else {
                    DebError::UnknownMember { member: m.name }
                });
            }
            if m.size > self.limits.max_control_size {
                return Err(DebError::MemberTooLarge {
                    member: m.name,
                    size: m.size,
                    limit: self.limits.max_control_size,
                });
            }
            ar.skip(&m)?;
        }
        Ok(())
    }
}

/// The tar entries of a `.deb`'s data member.
pub struct DataArchive<R: Read> {
    archive: tar::Archive<DataReader<R>>,
    limits: DebLimits,
}

impl<R: Read> std::fmt::Debug for DataArchive<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataArchive").finish_non_exhaustive()
    }
}

impl<R: Read> DataArchive<R> {
    /// Iterates over the entries, in archive order. Callable once.
    pub fn entries(&mut self) -> Result<DataEntries<'_, R>, DebError> {
        let entries = self
            .archive
            .entries()
            .map_err(|e| tar_error("data.tar", e))?
            .raw(true);
        Ok(DataEntries {
            entries,
            reader: EntryReader {
                member: "data.tar",
                limits: self.limits,
                count: 0,
            },
            done: false,
        })
    }

    /// After the entries: see [`DataReader::finish`].
    pub fn finish(self) -> Result<(), DebError> {
        self.archive.into_inner().finish()
    }
}

/// Iterator over a data member's entries; stops after the first error.
pub struct DataEntries<'a, R: Read> {
    entries: tar::Entries<'a, DataReader<R>>,
    reader: EntryReader,
    done: bool,
}

impl<R: Read> std::fmt::Debug for DataEntries<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataEntries")
            .field("count", &self.reader.count)
            .finish_non_exhaustive()
    }
}

impl<'a, R: Read> Iterator for DataEntries<'a, R> {
    type Item = Result<DataEntry<'a, R>, DebError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.reader.next(&mut self.entries) {
            Ok(Some((meta, inner))) => Some(Ok(DataEntry { meta, inner })),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// One entry of the data member: its metadata, and its content as a [`Read`] (regular files
/// only; empty for everything else). Read it before asking for the next entry, or it is skipped.
pub struct DataEntry<'a, R: Read> {
    pub meta: EntryMeta,
    inner: tar::Entry<'a, DataReader<R>>,
}

impl<R: Read> std::fmt::Debug for DataEntry<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataEntry")
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

impl<R: Read> DataEntry<'_, R> {
    /// Reads the whole content (bounded by the entry's size, itself bounded by the data limit).
    pub fn read_content(&mut self) -> Result<Vec<u8>, DebError> {
        let mut v = Vec::with_capacity(self.meta.size.min(1 << 20) as usize);
        self.inner
            .read_to_end(&mut v)
            .map_err(|e| tar_error("data.tar", e))?;
        Ok(v)
    }
}

impl<R: Read> Read for DataEntry<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_limit_saturates_and_caps() {
        let l = DebLimits::default();
        assert_eq!(l.data_limit(0), 32 << 20);
        assert_eq!(l.data_limit(1000), 1000 * 1024 * 2 + (32 << 20));
        assert_eq!(l.data_limit(u64::MAX), 64 << 30);
    }

    #[test]
    fn debian_binary_versions() {
        assert!(check_version(b"2.0\n").is_ok());
        assert!(check_version(b"2.1\nignored by dpkg").is_ok());
        assert!(matches!(
            check_version(b"3.0\n"),
            Err(DebError::UnsupportedVersion { .. })
        ));
        assert!(matches!(
            check_version(b"2.0"),
            Err(DebError::BadDebianBinary { what: "no newline" })
        ));
        assert!(matches!(
            check_version(b"2\n"),
            Err(DebError::BadDebianBinary { .. })
        ));
        assert!(matches!(
            check_version(b"\xff.0\n"),
            Err(DebError::BadDebianBinary { .. })
        ));
    }

    #[test]
    fn member_compressions() {
        assert_eq!(
            member_compression("data.tar", "", true).ok(),
            Some(Compression::None)
        );
        assert_eq!(
            member_compression("data.tar.zst", ".zst", true).ok(),
            Some(Compression::Zstd)
        );
        assert!(matches!(
            member_compression("control.tar.bz2", ".bz2", false),
            Err(DebError::UnknownCompression { .. })
        ));
        assert!(matches!(
            member_compression("data.tar.lzma", ".lzma", true),
            Err(DebError::UnsupportedCompression { .. })
        ));
    }

    #[test]
    fn io_errors_carry_deb_errors_through() {
        let inner = DebError::TooManyEntries {
            member: "data.tar",
            limit: 3,
        };
        let e = DebError::from_io(io::Error::other(inner)).expect("a DebError inside");
        assert!(matches!(e, DebError::TooManyEntries { limit: 3, .. }));
        let plain = io::Error::new(io::ErrorKind::UnexpectedEof, "eof");
        assert_eq!(
            DebError::from_io(plain).expect_err("plain").kind(),
            io::ErrorKind::UnexpectedEof
        );
    }
}

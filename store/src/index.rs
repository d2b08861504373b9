//! `Packages` indices: deb822 stanzas into the typed [`Universe`], and the compressed forms an
//! archive serves them in.

use crate::deb822::{paragraphs, Deb822Error, Paragraph};
use crate::id::Sha256;
use crate::model::{MultiArch, Package, Priority, Universe};
use crate::relation::{parse_dependencies, parse_relations, valid_name, RelationError};
use crate::version::Version;
use std::io::Read;

/// Why an index could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("{0}")]
    Syntax(#[from] Deb822Error),
    #[error("stanza at line {line}: missing field {field}")]
    Missing { line: usize, field: &'static str },
    #[error("stanza at line {line} ({package}): field {field}: {source}")]
    Relation {
        line: usize,
        package: String,
        field: &'static str,
        source: RelationError,
    },
    #[error("stanza at line {line} ({package}): field {field}: bad value {value:?}")]
    Value {
        line: usize,
        package: String,
        field: &'static str,
        value: String,
    },
    #[error("index is not UTF-8 (byte {0})")]
    Utf8(usize),
    #[error("could not decompress index: {0}")]
    Decompress(#[source] std::io::Error),
    #[error("decompressed index exceeds {limit} bytes")]
    TooLarge { limit: u64 },
}

/// The compression of an index file, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Xz,
    Gzip,
    Zstd,
}

impl Compression {
    /// From a file name's extension.
    pub fn from_name(name: &str) -> Self {
        if name.ends_with(".xz") {
            Compression::Xz
        } else if name.ends_with(".gz") {
            Compression::Gzip
        } else if name.ends_with(".zst") {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// Decompresses `data`, refusing to produce more than `limit` bytes.
pub fn decompress(
    data: &[u8],
    compression: Compression,
    limit: u64,
) -> Result<Vec<u8>, IndexError> {
    let reader: Box<dyn Read + '_> = match compression {
        Compression::None => return bounded(data, limit),
        Compression::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(data)),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(data)),
        Compression::Zstd => {
            Box::new(zstd::stream::read::Decoder::new(data).map_err(IndexError::Decompress)?)
        }
    };
    let mut out = Vec::with_capacity(data.len().saturating_mul(6).min(limit as usize));
    reader
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(IndexError::Decompress)?;
    if out.len() as u64 > limit {
        return Err(IndexError::TooLarge { limit });
    }
    Ok(out)
}

fn bounded(data: &[u8], limit: u64) -> Result<Vec<u8>, IndexError> {
    if data.len() as u64 > limit {
        return Err(IndexError::TooLarge { limit });
    }
    Ok(data.to_vec())
}

/// Parses the text of a `Packages` index.
pub fn parse_packages(text: &str) -> Result<Universe, IndexError> {
    let mut packages = Vec::with_capacity(text.len() / 1200);
    for p in paragraphs(text) {
        packages.push(package_from_paragraph(&p?)?);
    }
    Ok(Universe { packages })
}

/// Parses a `Packages` index given as bytes (checked to be UTF-8).
pub fn parse_packages_bytes(bytes: &[u8]) -> Result<Universe, IndexError> {
    let text = std::str::from_utf8(bytes).map_err(|e| IndexError::Utf8(e.valid_up_to()))?;
    parse_packages(text)
}

/// Builds a [`Package`] from one stanza of a `Packages` file or a dpkg `status` file.
/// Fields a `status` file lacks (Filename, Size, SHA256) default to empty.
pub fn package_from_paragraph(p: &Paragraph<'_>) -> Result<Package, IndexError> {
    // One pass over the stanza's fields into slots: a stanza has ~20 fields and we read ~20,
    // so looking each one up would cost a quadratic number of comparisons per stanza.
    let mut f: [Option<&str>; FIELDS.len()] = [None; FIELDS.len()];
    for (k, v) in &p.fields {
        if let Some(i) = field_slot(k) {
            f[i] = Some(v.trim());
        }
    }
    let get = |name: &str| FIELDS.iter().position(|x| *x == name).and_then(|i| f[i]);
    let line = p.line;
    let name = get("Package").ok_or(IndexError::Missing {
        line,
        field: "Package",
    })?;
    let value_err = |field: &'static str, value: &str| IndexError::Value {
        line,
        package: name.to_owned(),
        field,
        value: value.chars().take(120).collect(),
    };
    if !valid_name(name) {
        return Err(value_err("Package", name));
    }
    let version = get("Version").ok_or(IndexError::Missing {
        line,
        field: "Version",
    })?;
    Version::parse(version).map_err(|_| value_err("Version", version))?;
    let arch = get("Architecture").ok_or(IndexError::Missing {
        line,
        field: "Architecture",
    })?;
    let deps = |field: &'static str| -> Result<_, IndexError> {
        get(field).map_or(Ok(Vec::new()), |v| {
            parse_dependencies(v).map_err(|source| IndexError::Relation {
                line,
                package: name.to_owned(),
                field,
                source,
            })
        })
    };
    let rels = |field: &'static str| -> Result<_, IndexError> {
        get(field).map_or(Ok(Vec::new()), |v| {
            parse_relations(v).map_err(|source| IndexError::Relation {
                line,
                package: name.to_owned(),
                field,
                source,
            })
        })
    };
    let number = |field: &'static str| -> Result<u64, IndexError> {
        get(field).map_or(Ok(0), |v| v.parse().map_err(|_| value_err(field, v)))
    };
    let yes = |field: &'static str| get(field).is_some_and(|v| v.eq_ignore_ascii_case("yes"));
    let multi_arch = match get("Multi-Arch") {
        None => MultiArch::No,
        Some(v) if v.eq_ignore_ascii_case("no") => MultiArch::No,
        Some(v) if v.eq_ignore_ascii_case("same") => MultiArch::Same,
        Some(v) if v.eq_ignore_ascii_case("foreign") => MultiArch::Foreign,
        Some(v) if v.eq_ignore_ascii_case("allowed") => MultiArch::Allowed,
        Some(other) => return Err(value_err("Multi-Arch", other)),
    };
    let priority = match get("Priority") {
        Some(v) if v.eq_ignore_ascii_case("required") => Priority::Required,
        Some(v) if v.eq_ignore_ascii_case("important") => Priority::Important,
        Some(v) if v.eq_ignore_ascii_case("standard") => Priority::Standard,
        Some(v) if v.eq_ignore_ascii_case("extra") => Priority::Extra,
        _ => Priority::Optional,
    };
    let sha256 = match get("SHA256") {
        Some(h) => Sha256::from_hex(h).map_err(|_| value_err("SHA256", h))?,
        None => Sha256::default(),
    };
    let source = get("Source")
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or(name)
        .to_owned();
    Ok(Package {
        name: name.to_owned(),
        version: version.to_owned(),
        arch: arch.to_owned(),
        multi_arch,
        essential: yes("Essential"),
        protected: yes("Protected"),
        priority,
        section: get("Section").unwrap_or("").to_owned(),
        source,
        depends: deps("Depends")?,
        pre_depends: deps("Pre-Depends")?,
        recommends: deps("Recommends")?,
        suggests: deps("Suggests")?,
        enhances: deps("Enhances")?,
        conflicts: rels("Conflicts")?,
        breaks: rels("Breaks")?,
        replaces: rels("Replaces")?,
        provides: rels("Provides")?,
        installed_size: number("Installed-Size")?,
        size: number("Size")?,
        sha256,
        filename: get("Filename").unwrap_or("").to_owned(),
    })
}

/// The fields a [`Package`] is built from, in their canonical spelling.
const FIELDS: [&str; 23] = [
    "Package",
    "Version",
    "Architecture",
    "Multi-Arch",
    "Essential",
    "Protected",
    "Priority",
    "Section",
    "Source",
    "Depends",
    "Pre-Depends",
    "Recommends",
    "Suggests",
    "Enhances",
    "Conflicts",
    "Breaks",
    "Replaces",
    "Provides",
    "Installed-Size",
    "Size",
    "SHA256",
    "Filename",
    "Status",
];

/// The slot of a field name (case-insensitive, as deb822 field names are).
fn field_slot(name: &str) -> Option<usize> {
    FIELDS
        .iter()
        .position(|f| f.len() == name.len() && f.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = "Package: hello\nVersion: 2.10-3\nArchitecture: amd64\nDepends: libc6 (>= 2.34)\nInstalled-Size: 280\nSize: 53100\nSHA256: 0000000000000000000000000000000000000000000000000000000000000001\nFilename: pool/main/h/hello/hello_2.10-3_amd64.deb\n\nPackage: base-files\nEssential: yes\nPriority: required\nVersion: 12.4+deb12u15\nArchitecture: amd64\nMulti-Arch: foreign\nProvides: base\n";

    #[test]
    fn parses_stanzas() {
        let u = parse_packages(TWO).expect("valid");
        assert_eq!(u.packages.len(), 2);
        assert_eq!(u.packages[0].depends[0].to_string(), "libc6 (>= 2.34)");
        assert_eq!(u.packages[0].size, 53100);
        assert!(u.packages[1].essential);
        assert_eq!(u.packages[1].multi_arch, MultiArch::Foreign);
        assert_eq!(u.packages[1].priority, Priority::Required);
    }

    #[test]
    fn names_the_bad_stanza() {
        let bad = TWO.replace("Depends: libc6 (>= 2.34)", "Depends: libc6 (>= 2.34");
        let e = parse_packages(&bad).expect_err("invalid").to_string();
        assert!(e.contains("hello") && e.contains("Depends"), "{e}");
        let bad = TWO.replace("Version: 12.4+deb12u15\n", "");
        assert!(matches!(
            parse_packages(&bad),
            Err(IndexError::Missing {
                field: "Version",
                line: 10
            })
        ));
    }

    #[test]
    fn decompression_is_bounded() {
        let zeros = vec![0u8; 1 << 20];
        let mut enc = liblzma::write::XzEncoder::new(Vec::new(), 6);
        std::io::Write::write_all(&mut enc, &zeros).expect("encode");
        let xz = enc.finish().expect("encode");
        assert_eq!(
            decompress(&xz, Compression::Xz, 2 << 20)
                .expect("fits")
                .len(),
            1 << 20
        );
        assert!(matches!(
            decompress(&xz, Compression::Xz, 1000),
            Err(IndexError::TooLarge { .. })
        ));
    }
}

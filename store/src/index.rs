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

impl IndexError {
    /// The same error with its line number `lines` further on: for errors found in a piece of
    /// an index that starts after `lines` lines.
    pub(crate) fn shifted(mut self, lines: usize) -> Self {
        match &mut self {
            IndexError::Syntax(Deb822Error { line, .. })
            | IndexError::Missing { line, .. }
            | IndexError::Relation { line, .. }
            | IndexError::Value { line, .. } => *line += lines,
            IndexError::Utf8(_) | IndexError::Decompress(_) | IndexError::TooLarge { .. } => {}
        }
        self
    }
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
    let mut packages = Vec::with_capacity(text.len() / 700);
    for_each_stanza(text, |stanza| {
        packages.push(package_from_stanza(&stanza)?);
        Ok(())
    })?;
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
    let mut slots: Slots<'_> = [None; FIELD_COUNT];
    for (name, value) in &p.fields {
        fill_slot(&mut slots, name, value);
    }
    package_from_stanza(&Stanza::check(p.line, slots)?)
}

/// Calls `each` with every stanza of `text`, its scalar fields checked. Shared by the owned
/// [`Universe`] parse and the interned package table, so both accept exactly the same input.
pub(crate) fn for_each_stanza<'a>(
    text: &'a str,
    mut each: impl FnMut(Stanza<'a>) -> Result<(), IndexError>,
) -> Result<(), IndexError> {
    let mut stanzas = paragraphs(text);
    loop {
        let mut slots: Slots<'a> = [None; FIELD_COUNT];
        let Some(line) = stanzas.next_with(|name, value| fill_slot(&mut slots, name, value)) else {
            return Ok(());
        };
        each(Stanza::check(line?, slots)?)?;
    }
}

/// The raw values of the fields a [`Package`] is built from, indexed by [`Field`]. One pass
/// over a stanza fills them: a stanza has ~20 fields and we read ~20, so looking each one up
/// would cost a quadratic number of comparisons per stanza.
type Slots<'a> = [Option<&'a str>; FIELD_COUNT];

/// Records `value` in its slot if `name` is a field we read (the last occurrence wins).
fn fill_slot<'a>(slots: &mut Slots<'a>, name: &str, value: &'a str) {
    if let Some(f) = Field::from_name(name) {
        slots[f as usize] = Some(value);
    }
}

/// One stanza with its scalar fields checked, borrowing from the index text; relation fields
/// are parsed by the caller (into owned [`Package`]s or into the interned table).
pub(crate) struct Stanza<'a> {
    pub(crate) line: usize,
    pub(crate) name: &'a str,
    pub(crate) version: &'a str,
    pub(crate) arch: &'a str,
    pub(crate) multi_arch: MultiArch,
    pub(crate) essential: bool,
    pub(crate) protected: bool,
    pub(crate) priority: Priority,
    pub(crate) section: &'a str,
    /// The source package name (the binary's name when the field is absent).
    pub(crate) source: &'a str,
    pub(crate) sha256: Sha256,
    pub(crate) filename: &'a str,
    slots: Slots<'a>,
}

/// The dependency fields (entries with alternatives), in [`Package`] order.
pub(crate) const DEPENDENCY_FIELDS: [Field; 5] = [
    Field::Depends,
    Field::PreDepends,
    Field::Recommends,
    Field::Suggests,
    Field::Enhances,
];

/// The relation fields without alternatives, in [`Package`] order.
pub(crate) const RELATION_FIELDS: [Field; 4] = [
    Field::Conflicts,
    Field::Breaks,
    Field::Replaces,
    Field::Provides,
];

impl<'a> Stanza<'a> {
    /// Checks the scalar fields of a stanza starting at `line`.
    fn check(line: usize, slots: Slots<'a>) -> Result<Self, IndexError> {
        let get = |f: Field| slots[f as usize].map(str::trim_ascii);
        let name = get(Field::Package).ok_or(IndexError::Missing {
            line,
            field: "Package",
        })?;
        let value_err = |field: &'static str, value: &str| value_error(line, name, field, value);
        if !valid_name(name) {
            return Err(value_err("Package", name));
        }
        let version = get(Field::Version).ok_or(IndexError::Missing {
            line,
            field: "Version",
        })?;
        Version::parse(version).map_err(|_| value_err("Version", version))?;
        let arch = get(Field::Architecture).ok_or(IndexError::Missing {
            line,
            field: "Architecture",
        })?;
        let yes = |f: Field| get(f).is_some_and(|v| v.eq_ignore_ascii_case("yes"));
        let multi_arch = match get(Field::MultiArch) {
            None => MultiArch::No,
            Some(v) if v.eq_ignore_ascii_case("no") => MultiArch::No,
            Some(v) if v.eq_ignore_ascii_case("same") => MultiArch::Same,
            Some(v) if v.eq_ignore_ascii_case("foreign") => MultiArch::Foreign,
            Some(v) if v.eq_ignore_ascii_case("allowed") => MultiArch::Allowed,
            Some(other) => return Err(value_err("Multi-Arch", other)),
        };
        let priority = match get(Field::Priority) {
            Some(v) if v.eq_ignore_ascii_case("required") => Priority::Required,
            Some(v) if v.eq_ignore_ascii_case("important") => Priority::Important,
            Some(v) if v.eq_ignore_ascii_case("standard") => Priority::Standard,
            Some(v) if v.eq_ignore_ascii_case("extra") => Priority::Extra,
            _ => Priority::Optional,
        };
        let sha256 = match get(Field::Sha256) {
            Some(h) => Sha256::from_hex(h).map_err(|_| value_err("SHA256", h))?,
            None => Sha256::default(),
        };
        let source = get(Field::Source)
            .and_then(|s| s.split_whitespace().next())
            .unwrap_or(name);
        Ok(Stanza {
            line,
            name,
            version,
            arch,
            multi_arch,
            essential: yes(Field::Essential),
            protected: yes(Field::Protected),
            priority,
            section: get(Field::Section).unwrap_or(""),
            source,
            sha256,
            filename: get(Field::Filename).unwrap_or(""),
            slots,
        })
    }

    /// The text of a relation field, trimmed, if the stanza has it.
    pub(crate) fn relation_text(&self, f: Field) -> Option<&'a str> {
        self.slots[f as usize].map(str::trim_ascii)
    }

    /// A relation field that does not parse, with where it is.
    pub(crate) fn relation_error(&self, f: Field, source: RelationError) -> IndexError {
        IndexError::Relation {
            line: self.line,
            package: self.name.to_owned(),
            field: f.name(),
            source,
        }
    }

    /// Installed-Size and Size (0 when absent). Checked after the relations, as they come
    /// after them in a [`Package`].
    pub(crate) fn sizes(&self) -> Result<(u64, u64), IndexError> {
        let number = |f: Field| -> Result<u64, IndexError> {
            self.slots[f as usize]
                .map(str::trim_ascii)
                .map_or(Ok(0), |v| {
                    v.parse()
                        .map_err(|_| value_error(self.line, self.name, f.name(), v))
                })
        };
        Ok((number(Field::InstalledSize)?, number(Field::Size)?))
    }
}

fn value_error(line: usize, package: &str, field: &'static str, value: &str) -> IndexError {
    IndexError::Value {
        line,
        package: package.to_owned(),
        field,
        value: value.chars().take(120).collect(),
    }
}

/// Builds an owned [`Package`] from a checked stanza.
fn package_from_stanza(st: &Stanza<'_>) -> Result<Package, IndexError> {
    let deps = |f: Field| -> Result<_, IndexError> {
        st.relation_text(f).map_or(Ok(Vec::new()), |v| {
            parse_dependencies(v).map_err(|e| st.relation_error(f, e))
        })
    };
    let rels = |f: Field| -> Result<_, IndexError> {
        st.relation_text(f).map_or(Ok(Vec::new()), |v| {
            parse_relations(v).map_err(|e| st.relation_error(f, e))
        })
    };
    let [depends, pre_depends, recommends, suggests, enhances] = [
        deps(Field::Depends)?,
        deps(Field::PreDepends)?,
        deps(Field::Recommends)?,
        deps(Field::Suggests)?,
        deps(Field::Enhances)?,
    ];
    let [conflicts, breaks, replaces, provides] = [
        rels(Field::Conflicts)?,
        rels(Field::Breaks)?,
        rels(Field::Replaces)?,
        rels(Field::Provides)?,
    ];
    let (installed_size, size) = st.sizes()?;
    Ok(Package {
        name: st.name.to_owned(),
        version: st.version.to_owned(),
        arch: st.arch.to_owned(),
        multi_arch: st.multi_arch,
        essential: st.essential,
        protected: st.protected,
        priority: st.priority,
        section: st.section.to_owned(),
        source: st.source.to_owned(),
        depends,
        pre_depends,
        recommends,
        suggests,
        enhances,
        conflicts,
        breaks,
        replaces,
        provides,
        installed_size,
        size,
        sha256: st.sha256,
        filename: st.filename.to_owned(),
    })
}

/// The fields a [`Package`] is built from; the discriminant is the slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Package,
    Version,
    Architecture,
    MultiArch,
    Essential,
    Protected,
    Priority,
    Section,
    Source,
    Depends,
    PreDepends,
    Recommends,
    Suggests,
    Enhances,
    Conflicts,
    Breaks,
    Replaces,
    Provides,
    InstalledSize,
    Size,
    Sha256,
    Filename,
}

const FIELD_COUNT: usize = Field::ALL.len();

impl Field {
    const ALL: [Field; 22] = [
        Field::Package,
        Field::Version,
        Field::Architecture,
        Field::MultiArch,
        Field::Essential,
        Field::Protected,
        Field::Priority,
        Field::Section,
        Field::Source,
        Field::Depends,
        Field::PreDepends,
        Field::Recommends,
        Field::Suggests,
        Field::Enhances,
        Field::Conflicts,
        Field::Breaks,
        Field::Replaces,
        Field::Provides,
        Field::InstalledSize,
        Field::Size,
        Field::Sha256,
        Field::Filename,
    ];

    /// The canonical spelling.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Field::Package => "Package",
            Field::Version => "Version",
            Field::Architecture => "Architecture",
            Field::MultiArch => "Multi-Arch",
            Field::Essential => "Essential",
            Field::Protected => "Protected",
            Field::Priority => "Priority",
            Field::Section => "Section",
            Field::Source => "Source",
            Field::Depends => "Depends",
            Field::PreDepends => "Pre-Depends",
            Field::Recommends => "Recommends",
            Field::Suggests => "Suggests",
            Field::Enhances => "Enhances",
            Field::Conflicts => "Conflicts",
            Field::Breaks => "Breaks",
            Field::Replaces => "Replaces",
            Field::Provides => "Provides",
            Field::InstalledSize => "Installed-Size",
            Field::Size => "Size",
            Field::Sha256 => "SHA256",
            Field::Filename => "Filename",
        }
    }

    /// The field called `name` (deb822 field names are case-insensitive). Called for every
    /// line of an index (~1.3 million for bookworm main), a third of them fields we do not read
    /// (Description, Maintainer, MD5sum, …), so the length and first letter pick the one or
    /// two candidates to compare; `from_name_finds_every_field` checks the table.
    fn from_name(name: &str) -> Option<Field> {
        use Field::*;
        let first = name.as_bytes().first()?.to_ascii_lowercase();
        let candidates: &[Field] = match (name.len(), first) {
            (4, b's') => &[Size],
            (6, b's') => &[Source, Sha256],
            (6, b'b') => &[Breaks],
            (7, b'p') => &[Package],
            (7, b'v') => &[Version],
            (7, b's') => &[Section],
            (7, b'd') => &[Depends],
            (8, b'p') => &[Priority, Provides],
            (8, b's') => &[Suggests],
            (8, b'e') => &[Enhances],
            (8, b'r') => &[Replaces],
            (8, b'f') => &[Filename],
            (9, b'e') => &[Essential],
            (9, b'p') => &[Protected],
            (9, b'c') => &[Conflicts],
            (10, b'm') => &[MultiArch],
            (10, b'r') => &[Recommends],
            (11, b'p') => &[PreDepends],
            (12, b'a') => &[Architecture],
            (14, b'i') => &[InstalledSize],
            _ => &[],
        };
        candidates
            .iter()
            .copied()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = "Package: hello\nVersion: 2.10-3\nArchitecture: amd64\nDepends: libc6 (>= 2.34)\nInstalled-Size: 280\nSize: 53100\nSHA256: 0000000000000000000000000000000000000000000000000000000000000001\nFilename: pool/main/h/hello/hello_2.10-3_amd64.deb\n\nPackage: base-files\nEssential: yes\nPriority: required\nVersion: 12.4+deb12u15\nArchitecture: amd64\nMulti-Arch: foreign\nProvides: base\n";

    #[test]
    fn from_name_finds_every_field() {
        for f in Field::ALL {
            let name = f.name();
            for spelling in [name.to_owned(), name.to_lowercase(), name.to_uppercase()] {
                assert_eq!(Field::from_name(&spelling), Some(f), "{spelling}");
            }
            assert_eq!(Field::from_name(&format!("{name}x")), None);
            assert_eq!(Field::from_name(&name[1..]), None);
        }
        for other in [
            "",
            "Description",
            "Maintainer",
            "MD5sum",
            "Homepage",
            "Packages",
        ] {
            assert_eq!(Field::from_name(other), None, "{other}");
        }
    }

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

//! The control member's files: the `control` stanza, `conffiles`, `md5sums` and every other
//! file kept by name. Pure: works on the bytes already taken out of `control.tar`.

use super::DebError;
use crate::deb822::paragraphs;
use crate::index::package_from_paragraph;
use crate::model::Package;
use std::collections::BTreeMap;

/// The names of the maintainer scripts dpkg runs, in the order it documents them.
pub const MAINTAINER_SCRIPTS: [&str; 5] = ["preinst", "postinst", "prerm", "postrm", "config"];

/// One line of `conffiles`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conffile {
    /// The absolute path of the configuration file.
    pub path: String,
    /// `remove-on-upgrade` flag (dpkg ≥ 1.20.1): remove the file on the next upgrade.
    pub remove_on_upgrade: bool,
}

/// One line of `md5sums`: the MD5 of a regular file's content and its path, relative to the
/// root, as written (no leading `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Md5Sum {
    pub md5: [u8; 16],
    /// Raw bytes: dpkg does not require paths to be UTF-8.
    pub path: Vec<u8>,
}

/// What a `.deb`'s control member says.
#[derive(Debug, Clone)]
pub struct Control {
    /// Every regular file of `control.tar`, by name (`control`, `md5sums`, `postinst`, …).
    pub members: BTreeMap<String, Vec<u8>>,
    /// The `control` stanza's fields, in order, values as written (continuation lines kept).
    pub fields: Vec<(String, String)>,
    /// The typed view of the stanza. `filename`, `size` and `sha256` are empty: a `.deb` does not
    /// know where it is stored.
    pub package: Package,
    /// `conffiles`, empty when absent.
    pub conffiles: Vec<Conffile>,
    /// `md5sums`, empty when absent.
    pub md5sums: Vec<Md5Sum>,
}

impl Control {
    /// The value of a control field (case-insensitive name), trimmed.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }

    /// The bytes of a control member file, e.g. `"triggers"`, `"shlibs"`, `"symbols"`, `"templates"`.
    pub fn member(&self, name: &str) -> Option<&[u8]> {
        self.members.get(name).map(Vec::as_slice)
    }

    /// The maintainer scripts present, by name, in [`MAINTAINER_SCRIPTS`] order.
    pub fn maintainer_scripts(&self) -> impl Iterator<Item = (&'static str, &[u8])> + '_ {
        MAINTAINER_SCRIPTS
            .iter()
            .filter_map(|&n| self.member(n).map(|b| (n, b)))
    }

    /// Builds the view from the control member's files.
    pub(crate) fn from_members(members: BTreeMap<String, Vec<u8>>) -> Result<Self, DebError> {
        let control = members
            .get("control")
            .ok_or(DebError::MissingControlFile { file: "control" })?;
        let text = std::str::from_utf8(control).map_err(|e| DebError::NotUtf8 {
            file: "control",
            offset: e.valid_up_to(),
        })?;
        let mut stanzas = paragraphs(text);
        let para = match stanzas.next() {
            Some(p) => p.map_err(|source| DebError::ControlSyntax { source })?,
            None => {
                return Err(DebError::MissingControlFile {
                    file: "control (empty)",
                })
            }
        };
        match stanzas.next() {
            None => {}
            Some(Ok(p)) => return Err(DebError::ExtraStanza { line: p.line }),
            Some(Err(source)) => return Err(DebError::ControlSyntax { source }),
        }
        let package =
            package_from_paragraph(&para).map_err(|source| DebError::ControlFields { source })?;
        let fields = para
            .fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let conffiles = match members.get("conffiles") {
            Some(b) => parse_conffiles(b)?,
            None => Vec::new(),
        };
        let md5sums = match members.get("md5sums") {
            Some(b) => parse_md5sums(b)?,
            None => Vec::new(),
        };
        Ok(Control {
            members,
            fields,
            package,
            conffiles,
            md5sums,
        })
    }
}

/// Parses `conffiles`: one absolute path a line, optionally preceded by flags (`remove-on-upgrade`).
pub(crate) fn parse_conffiles(bytes: &[u8]) -> Result<Vec<Conffile>, DebError> {
    let text = std::str::from_utf8(bytes).map_err(|e| DebError::NotUtf8 {
        file: "conffiles",
        offset: e.valid_up_to(),
    })?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let bad = |what: &'static str| DebError::BadControlFile {
            file: "conffiles",
            line: i + 1,
            what,
        };
        let line = line.trim_end();
        if line.is_empty() {
            continue;
        }
        let (flags, path) = match line.rfind(" /") {
            Some(at) => (&line[..at], &line[at + 1..]),
            None => ("", line),
        };
        if !path.starts_with('/') {
            return Err(bad("path is not absolute"));
        }
        let mut remove_on_upgrade = false;
        for flag in flags.split_whitespace() {
            match flag {
                "remove-on-upgrade" => remove_on_upgrade = true,
                _ => return Err(bad("unknown flag")),
            }
        }
        out.push(Conffile {
            path: path.to_owned(),
            remove_on_upgrade,
        });
    }
    Ok(out)
}

/// Parses `md5sums`: `<32 hex digits><two spaces><path>` a line (`md5sum` output).
pub(crate) fn parse_md5sums(bytes: &[u8]) -> Result<Vec<Md5Sum>, DebError> {
    let mut out = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let bad = |what: &'static str| DebError::BadControlFile {
            file: "md5sums",
            line: i + 1,
            what,
        };
        if line.is_empty() {
            continue;
        }
        if line.len() < 35 || line[32] != b' ' {
            return Err(bad("expected `<md5>  <path>`"));
        }
        let mut md5 = [0u8; 16];
        hex::decode_to_slice(&line[..32], &mut md5)
            .map_err(|_| bad("digest is not 32 hex digits"))?;
        // md5sum writes two spaces (text mode) or a space and a `*` (binary mode).
        let path = match line[33] {
            b' ' | b'*' => &line[34..],
            _ => return Err(bad("expected `<md5>  <path>`")),
        };
        if path.is_empty() {
            return Err(bad("empty path"));
        }
        out.push(Md5Sum {
            md5,
            path: path.to_vec(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conffiles_with_flags() {
        let c = parse_conffiles(b"/etc/a\nremove-on-upgrade /etc/b c\n\n").expect("valid");
        assert_eq!(
            c[0],
            Conffile {
                path: "/etc/a".into(),
                remove_on_upgrade: false
            }
        );
        assert_eq!(
            c[1],
            Conffile {
                path: "/etc/b c".into(),
                remove_on_upgrade: true
            }
        );
        assert!(matches!(
            parse_conffiles(b"etc/a\n"),
            Err(DebError::BadControlFile { line: 1, .. })
        ));
        assert!(matches!(
            parse_conffiles(b"/a\nfrob /etc/a\n"),
            Err(DebError::BadControlFile { line: 2, .. })
        ));
    }

    #[test]
    fn md5sums_lines() {
        let m = parse_md5sums(b"0123456789abcdef0123456789abcdef  usr/bin/x y\n").expect("valid");
        assert_eq!(m[0].path, b"usr/bin/x y");
        assert_eq!(m[0].md5[0], 0x01);
        assert!(matches!(
            parse_md5sums(b"0123  x\n"),
            Err(DebError::BadControlFile { .. })
        ));
        assert!(matches!(
            parse_md5sums(b"0123456789abcdef0123456789abcdeg  x\n"),
            Err(DebError::BadControlFile {
                what: "digest is not 32 hex digits",
                ..
            })
        ));
    }

    #[test]
    fn control_needs_one_stanza() {
        let mut m = BTreeMap::new();
        m.insert(
            "control".to_owned(),
            b"Package: a\nVersion: 1\nArchitecture: all\n\nPackage: b\n".to_vec(),
        );
        assert!(matches!(
            Control::from_members(m.clone()),
            Err(DebError::ExtraStanza { line: 5 })
        ));
        m.insert(
            "control".to_owned(),
            b"Package: a\nVersion: 1\nArchitecture: all\nInstalled-Size: 3\n".to_vec(),
        );
        let c = Control::from_members(m).expect("valid");
        assert_eq!(c.package.installed_size, 3);
        assert_eq!(c.field("version"), Some("1"));
    }
}

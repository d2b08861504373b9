//! The dpkg database of the staged tree, written so dpkg inside it knows every package.
//!
//! Layout as dpkg 1.21 keeps it under `/var/lib/dpkg`: `status` (one stanza per package, sorted
//! by name, `Status: install ok unpacked` until `dpkg --configure -a` runs), `info/<pkg>.list`,
//! `.md5sums` (generated from the archive when the package ships none, as dpkg does),
//! `.conffiles`, maintainer scripts and the other control members, `info/format` (`1`, so dpkg
//! does not try to upgrade the layout), and the trigger interest database (`triggers/File`,
//! `triggers/<name>`) that dpkg would have built while unpacking.
//!
//! `pkg:arch` names are used for `Multi-Arch: same` packages, as dpkg does.

use crate::deb::ControlMember;
use crate::extract::Extracted;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

/// Why the dpkg database could not be written.
#[derive(Debug, thiserror::Error)]
#[error("could not write the dpkg database")]
pub struct DpkgDbError {
    #[source]
    pub source: crate::layout::LayoutError,
}

/// One unpacked package, as the database needs it.
#[derive(Debug, Clone)]
pub(crate) struct DbPackage {
    pub(crate) package: store::Package,
    pub(crate) control: BTreeMap<String, ControlMember>,
    pub(crate) extracted: Extracted,
    /// Paths a later package took over (Replaces): dropped from this package's list.
    pub(crate) taken: BTreeSet<String>,
}

impl DbPackage {
    /// The name dpkg uses for the package's info files.
    pub(crate) fn info_name(&self) -> String {
        if self.package.multi_arch == store::MultiArch::Same {
            format!("{}:{}", self.package.name, self.package.arch)
        } else {
            self.package.name.clone()
        }
    }
}

/// The conffile paths a `conffiles` control member lists (flagged `remove-on-upgrade` ones are
/// not installed, so they are left out).
pub(crate) fn conffile_paths(member: Option<&ControlMember>) -> BTreeSet<String> {
    let Some(member) = member else {
        return BTreeSet::new();
    };
    String::from_utf8_lossy(&member.data)
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let first = words.next()?;
            match words.next() {
                None => Some(first.to_owned()),
                Some(_) => None,
            }
        })
        .collect()
}

/// One `status` stanza (pure).
pub(crate) fn status_stanza(p: &DbPackage, status: &str) -> String {
    let control = p
        .control
        .get("control")
        .map(|m| String::from_utf8_lossy(&m.data).into_owned())
        .unwrap_or_default();
    let mut out = String::new();
    let mut wrote_status = false;
    for line in control.trim_end().lines() {
        if line.trim().is_empty() {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if !wrote_status && line.starts_with("Package:") {
            let _ = writeln!(out, "Status: {status}");
            wrote_status = true;
        }
    }
    let conffiles = conffile_paths(p.control.get("conffiles"));
    if !conffiles.is_empty() {
        out.push_str("Conffiles:\n");
        for c in &conffiles {
            // A conffile the archive did not ship gets dpkg's "obsolete/never shipped" marker.
            let md5 = p
                .extracted
                .conffile_md5
                .get(c)
                .map_or("newconffile", String::as_str);
            let _ = writeln!(out, " {c} {md5}");
        }
    }
    out
}

/// The whole `status` file, sorted by package name then architecture (pure).
pub(crate) fn status_file(pkgs: &[DbPackage], status: &str) -> String {
    let mut sorted: Vec<&DbPackage> = pkgs.iter().collect();
    sorted.sort_by(|a, b| {
        (&a.package.name, &a.package.arch).cmp(&(&b.package.name, &b.package.arch))
    });
    sorted
        .iter()
        .map(|p| status_stanza(p, status))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The trigger interest database: `(file name under triggers/, contents)` (pure).
pub(crate) fn trigger_interests(pkgs: &[DbPackage]) -> BTreeMap<String, String> {
    let mut file: BTreeSet<String> = BTreeSet::new();
    let mut named: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in pkgs {
        let Some(t) = p.control.get("triggers") else {
            continue;
        };
        for line in String::from_utf8_lossy(&t.data).lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let (Some(directive), Some(name)) = (words.next(), words.next()) else {
                continue;
            };
            let who = match directive {
                "interest" | "interest-await" => p.info_name(),
                "interest-noawait" => format!("{}/noawait", p.info_name()),
                _ => continue,
            };
            if name.starts_with('/') {
                file.insert(format!("{name} {who}"));
            } else {
                named.entry(name.to_owned()).or_default().insert(who);
            }
        }
    }
    let mut out = BTreeMap::new();
    if !file.is_empty() {
        out.insert(
            "File".to_owned(),
            file.into_iter().map(|l| l + "\n").collect(),
        );
    }
    for (name, who) in named {
        out.insert(name, who.into_iter().map(|l| l + "\n").collect());
    }
    out
}

/// Every trigger name and file-trigger path some package is interested in, with the names of
/// the interested packages (without `:arch`) (pure).
pub(crate) fn interested_triggers(pkgs: &[DbPackage]) -> Vec<(String, BTreeSet<String>)> {
    let package = |who: &str| {
        let who = who.strip_suffix("/noawait").unwrap_or(who);
        who.split(':').next().unwrap_or(who).to_owned()
    };
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, contents) in trigger_interests(pkgs) {
        for line in contents.lines() {
            let (trigger, who) = if file == "File" {
                match line.split_once(' ') {
                    Some((path, who)) => (path.to_owned(), who),
                    None => continue,
                }
            } else {
                (file.clone(), line)
            };
            out.entry(trigger).or_default().insert(package(who));
        }
    }
    out.into_iter().collect()
}

/// Where the database is written in the staged tree.
const ADMINDIR: &str = "var/lib/dpkg";

fn write(tree: &Path, rel: &str, data: &[u8], mode: u32) -> Result<(), DpkgDbError> {
    crate::layout::write_file(tree, &format!("{ADMINDIR}/{rel}"), data, mode)
        .map_err(|source| DpkgDbError { source })
}

fn mkdir(tree: &Path, rel: &str) -> Result<(), DpkgDbError> {
    crate::layout::ensure_dir(tree, &format!("{ADMINDIR}/{rel}"))
        .map(drop)
        .map_err(|source| DpkgDbError { source })
}

/// dpkg's `arch` file as `dpkg --add-architecture` leaves it: the native architecture, then
/// every foreign one the packages have, one per line; `None` when every package is native or
/// `all` (dpkg has no file then).
pub(crate) fn arch_file<'a>(
    native: &str,
    archs: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let foreign: BTreeSet<&str> = archs
        .into_iter()
        .filter(|a| *a != native && *a != "all")
        .collect();
    if foreign.is_empty() {
        return None;
    }
    let mut text = format!("{native}\n");
    for a in foreign {
        text.push_str(a);
        text.push('\n');
    }
    Some(text)
}

/// Writes dpkg's `arch` file ([`arch_file`]), or removes it for `None`.
pub(crate) fn write_arch_file(tree: &Path, text: Option<&str>) -> Result<(), DpkgDbError> {
    match text {
        Some(t) => write(tree, "arch", t.as_bytes(), 0o644),
        None => {
            let path = tree.join(ADMINDIR).join("arch");
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(DpkgDbError {
                    source: crate::layout::LayoutError::Io {
                        action: "remove",
                        path,
                        source: e,
                    },
                }),
                _ => Ok(()),
            }
        }
    }
}

/// Writes the database into the staged tree's `var/lib/dpkg`, never through a symlink.
pub(crate) fn write_database(
    tree: &Path,
    pkgs: &[DbPackage],
    declared: &[String],
) -> Result<(), DpkgDbError> {
    for d in ["", "info", "updates", "triggers", "alternatives", "parts"] {
        mkdir(tree, d)?;
    }
    write(
        tree,
        "status",
        status_file(pkgs, "install ok unpacked").as_bytes(),
        0o644,
    )?;
    for empty in ["available", "diversions", "statoverride"] {
        write(tree, empty, b"", 0o644)?;
    }
    write(tree, "info/format", b"1\n", 0o644)?;
    let archs = pkgs
        .iter()
        .map(|p| p.package.arch.as_str())
        .chain(declared.iter().map(String::as_str));
    write_arch_file(
        tree,
        arch_file(store::native_architecture(), archs).as_deref(),
    )?;
    write(tree, "triggers/Unincorp", b"", 0o644)?;
    for (name, contents) in trigger_interests(pkgs) {
        write(
            tree,
            &format!("triggers/{name}"),
            contents.as_bytes(),
            0o644,
        )?;
    }
    for p in pkgs {
        let info = p.info_name();
        for (member, m) in &p.control {
            if member == "control" {
                continue;
            }
            let mode = if m.mode & 0o111 != 0 { 0o755 } else { 0o644 };
            write(tree, &format!("info/{info}.{member}"), &m.data, mode)?;
        }
        if !p.control.contains_key("md5sums") && !p.extracted.md5sums.is_empty() {
            let text: String = p
                .extracted
                .md5sums
                .iter()
                .map(|(h, path)| format!("{h}  {path}\n"))
                .collect();
            write(
                tree,
                &format!("info/{info}.md5sums"),
                text.as_bytes(),
                0o644,
            )?;
        }
        let list: String = p
            .extracted
            .list
            .iter()
            .filter(|l| !p.taken.contains(*l))
            .map(|l| format!("{l}\n"))
            .collect();
        write(tree, &format!("info/{info}.list"), list.as_bytes(), 0o644)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(control: &str, members: &[(&str, &str)]) -> DbPackage {
        let para = store::paragraphs(control)
            .next()
            .expect("one stanza")
            .expect("valid");
        let package = store::package_from_paragraph(&para).expect("valid control");
        let mut c = BTreeMap::new();
        c.insert(
            "control".to_owned(),
            ControlMember {
                mode: 0o644,
                data: control.as_bytes().to_vec(),
            },
        );
        for (n, d) in members {
            c.insert(
                (*n).to_owned(),
                ControlMember {
                    mode: 0o644,
                    data: d.as_bytes().to_vec(),
                },
            );
        }
        DbPackage {
            package,
            control: c,
            extracted: Extracted::default(),
            taken: BTreeSet::new(),
        }
    }

    #[test]
    fn status_is_sorted_with_status_after_package_and_conffiles() {
        let mut b = pkg(
            "Package: bbb\nVersion: 1\nArchitecture: amd64\nDescription: b\n more\n",
            &[("conffiles", "/etc/b.conf\nremove-on-upgrade /etc/old\n")],
        );
        b.extracted
            .conffile_md5
            .insert("/etc/b.conf".into(), "0123".into());
        let a = pkg(
            "Package: aaa\nVersion: 2\nArchitecture: all\nMulti-Arch: same\nDescription: a\n",
            &[],
        );
        insta::assert_snapshot!(status_file(&[b, a], "install ok unpacked"), @r"
        Package: aaa
        Status: install ok unpacked
        Version: 2
        Architecture: all
        Multi-Arch: same
        Description: a

        Package: bbb
        Status: install ok unpacked
        Version: 1
        Architecture: amd64
        Description: b
         more
        Conffiles:
         /etc/b.conf 0123
        ");
    }

    #[test]
    fn trigger_interests_split_file_and_named() {
        let a = pkg(
            "Package: libc-bin\nVersion: 1\nArchitecture: amd64\n",
            &[(
                "triggers",
                "# comment\ninterest-noawait ldconfig\nactivate-noawait x\n",
            )],
        );
        let b = pkg(
            "Package: man\nVersion: 1\nArchitecture: amd64\nMulti-Arch: same\n",
            &[("triggers", "interest /usr/share/man\n")],
        );
        let t = trigger_interests(&[a.clone(), b.clone()]);
        assert_eq!(
            t.get("ldconfig").map(String::as_str),
            Some("libc-bin/noawait\n")
        );
        assert_eq!(
            t.get("File").map(String::as_str),
            Some("/usr/share/man man:amd64\n")
        );
        assert_eq!(t.len(), 2);
        assert_eq!(
            interested_triggers(&[a, b]),
            vec![
                (
                    "/usr/share/man".to_owned(),
                    BTreeSet::from(["man".to_owned()])
                ),
                (
                    "ldconfig".to_owned(),
                    BTreeSet::from(["libc-bin".to_owned()])
                )
            ]
        );
    }
}

//! The relation syntax of Debian control fields (deb-control(5)):
//! `a (>= 1) | b:any, c [amd64] <!nocheck>`.

use crate::model::{ArchQualifier, Constraint, Dependency, Op, Relation};

/// A relation that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad relation {text:?}: {what}")]
pub struct RelationError {
    pub text: String,
    pub what: &'static str,
}

fn err(text: &str, what: &'static str) -> RelationError {
    RelationError {
        text: text.trim().chars().take(200).collect(),
        what,
    }
}

/// Parses one relation without alternatives.
pub fn parse_relation(text: &str) -> Result<Relation, RelationError> {
    let r = parse_relation_ref(text)?;
    Ok(Relation {
        name: r.name.to_owned(),
        arch: match r.arch {
            QualifierRef::None => ArchQualifier::None,
            QualifierRef::Any => ArchQualifier::Any,
            QualifierRef::Native => ArchQualifier::Native,
            QualifierRef::Named(a) => ArchQualifier::Named(a.to_owned()),
        },
        constraint: r.constraint.map(|(op, version)| Constraint {
            op,
            version: version.to_owned(),
        }),
    })
}

/// A relation parsed in place: what [`Relation`] holds, borrowed from the field's text (the
/// package table interns these instead of allocating each one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RelationRef<'a> {
    pub(crate) name: &'a str,
    pub(crate) arch: QualifierRef<'a>,
    pub(crate) constraint: Option<(Op, &'a str)>,
}

/// [`ArchQualifier`], borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QualifierRef<'a> {
    None,
    Any,
    Native,
    Named(&'a str),
}

/// Parses one relation without alternatives, borrowing from `text`.
pub(crate) fn parse_relation_ref(text: &str) -> Result<RelationRef<'_>, RelationError> {
    let s = text.trim_ascii();
    // Drop build-profile restrictions `<...>` and architecture restrictions `[...]`: they
    // only occur in source packages and do not change a binary relation's meaning.
    let s = match memchr::memchr2(b'[', b'<', s.as_bytes()) {
        Some(i) if !has(b'(', &s[..i]) || has(b')', &s[..i]) => s[..i].trim_ascii_end(),
        _ => s,
    };
    let (head, constraint) = match memchr::memchr(b'(', s.as_bytes()) {
        Some(open) => {
            let close =
                memchr::memrchr(b')', s.as_bytes()).ok_or_else(|| err(text, "unclosed `(`"))?;
            if close < open || !s[close + 1..].trim_ascii().is_empty() {
                return Err(err(text, "text after `)`"));
            }
            let inner = s[open + 1..close].trim_ascii();
            let (op, rest) = if let Some(r) = inner.strip_prefix("<<") {
                (Op::Lt, r)
            } else if let Some(r) = inner.strip_prefix("<=") {
                (Op::Le, r)
            } else if let Some(r) = inner.strip_prefix(">>") {
                (Op::Gt, r)
            } else if let Some(r) = inner.strip_prefix(">=") {
                (Op::Ge, r)
            } else if let Some(r) = inner.strip_prefix('=') {
                (Op::Eq, r)
            } else if let Some(r) = inner.strip_prefix('<') {
                (Op::Le, r)
            } else if let Some(r) = inner.strip_prefix('>') {
                (Op::Ge, r)
            } else {
                return Err(err(text, "unknown version operator"));
            };
            let version = rest.trim_ascii();
            if version.is_empty() || version.contains(char::is_whitespace) {
                return Err(err(text, "bad version in constraint"));
            }
            (s[..open].trim_ascii_end(), Some((op, version)))
        }
        None => (s, None),
    };
    let (name, arch) = match head.split_once(':') {
        Some((n, "any")) => (n, QualifierRef::Any),
        Some((n, "native")) => (n, QualifierRef::Native),
        Some((n, a)) if valid_arch(a) => (n, QualifierRef::Named(a)),
        Some(_) => return Err(err(text, "bad architecture qualifier")),
        None => (head, QualifierRef::None),
    };
    if !valid_name(name) {
        return Err(err(text, "bad package name"));
    }
    Ok(RelationRef {
        name,
        arch,
        constraint,
    })
}

/// Parses a dependency field (`Depends`, `Pre-Depends`, `Recommends`, …): comma-separated
/// entries, each with `|`-separated alternatives. Empty entries (trailing commas) are skipped.
pub fn parse_dependencies(text: &str) -> Result<Vec<Dependency>, RelationError> {
    // Exact capacities: the index holds hundreds of thousands of these small vectors, and
    // growth by doubling would waste memory (page faults are a visible part of the parse).
    let mut out = Vec::with_capacity(count(b',', text) + 1);
    for entry in entries(text) {
        let mut alternatives = Vec::with_capacity(count(b'|', entry) + 1);
        for alternative in entry.split('|') {
            alternatives.push(parse_relation(alternative)?);
        }
        out.push(Dependency { alternatives });
    }
    Ok(out)
}

/// Parses a field whose entries have no alternatives (`Conflicts`, `Breaks`, `Replaces`,
/// `Provides`).
pub fn parse_relations(text: &str) -> Result<Vec<Relation>, RelationError> {
    let mut out = Vec::with_capacity(count(b',', text) + 1);
    for entry in entries(text) {
        check_no_alternatives(entry)?;
        out.push(parse_relation(entry)?);
    }
    Ok(out)
}

/// The non-empty comma-separated entries of a relation field (trailing commas are allowed).
pub(crate) fn entries(text: &str) -> impl Iterator<Item = &str> {
    text.split(',')
        .filter(|entry| !entry.trim_ascii().is_empty())
}

/// Refuses an entry with alternatives in a field that does not allow them.
pub(crate) fn check_no_alternatives(entry: &str) -> Result<(), RelationError> {
    if has(b'|', entry) {
        return Err(err(entry, "alternatives are not allowed in this field"));
    }
    Ok(())
}

/// Debian policy 5.6.1: lower-case letters, digits, `+`, `-`, `.`; at least two characters,
/// starting alphanumeric. Upper case is accepted because dpkg accepts it in relations.
pub fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 256
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
}

/// Whether `text` contains the byte `b`.
fn has(b: u8, text: &str) -> bool {
    memchr::memchr(b, text.as_bytes()).is_some()
}

/// How many times `text` contains the byte `b`.
fn count(b: u8, text: &str) -> usize {
    memchr::memchr_iter(b, text.as_bytes()).count()
}

fn valid_arch(a: &str) -> bool {
    !a.is_empty() && a.len() <= 64 && a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_the_archive_uses() {
        let deps = parse_dependencies("libc6 (>= 2.34), default-mta | mail-transport-agent, python3:any (<< 3.12),\n foo:amd64").expect("valid");
        assert_eq!(deps.len(), 4);
        assert_eq!(
            deps[0].alternatives[0].constraint,
            Some(Constraint {
                op: Op::Ge,
                version: "2.34".into()
            })
        );
        assert_eq!(deps[1].alternatives.len(), 2);
        assert_eq!(deps[2].alternatives[0].arch, ArchQualifier::Any);
        assert_eq!(
            deps[3].alternatives[0].arch,
            ArchQualifier::Named("amd64".into())
        );
        assert_eq!(deps[1].to_string(), "default-mta | mail-transport-agent");
        let c = parse_relations("libc6-i386:x32, foo (<< 1:2.0-1)").expect("valid");
        assert_eq!(c[0].arch, ArchQualifier::Named("x32".into()));
        assert_eq!(c[1].to_string(), "foo (<< 1:2.0-1)");
    }

    #[test]
    fn obsolete_operators_mean_or_equal() {
        assert_eq!(
            parse_relation("a (< 1)")
                .expect("valid")
                .constraint
                .expect("some")
                .op,
            Op::Le
        );
        assert_eq!(
            parse_relation("a (> 1)")
                .expect("valid")
                .constraint
                .expect("some")
                .op,
            Op::Ge
        );
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "a (>= 1",
            "a (~ 1)",
            "a (>= )",
            "-a",
            "a b",
            "a:",
            "a (>= 1) x",
            "a | b",
        ] {
            assert!(parse_relations(bad).is_err() || bad.is_empty(), "{bad:?}");
        }
        assert!(parse_relation("").is_err());
    }

    #[test]
    fn drops_source_only_restrictions() {
        let r = parse_relation("debhelper (>= 13) [amd64] <!nocheck>").expect("valid");
        assert_eq!(r.to_string(), "debhelper (>= 13)");
    }
}

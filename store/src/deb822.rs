//! A zero-copy deb822 reader: paragraphs of `Field: value` lines with continuation lines.
//!
//! Used for `Packages`, `Release`, `.deb` control files, dpkg `status` files and apt `.sources`.
//! Values borrow from the input; a multi-line value keeps its continuation lines (with their
//! leading space) so callers decide how to fold them.

/// A syntax error, with the 1-based line it is on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {what}")]
pub struct Deb822Error {
    pub line: usize,
    pub what: &'static str,
}

/// One paragraph: its fields in order, and the line it starts on.
#[derive(Debug, Clone, Default)]
pub struct Paragraph<'a> {
    pub line: usize,
    pub fields: Vec<(&'a str, &'a str)>,
}

impl<'a> Paragraph<'a> {
    /// The value of `name` (field names are case-insensitive), trimmed.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }
}

/// Iterates over the paragraphs of `text`.
pub fn paragraphs(text: &str) -> Paragraphs<'_> {
    Paragraphs {
        text,
        pos: 0,
        line: 1,
    }
}

/// Iterator returned by [`paragraphs`].
#[derive(Debug)]
pub struct Paragraphs<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
}

impl<'a> Paragraphs<'a> {
    /// Reads the next paragraph, handing each field to `field` as `(name, raw value)` instead of
    /// collecting them: the `Packages` parser fills fixed slots this way and allocates nothing
    /// per stanza. Returns the line the paragraph starts on, `None` at the end of the text.
    pub fn next_with(
        &mut self,
        mut field: impl FnMut(&'a str, &'a str),
    ) -> Option<Result<usize, Deb822Error>> {
        let text = self.text;
        let bytes = text.as_bytes();
        let mut first_line = None;
        // (name, value start, value end)
        let mut current: Option<(&'a str, usize, usize)> = None;
        while self.pos < bytes.len() {
            let start = self.pos;
            let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
            self.pos = end + 1;
            let line_no = self.line;
            self.line += 1;
            let line = &text[start..end];
            let line = line.strip_suffix('\r').unwrap_or(line);
            if is_blank(line) {
                if let Some(first) = first_line {
                    if let Some((k, vs, ve)) = current.take() {
                        field(k, &text[vs..ve]);
                    }
                    return Some(Ok(first));
                }
                continue;
            }
            let first = line.as_bytes()[0];
            if first == b'#' {
                continue; // comment lines: allowed in .sources files, never in indices
            }
            if first == b' ' || first == b'\t' {
                match current.as_mut() {
                    Some((_, _, ve)) => *ve = start + line.len(),
                    None => {
                        return Some(Err(self.fail(line_no, "continuation line without a field")))
                    }
                }
                continue;
            }
            let Some(colon) = memchr::memchr(b':', line.as_bytes()) else {
                return Some(Err(
                    self.fail(line_no, "line is neither `Field: value` nor a continuation")
                ));
            };
            let name = &line[..colon];
            if name.is_empty()
                || name
                    .bytes()
                    .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
            {
                return Some(Err(self.fail(line_no, "bad field name")));
            }
            if let Some((k, vs, ve)) = current.take() {
                field(k, &text[vs..ve]);
            }
            first_line.get_or_insert(line_no);
            current = Some((name, start + colon + 1, start + line.len()));
        }
        self.pos = bytes.len();
        if let Some((k, vs, ve)) = current.take() {
            field(k, &text[vs..ve]);
        }
        first_line.map(Ok)
    }

    /// Stops the iteration (a syntax error ends it) and describes the error.
    fn fail(&mut self, line: usize, what: &'static str) -> Deb822Error {
        self.pos = self.text.len();
        Deb822Error { line, what }
    }
}

/// Whether a line separates paragraphs (empty or only whitespace). Only a line that starts
/// with whitespace or a non-ASCII byte can be blank, so most lines are decided by one byte.
fn is_blank(line: &str) -> bool {
    match line.as_bytes().first() {
        None => true,
        Some(&b) if b.is_ascii_whitespace() || !b.is_ascii() => line.trim().is_empty(),
        Some(_) => false,
    }
}

impl<'a> Iterator for Paragraphs<'a> {
    type Item = Result<Paragraph<'a>, Deb822Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut fields = Vec::with_capacity(24);
        let line = self.next_with(|k, v| fields.push((k, v)))?;
        Some(line.map(|line| Paragraph { line, fields }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_paragraphs_and_continuations() {
        let text = "Package: a\nDepends: b,\n c\n\n\nPackage: d\r\nDescription: x\n .\n y\n";
        let ps: Vec<_> = paragraphs(text).collect::<Result<_, _>>().expect("valid");
        assert_eq!(ps.len(), 2);
        assert_eq!(ps[0].get("package"), Some("a"));
        assert_eq!(ps[0].get("Depends"), Some("b,\n c"));
        assert_eq!(ps[1].get("Package"), Some("d"));
        assert_eq!(ps[1].line, 6);
        assert_eq!(ps[1].get("Description"), Some("x\n .\n y"));
    }

    #[test]
    fn rejects_garbage() {
        let err = paragraphs(" leading\n")
            .next()
            .expect("an item")
            .expect_err("invalid");
        assert_eq!(err.line, 1);
        let err = paragraphs("A: b\nno colon here\n")
            .next()
            .expect("an item")
            .expect_err("invalid");
        assert_eq!(err.line, 2);
    }
}

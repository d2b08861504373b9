//! Output: one JSON document on stdout with `--json`, otherwise text for people.

use serde::Serialize;

/// Prints `{"error": {"kind", "message", "hint"}}` on stdout.
pub(crate) fn print_json_error(kind: &str, message: &str, hint: Option<&str>) {
    let mut err = serde_json::json!({ "kind": kind, "message": message });
    if let Some(h) = hint {
        err["hint"] = serde_json::Value::String(h.to_owned());
    }
    println!("{}", serde_json::json!({ "error": err }));
}

/// Prints a command's JSON result.
pub(crate) fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Left-aligned columns, for tables.
pub(crate) fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, s)| {
                if i + 1 == r.len() {
                    s.clone()
                } else {
                    format!("{s:<w$}", w = widths[i])
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

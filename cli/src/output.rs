//! Output: one JSON document on stdout with `--json`, otherwise text for people.

use serde::Serialize;
use std::io::IsTerminal;

/// Colour on stderr: only on a terminal, and never with `NO_COLOR` set (no-color.org).
pub(crate) fn stderr_colour() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The human form of a failure: `error: MESSAGE` and, if there is one, `hint: HINT`, with the
/// labels in colour on a terminal.
pub(crate) fn print_error(message: &str, hint: Option<&str>) {
    let (error, help) = if stderr_colour() {
        ("\x1b[1;31merror\x1b[0m", "\x1b[1;36mhint\x1b[0m")
    } else {
        ("error", "hint")
    };
    eprintln!("{error}: {message}");
    if let Some(h) = hint {
        eprintln!("{help}: {h}");
    }
}

/// Prints `{"error": {"kind", "message", "hint"}}` on stdout.
pub(crate) fn print_json_error(kind: &str, message: &str, hint: Option<&str>) {
    let mut err = serde_json::json!({ "kind": kind, "message": message });
    if let Some(h) = hint {
        err["hint"] = serde_json::Value::String(h.to_owned());
    }
    println!("{}", serde_json::json!({ "error": err }));
}

/// Prints a command's JSON result, written as it is serialized (a reader that stops early,
/// like `head`, is not an error).
pub(crate) fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    write_out(|out| {
        let written = serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::from);
        Ok(written.and_then(|()| writeln!(out)))
    })
}

/// Runs `write` on standard output (buffered); a reader that stops early is not an error. Written
/// to the descriptor, not through `Stdout`'s line buffer (which splits large writes), into a pipe
/// widened to 1 MiB where allowed: a long document reaches `tail` in few large writes.
pub(crate) fn write_out(
    write: impl FnOnce(&mut dyn std::io::Write) -> engine::Result<std::io::Result<()>>,
) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::fd::AsFd;
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    lock.flush()?;
    let file = std::fs::File::from(lock.as_fd().try_clone_to_owned()?);
    // Not a pipe, or a limit below 1 MiB: the pipe stays as it is.
    let _ = rustix::pipe::fcntl_setpipe_size(&file, 1 << 20);
    let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
    match write(&mut out)?.and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
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

/// `1.5 KiB`, `23.0 MiB`: sizes for people.
pub(crate) fn human_bytes(b: u64) -> String {
    match b {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

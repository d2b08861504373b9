//! `txn hardware`: a hardware profile, detected from this machine or read from a JSON file,
//! recorded as a profile event. Detection reads sysfs and procfs only, and sorts everything, so
//! the same machine always gives the same profile.

use crate::{Error, ErrorKind, Result};
use journal::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Reads a profile from a JSON file (objects, arrays, strings, integers, booleans; no floats, so
/// that every profile has one canonical encoding in the journal).
pub fn from_file(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!("could not read {}: {e}", path.display()),
        )
    })?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::new(
            ErrorKind::BadProfile,
            format!("{}: not JSON: {e}", path.display()),
        )
    })?;
    convert(&json)
        .map_err(|what| Error::new(ErrorKind::BadProfile, format!("{}: {what}", path.display())))
}

fn convert(v: &serde_json::Value) -> Result<Value, String> {
    Ok(match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Int(
            n.as_i64()
                .ok_or_else(|| format!("{n} is not an integer (write it as a string)"))?,
        ),
        serde_json::Value::String(s) => Value::Str(s.clone()),
        serde_json::Value::Array(a) => {
            Value::List(a.iter().map(convert).collect::<Result<_, _>>()?)
        }
        serde_json::Value::Object(o) => Value::Map(
            o.iter()
                .map(|(k, v)| Ok((k.clone(), convert(v)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

fn read(path: impl AsRef<Path>) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
}

fn entries(dir: impl AsRef<Path>) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn map(items: impl IntoIterator<Item = (&'static str, Value)>) -> Value {
    Value::Map(items.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// The hardware of the machine this runs on ([`detect_in`] of `/`, or of
/// `$PARTICLE_HARDWARE_ROOT`: a directory holding `sys/` and `proc/cpuinfo`, for tests and for
/// describing another machine from a copy of its files).
pub fn detect() -> Value {
    let root = std::env::var_os("PARTICLE_HARDWARE_ROOT")
        .map_or_else(|| "/".into(), std::path::PathBuf::from);
    detect_in(&root)
}

/// PCI devices (class, vendor, device), CPU vendor, model and flags, block devices by kind,
/// network interfaces with their drivers, and sound cards, read from `root`'s `sys/` and
/// `proc/cpuinfo`.
pub fn detect_in(root: &Path) -> Value {
    let pci: Vec<Value> = entries(root.join("sys/bus/pci/devices"))
        .iter()
        .map(|d| {
            let f = |n: &str| Value::Str(read(d.join(n)).unwrap_or_default());
            map([
                (
                    "slot",
                    Value::Str(
                        d.file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                    ),
                ),
                ("class", f("class")),
                ("vendor", f("vendor")),
                ("device", f("device")),
            ])
        })
        .collect();
    let cpuinfo = read(root.join("proc/cpuinfo")).unwrap_or_default();
    let first = cpuinfo.split("\n\n").next().unwrap_or("");
    let field = |name: &str| {
        first
            .lines()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.trim() == name)
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_default()
    };
    let mut flags: Vec<String> = field("flags")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    flags.sort();
    let cpu = map([
        ("vendor", Value::Str(field("vendor_id"))),
        ("model", Value::Str(field("model name"))),
        (
            "count",
            Value::Int(
                cpuinfo.matches("\nprocessor").count() as i64
                    + i64::from(cpuinfo.starts_with("processor")),
            ),
        ),
        (
            "flags",
            Value::List(flags.into_iter().map(Value::Str).collect()),
        ),
    ]);
    let storage: Vec<Value> = entries(root.join("sys/block"))
        .iter()
        .filter_map(|d| {
            let name = d.file_name()?.to_string_lossy().into_owned();
            let kind = if name.starts_with("nvme") {
                "nvme"
            } else if name.starts_with("vd") {
                "virtio"
            } else if name.starts_with("sd") {
                "sata"
            } else if name.starts_with("mmcblk") {
                "mmc"
            } else {
                return None;
            };
            let rotational = read(d.join("queue/rotational")).is_some_and(|r| r == "1");
            Some(map([
                ("name", Value::Str(name)),
                ("kind", Value::Str(kind.into())),
                ("rotational", Value::Bool(rotational)),
            ]))
        })
        .collect();
    let network: Vec<Value> = entries(root.join("sys/class/net"))
        .iter()
        .filter_map(|d| {
            let name = d.file_name()?.to_string_lossy().into_owned();
            let driver = std::fs::read_link(d.join("device/driver")).ok()?;
            Some(map([
                ("name", Value::Str(name)),
                (
                    "driver",
                    Value::Str(
                        driver
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                    ),
                ),
            ]))
        })
        .collect();
    let audio: Vec<Value> = entries(root.join("sys/class/sound"))
        .iter()
        .filter(|d| {
            d.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("card"))
        })
        .map(|d| Value::Str(read(d.join("id")).unwrap_or_default()))
        .collect();
    let mut top = BTreeMap::new();
    top.insert("pci".to_owned(), Value::List(pci));
    top.insert("cpu".to_owned(), cpu);
    top.insert("storage".to_owned(), Value::List(storage));
    top.insert("network".to_owned(), Value::List(network));
    top.insert("audio".to_owned(), Value::List(audio));
    Value::Map(top)
}

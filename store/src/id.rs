//! Digest newtypes: what the store, the journal and the solver use to name content, and the two
//! ids built on them that cross crate boundaries: [`TxnId`] (a journal record) and [`CommitId`]
//! (an OSTree commit).

use std::fmt;

/// 64 hex digits (either case) to 32 bytes; `None` for anything else. Hand-written because the
/// index parse decodes one per package (63,440 for bookworm main) and a table lookup per digit
/// is several times faster than the `hex` crate's general decoder.
fn decode_hex(s: &str) -> Option<[u8; 32]> {
    /// Each byte's value as a hex digit, or 0xff.
    const DIGITS: [u8; 256] = {
        let mut t = [0xff; 256];
        let mut i = 0;
        while i < 10 {
            t[b'0' as usize + i] = i as u8;
            i += 1;
        }
        let mut i = 0;
        while i < 6 {
            t[b'a' as usize + i] = 10 + i as u8;
            t[b'A' as usize + i] = 10 + i as u8;
            i += 1;
        }
        t
    };
    let s: &[u8; 64] = s.as_bytes().try_into().ok()?;
    let mut out = [0u8; 32];
    let mut bad = 0;
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        let (hi, lo) = (DIGITS[usize::from(pair[0])], DIGITS[usize::from(pair[1])]);
        bad |= hi | lo;
        *o = hi << 4 | lo;
    }
    // A valid digit is below 16, so any 0xff leaves its high bits set.
    (bad < 16).then_some(out)
}

/// The lower-case hex digits of 32 bytes.
fn encode_hex(bytes: &[u8; 32]) -> [u8; 64] {
    /// The two digits of every byte.
    const PAIRS: [[u8; 2]; 256] = {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut t = [[0u8; 2]; 256];
        let mut b = 0;
        while b < 256 {
            t[b] = [DIGITS[b >> 4], DIGITS[b & 15]];
            b += 1;
        }
        t
    };
    let mut out = [0u8; 64];
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&PAIRS[usize::from(b)]);
    }
    out
}

macro_rules! digest {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        #[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
        #[rkyv(derive(Debug, PartialEq, Eq, Hash))]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// Parses 64 hex digits.
            pub fn from_hex(s: &str) -> Result<Self, DigestError> {
                decode_hex(s.trim_ascii())
                    .map(Self)
                    .ok_or_else(|| DigestError { kind: stringify!($name), text: s.chars().take(80).collect() })
            }
            /// Lower-case hex, 64 digits.
            pub fn to_hex(&self) -> String {
                String::from_utf8(self.hex_digits().to_vec()).expect("hex digits are ASCII")
            }
            /// Lower-case hex, 64 ASCII digits, without allocating.
            pub fn hex_digits(&self) -> [u8; 64] {
                encode_hex(&self.0)
            }
            /// The first `n` hex digits, for people.
            pub fn short(&self, n: usize) -> String {
                let mut s = self.to_hex();
                s.truncate(n.min(64));
                s
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_hex())
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_hex())
            }
        }
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::from_hex(&s).map_err(serde::de::Error::custom)
            }
        }
        impl std::str::FromStr for $name {
            type Err = DigestError;
            fn from_str(s: &str) -> Result<Self, DigestError> {
                Self::from_hex(s)
            }
        }
    };
}

digest!(
    /// A SHA-256 digest: what Debian's indices name files by.
    Sha256
);
digest!(
    /// A BLAKE3 digest: what particle's store names objects by.
    Blake3
);

impl Sha256 {
    /// SHA-256 of `data`.
    pub fn of(data: &[u8]) -> Self {
        use sha2::Digest;
        Self(sha2::Sha256::digest(data).into())
    }
}

impl Blake3 {
    /// BLAKE3 of `data`.
    pub fn of(data: &[u8]) -> Self {
        Self(*blake3::hash(data).as_bytes())
    }

    /// BLAKE3 of each of `inputs`, in order, into `out` (cleared first): the same hashes as
    /// [`Blake3::of`] one by one, several short inputs at a time where the CPU has vector
    /// lanes for it (see `lanes.rs`).
    pub fn of_each(inputs: &[&[u8]], out: &mut Vec<Blake3>) {
        crate::lanes::hash_each(inputs, out);
    }
}

macro_rules! id_impls {
    ($name:ident, $digest:ident) => {
        impl $name {
            /// Parses 64 hex digits.
            pub fn from_hex(s: &str) -> Result<Self, DigestError> {
                $digest::from_hex(s).map($name)
            }
            /// Lower-case hex, 64 digits.
            pub fn to_hex(&self) -> String {
                self.0.to_hex()
            }
            /// Lower-case hex, 64 ASCII digits, without allocating.
            pub fn hex_digits(&self) -> [u8; 64] {
                self.0.hex_digits()
            }
            /// The first `n` hex digits, for people.
            pub fn short(&self, n: usize) -> String {
                self.0.short(n)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.to_hex())
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0.to_hex())
            }
        }
    };
}

/// A transaction id: BLAKE3 of a journal record's canonical encoding (which includes the previous
/// id, so ids chain). The journal computes them; the materializer records the one a build chains
/// onto (`particle.journal-head`).
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct TxnId(pub Blake3);

impl TxnId {
    /// The id before the first record: 32 zero bytes.
    pub const GENESIS: TxnId = TxnId(Blake3([0; 32]));
}

id_impls!(TxnId, Blake3);

/// An OSTree commit checksum (SHA-256, 64 hex digits on the wire and in JSON): what the
/// materializer builds and the journal records.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct CommitId(pub Sha256);

id_impls!(CommitId, Sha256);

/// A string that is not 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {text:?} is not 64 hex digits")]
pub struct DigestError {
    kind: &'static str,
    text: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_digests_decode_as_the_hex_crate_does() {
        let bytes: Vec<u8> = (0..=255u8).collect();
        for chunk in bytes.chunks(32) {
            let lower = hex::encode(chunk);
            let want: [u8; 32] = chunk.try_into().expect("32 bytes");
            assert_eq!(decode_hex(&lower), Some(want));
            assert_eq!(decode_hex(&lower.to_uppercase()), Some(want));
        }
        let good = "0123456789abcdefABCDEF0123456789abcdef0123456789abcdef0123456789";
        assert!(decode_hex(good).is_some());
        for bad in [&good[1..], "", &format!("{good}0"), &good.replace('9', "g")] {
            assert_eq!(decode_hex(bad), None, "{bad:?}");
        }
        // Non-ASCII of the right byte length, and digits that are not hex.
        assert_eq!(decode_hex(&format!("é{}", &good[2..])), None);
        assert_eq!(decode_hex(&good.replace('0', "/")), None);
        assert!(Sha256::from_hex(&format!(" {good}\n")).is_ok());
    }

    #[test]
    fn ids_print_parse_and_serialize_as_their_hex() {
        let hex = "00ff".repeat(16);
        let txn = TxnId::from_hex(&hex).expect("hex");
        let commit = CommitId::from_hex(&hex).expect("hex");
        assert_eq!((txn.to_hex(), commit.to_hex()), (hex.clone(), hex.clone()));
        assert_eq!(
            (txn.to_string(), commit.short(6)),
            (hex.clone(), "00ff00".into())
        );
        assert_eq!(
            format!("{txn:?} {commit:?}"),
            format!("TxnId({hex}) CommitId({hex})")
        );
        let json = serde_json::to_string(&commit).expect("json");
        assert_eq!(json, format!("\"{hex}\""));
        assert_eq!(serde_json::from_str::<TxnId>(&json).expect("back"), txn);
        assert_eq!(TxnId::GENESIS, TxnId(Blake3::default()));
        assert!(CommitId::from_hex("abc").is_err());
    }
}

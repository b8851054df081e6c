//! Documents: a value, its version and who wrote it when; and the one
//! encoding (bincode 2, serde mode) values are kept in.

use std::{
    borrow::Cow,
    fmt,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use agentix_runtime::AgentName;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use smol_str::SmolStr;

use super::{DecodeError, Key, value_bytes::ValueBytes};

/// Who wrote a version, or holds a lock: an agent (whose locks go when it
/// stops for good) or a caller's label.
///
/// ```
/// use agentix_actors::state::Writer;
///
/// let cli = Writer::label("cli");
/// assert_eq!(cli.name(), "cli");
/// assert!(!cli.is_agent());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Writer {
    // Inline up to 23 bytes: a read copies its document's writer without
    // writing a count that every version this writer wrote shares (two
    // reader threads would contend on it).
    name: SmolStr,
    agent: bool,
}

impl Writer {
    /// An agent, by name: the store releases its locks when it stops for
    /// good.
    pub fn agent(name: &AgentName) -> Self {
        Self {
            name: SmolStr::new(name.as_str()),
            agent: true,
        }
    }

    /// A caller that is not an agent (a test, a CLI, a request handler).
    pub fn label(label: impl Into<Arc<str>>) -> Self {
        Self {
            name: SmolStr::from(label.into()),
            agent: false,
        }
    }

    /// The agent's name or the label.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this is an agent.
    pub fn is_agent(&self) -> bool {
        self.agent
    }
}

impl Default for Writer {
    /// The label `anonymous`.
    fn default() -> Self {
        Self::label("anonymous")
    }
}

impl fmt::Debug for Writer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.agent { "agent" } else { "label" };
        write!(f, "Writer({kind} {:?})", &*self.name)
    }
}

impl fmt::Display for Writer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// Who wrote a version, when, and the writer's tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// Who wrote it.
    pub writer: Writer,
    /// When the store accepted it, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// The writer's free-form tag, if it gave one.
    pub tag: Option<Arc<str>>,
}

impl Meta {
    pub(crate) fn now(writer: Writer, tag: Option<Arc<str>>) -> Self {
        Self {
            writer,
            at_ms: Self::now_ms(),
            tag,
        }
    }

    /// Milliseconds since the Unix epoch (0 before it; saturating).
    pub(crate) fn now_ms() -> u64 {
        let at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_millis();
        u64::try_from(at_ms).unwrap_or(u64::MAX)
    }

    /// When the store accepted it.
    pub fn at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.at_ms)
    }
}

/// One version of a key as the store keeps it: encoded, with the Rust
/// type it was written as. A deleted key's newest version is a tombstone
/// (no value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// 1 for the first write, one more for each accepted write after.
    pub version: u64,
    /// Who wrote it, when, with what tag.
    pub meta: Meta,
    /// The value, encoded; `None` for a tombstone.
    pub value: Option<Encoded>,
}

impl Version {
    /// Whether this version deleted the key.
    pub fn is_tombstone(&self) -> bool {
        self.value.is_none()
    }

    /// The value, decoded as `T`: `Ok(None)` for a tombstone, a
    /// [`DecodeError`] when it was written as another type.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<Option<T>, DecodeError> {
        self.value.as_ref().map(Encoded::decode).transpose()
    }

    /// This version as a typed document of `key` (`Ok(None)` for a
    /// tombstone).
    pub(crate) fn document<T: DeserializeOwned>(
        &self,
        key: &Key,
    ) -> Result<Option<Document<T>>, DecodeError> {
        Ok(self.decode()?.map(|value| Document {
            key: key.clone(),
            version: self.version,
            meta: self.meta.clone(),
            value,
        }))
    }
}

/// A value encoded with bincode (serde mode, standard configuration),
/// tagged with the name of the Rust type it was encoded from, so that
/// reading it as another type is a [`DecodeError::WrongType`] rather than
/// a misread (bincode's bytes do not say their type: a `u32` reads as a
/// `u64`). A string slice counts as a `String`: `&str` and `Vec<&str>`
/// are written as `String` and `Vec<String>`, the types that read them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encoded {
    // Kept inline or shared: a version's copy in the index clones it
    // without allocating.
    type_name: SmolStr,
    bytes: ValueBytes,
}

impl Encoded {
    /// Encodes `value`.
    pub fn new<T: Serialize>(value: &T) -> Result<Self, DecodeError> {
        let config = bincode::config::standard();
        let failed = |error: bincode::error::EncodeError| DecodeError::Encode(error.to_string());
        // Small values go through a buffer on the stack, so that the one
        // allocation is the shared bytes themselves (none when inline).
        let mut small = [0u8; 128];
        let bytes = match bincode::serde::encode_into_slice(value, &mut small, config) {
            Ok(len) => ValueBytes::new(&small[..len]),
            Err(bincode::error::EncodeError::UnexpectedEnd) => {
                bincode::serde::encode_to_vec(value, config)
                    .map_err(failed)?
                    .into()
            }
            Err(error) => return Err(failed(error)),
        };
        Ok(Self {
            type_name: match type_name::<T>() {
                Cow::Borrowed(name) => SmolStr::new_static(name),
                Cow::Owned(name) => SmolStr::from(name),
            },
            bytes,
        })
    }

    /// Decodes the value as `T`.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, DecodeError> {
        let asked = type_name::<T>();
        if self.type_name.as_str() != asked {
            return Err(DecodeError::WrongType {
                stored: self.type_name.to_string(),
                asked: asked.into_owned(),
            });
        }
        self.decode_unchecked()
    }

    /// Decodes as `T` without comparing type names: for reading a value
    /// whose type has been renamed since it was written.
    pub fn decode_unchecked<T: DeserializeOwned>(&self) -> Result<T, DecodeError> {
        let (value, read) =
            bincode::serde::decode_from_slice(&self.bytes, bincode::config::standard())
                .map_err(|error| DecodeError::Decode(error.to_string()))?;
        if read != self.bytes.len() {
            return Err(DecodeError::Decode(format!(
                "{} bytes left over after the value",
                self.bytes.len() - read
            )));
        }
        Ok(value)
    }

    /// The name of the Rust type it was encoded from.
    pub fn type_name(&self) -> &str {
        &self.type_name
    }

    /// The encoded bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for Encoded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Encoded({}, {} bytes)", self.type_name, self.bytes.len())
    }
}

/// A document read from the store: its key, version, metadata and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Document<T> {
    /// Where it is.
    pub key: Key,
    /// Its version: 1 for the first write, one more per accepted write.
    pub version: u64,
    /// Who wrote this version, when, with what tag.
    pub meta: Meta,
    /// The value.
    pub value: T,
}

/// `T`'s name, string slices named as the `String` that reads them.
fn type_name<T>() -> Cow<'static, str> {
    let name = std::any::type_name::<T>();
    if name.contains("&str") {
        Cow::Owned(name.replace("&str", "alloc::string::String"))
    } else {
        Cow::Borrowed(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_values_round_trip() {
        for len in [0, 1, 100, 127, 128, 129, 10_000] {
            let value = "x".repeat(len);
            let encoded = Encoded::new(&value).unwrap();
            assert_eq!(encoded.decode::<String>().unwrap(), value, "{len}");
        }
    }
}

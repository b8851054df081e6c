//! An encoded value's bytes: short ones inline, longer ones shared.

use std::{fmt, ops::Deref, sync::Arc};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The most bytes kept inline: the enum stays three words, like the
/// shared slice plus a tag.
const INLINE: usize = 22;

/// Bytes that most values fit in are kept where their version is, so that
/// a read reaches them without another cache miss (and a write allocates
/// them with the version); longer ones are one shared allocation, cloned
/// by count. Serialized as the byte sequence either way.
#[derive(Clone)]
pub(crate) enum ValueBytes {
    Inline { len: u8, bytes: [u8; INLINE] },
    Shared(Arc<[u8]>),
}

impl ValueBytes {
    pub(crate) fn new(bytes: &[u8]) -> Self {
        match u8::try_from(bytes.len()) {
            Ok(len) if bytes.len() <= INLINE => {
                let mut inline = [0; INLINE];
                inline[..bytes.len()].copy_from_slice(bytes);
                Self::Inline { len, bytes: inline }
            }
            _ => Self::Shared(Arc::from(bytes)),
        }
    }
}

impl From<Vec<u8>> for ValueBytes {
    fn from(bytes: Vec<u8>) -> Self {
        if bytes.len() <= INLINE {
            Self::new(&bytes)
        } else {
            Self::Shared(bytes.into())
        }
    }
}

impl Deref for ValueBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Self::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Self::Shared(bytes) => bytes,
        }
    }
}

impl PartialEq for ValueBytes {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for ValueBytes {}

impl fmt::Debug for ValueBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl Serialize for ValueBytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ValueBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<u8>::deserialize(deserializer).map(Self::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_bytes_read_back_and_serialize_as_a_plain_sequence() {
        for len in [0, 1, INLINE, INLINE + 1, 1000] {
            let raw: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let bytes = ValueBytes::new(&raw);
            assert_eq!(&*bytes, raw.as_slice());
            assert_eq!(matches!(bytes, ValueBytes::Inline { .. }), len <= INLINE);
            let config = bincode::config::standard();
            let encoded = bincode::serde::encode_to_vec(&bytes, config).unwrap();
            let plain = bincode::serde::encode_to_vec(&raw, config).unwrap();
            assert_eq!(encoded, plain, "the same format as a Vec<u8> or Arc<[u8]>");
            let (back, _): (ValueBytes, usize) =
                bincode::serde::decode_from_slice(&encoded, config).unwrap();
            assert_eq!(back, bytes);
            assert_eq!(ValueBytes::from(raw.clone()), bytes);
        }
    }
}

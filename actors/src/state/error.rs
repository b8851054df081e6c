//! What can go wrong with the store, typed.

use std::{fmt, path::PathBuf};

use agentix_runtime::{AskError, SpawnError};

use crate::router::SubscribeError;

use super::{ConflictId, KeyError, Version, Writer};

/// A value that does not decode as the type asked for, or does not encode.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The value was written as another Rust type.
    WrongType {
        /// The type it was written as.
        stored: String,
        /// The type asked for.
        asked: String,
    },
    /// The bytes do not decode as the type (a renamed type read with
    /// [`Encoded::decode_unchecked`](super::Encoded::decode_unchecked)
    /// whose fields changed, say).
    Decode(String),
    /// The value could not be encoded (a serde `Serialize` that fails).
    Encode(String),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongType { stored, asked } => {
                write!(f, "the value was written as `{stored}`, not `{asked}`")
            }
            Self::Decode(why) => write!(f, "the value does not decode: {why}"),
            Self::Encode(why) => write!(f, "the value does not encode: {why}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Why an operation on the store failed. A write that fails was not
/// applied, except after [`Unavailable`](Self::Unavailable), whose outcome
/// is unknown (read the key to learn it).
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The key (or prefix) is invalid.
    Key(KeyError),
    /// A value did not decode as the type asked for, or did not encode.
    Decode(DecodeError),
    /// Compare-and-set: the key's version is not the one expected. Carries
    /// the current version (`None`: the key was never written).
    VersionMismatch {
        /// The version the writer expected.
        expected: u64,
        /// What is there now.
        current: Option<Box<Version>>,
    },
    /// First-writer-wins: the write was based on an older version than the
    /// current one (or was blind while the key exists), and is refused.
    Stale {
        /// What is there now.
        current: Box<Version>,
    },
    /// Manual policy: the write conflicts and is held as an open conflict,
    /// to be resolved by a caller ([`StoreRef::resolve`](super::StoreRef::resolve)).
    Held {
        /// The conflict it is held in.
        conflict: ConflictId,
    },
    /// The write carried a fencing token older than the newest lock
    /// granted on the key: its holder's lease has passed.
    Fenced {
        /// The token the write carried.
        token: u64,
        /// The newest token granted on the key or a prefix of it.
        newest: u64,
    },
    /// `update` met a conflicting write on each of its attempts.
    Contended {
        /// How many times it tried.
        attempts: u32,
    },
    /// The merge policy's function panicked; the write is refused.
    MergeFailed(String),
    /// No open conflict with that id on that key.
    NoSuchConflict(ConflictId),
    /// The lock (or part of the prefix) is held in a mode that excludes
    /// the one asked for.
    LockBusy {
        /// Who holds it.
        holders: Vec<Writer>,
    },
    /// The lock is not held (its lease passed, or it was released).
    LockNotHeld {
        /// Its token.
        token: u64,
    },
    /// A zero lease or deadline, which could never be met.
    ZeroDuration,
    /// The watch's subscription failed.
    Watch(SubscribeError),
    /// The router watchers are served through did not start.
    WatchRouter(SpawnError),
    /// The storage failed to commit or read; nothing of the write is kept.
    Storage(StorageError),
    /// The store's agent did not take or answer the request (stopped,
    /// mailbox full past the deadline, or no answer in time).
    Unavailable(AskError),
}

impl StoreError {
    /// The current document carried by a refused write, decoded as `T`
    /// (`None` when the error carries none, or the key was never written
    /// or is deleted).
    pub fn current<T: serde::de::DeserializeOwned>(&self) -> Option<Result<T, DecodeError>> {
        let current = match self {
            Self::VersionMismatch { current, .. } => current.as_deref()?,
            Self::Stale { current } => current,
            _ => return None,
        };
        current.decode().transpose()
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Key(error) => write!(f, "{error}"),
            Self::Decode(error) => write!(f, "{error}"),
            Self::VersionMismatch { expected, current } => {
                let now = current.as_ref().map_or(0, |current| current.version);
                write!(f, "expected version {expected}, the key is at {now}")
            }
            Self::Stale { current } => write!(
                f,
                "refused by first-writer-wins: the key is at version {}",
                current.version
            ),
            Self::Held { conflict } => write!(f, "held as open conflict {conflict}"),
            Self::Fenced { token, newest } => write!(
                f,
                "fencing token {token} is older than the newest grant {newest}"
            ),
            Self::Contended { attempts } => {
                write!(f, "update lost to another write {attempts} times")
            }
            Self::MergeFailed(why) => write!(f, "the merge function panicked: {why}"),
            Self::NoSuchConflict(id) => write!(f, "no open conflict {id}"),
            Self::LockBusy { holders } => {
                write!(f, "the lock is held by ")?;
                for (i, holder) in holders.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}{holder}")?;
                }
                Ok(())
            }
            Self::LockNotHeld { token } => write!(f, "lock {token} is not held"),
            Self::ZeroDuration => f.write_str("a zero lease or deadline can never be met"),
            Self::Watch(error) => write!(f, "{error}"),
            Self::WatchRouter(error) => write!(f, "the watch router did not start: {error}"),
            Self::Storage(error) => write!(f, "{error}"),
            Self::Unavailable(error) => write!(f, "the store did not answer: {error}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<KeyError> for StoreError {
    fn from(error: KeyError) -> Self {
        Self::Key(error)
    }
}

impl From<DecodeError> for StoreError {
    fn from(error: DecodeError) -> Self {
        Self::Decode(error)
    }
}

impl From<AskError> for StoreError {
    fn from(error: AskError) -> Self {
        Self::Unavailable(error)
    }
}

/// The storage under the store failed: a file that cannot be opened, is
/// not a store, is damaged, or a commit that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorageError {
    /// The file could not be opened or created (permissions, a directory,
    /// in use by another store).
    Open {
        /// The file.
        path: PathBuf,
        /// What the database said.
        reason: String,
    },
    /// The file is not a store: another program's file, or a database of
    /// another layout.
    Foreign {
        /// The file.
        path: PathBuf,
        /// What gave it away.
        reason: String,
    },
    /// The file is a store but part of it does not read back.
    Damaged {
        /// The file.
        path: PathBuf,
        /// What did not read.
        reason: String,
    },
    /// A commit failed; the batch was not written.
    Commit(String),
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open { path, reason } => {
                write!(f, "cannot open state file {}: {reason}", path.display())
            }
            Self::Foreign { path, reason } => {
                write!(f, "{} is not a state store file: {reason}", path.display())
            }
            Self::Damaged { path, reason } => {
                write!(f, "state file {} is damaged: {reason}", path.display())
            }
            Self::Commit(reason) => write!(f, "commit failed: {reason}"),
        }
    }
}

impl std::error::Error for StorageError {}

impl From<StorageError> for StoreError {
    fn from(error: StorageError) -> Self {
        Self::Storage(error)
    }
}

/// The store's errors convert into the facade's `agentix::Error` (as
/// [`Actor`](agentix_runtime::Error::Actor)), so `?` works in a function
/// returning `agentix::Result`.
macro_rules! into_runtime_error {
    ($($error:ty),*) => {$(
        impl From<$error> for agentix_runtime::Error {
            fn from(error: $error) -> Self {
                Self::Actor(Box::new(error))
            }
        }
    )*};
}

into_runtime_error!(
    StoreError,
    DecodeError,
    StorageError,
    KeyError,
    super::OpenError,
    super::SnapshotError
);

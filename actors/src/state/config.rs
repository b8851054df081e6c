//! How a store is set up: its backend, history depth, shards, conflict
//! policies, deadline, and the router its changes are watched through.

use std::{fmt, path::PathBuf, sync::Arc, time::Duration};

use agentix_runtime::{ConfigError, MAX_DURATION};

use super::{Backend, ConflictPolicy, MemoryBackend};
use crate::router::RouterConfig;

/// The most versions a key may keep ([`StoreConfig::history`]).
pub const MAX_HISTORY: usize = 4096;

/// The most shards a store may have ([`StoreConfig::shards`]).
pub const MAX_STORE_SHARDS: usize = 256;

/// Where a store keeps its documents.
#[derive(Clone)]
pub(crate) enum Storage {
    Redb(PathBuf),
    Backend(Arc<dyn Backend>),
}

/// The settings of a state store.
///
/// ```
/// use std::time::Duration;
/// use agentix_actors::state::{ConflictPolicy, StoreConfig};
///
/// let config = StoreConfig::memory()
///     .history(20)
///     .policy("plans", ConflictPolicy::Manual)
///     .policy("counters", ConflictPolicy::merge(|_: Option<&u64>, a: &u64, b: u64| a.max(&b).to_owned()))
///     .timeout(Duration::from_secs(2));
/// assert!(config.validate().is_ok());
/// assert!(StoreConfig::memory().history(usize::MAX).validate().is_err());
/// ```
#[derive(Clone)]
pub struct StoreConfig {
    pub(crate) storage: Storage,
    pub(crate) history: usize,
    pub(crate) shards: usize,
    pub(crate) update_attempts: u32,
    pub(crate) timeout: Duration,
    pub(crate) mailbox: usize,
    pub(crate) policies: Vec<(String, ConflictPolicy)>,
    pub(crate) router: RouterConfig,
}

impl StoreConfig {
    fn with(storage: Storage) -> Self {
        Self {
            storage,
            history: 10,
            shards: 1,
            update_attempts: 16,
            timeout: Duration::from_secs(5),
            mailbox: 4096,
            policies: Vec::new(),
            router: RouterConfig::default(),
        }
    }

    /// A store in memory only: gone when the process ends.
    pub fn memory() -> Self {
        Self::with(Storage::Backend(Arc::new(MemoryBackend)))
    }

    /// A store in the redb file at `path` (created when missing), durable
    /// and crash-safe: the embedded default.
    pub fn redb(path: impl Into<PathBuf>) -> Self {
        Self::with(Storage::Redb(path.into()))
    }

    /// A store on a backend of your own.
    pub fn backend(backend: Arc<dyn Backend>) -> Self {
        Self::with(Storage::Backend(backend))
    }

    /// Versions each key keeps, its current one among them (default 10);
    /// 0 keeps none, and `history` returns nothing. More than
    /// [`MAX_HISTORY`] is a [`ConfigError::TooLarge`].
    pub fn history(mut self, versions: usize) -> Self {
        self.history = versions;
        self
    }

    /// Shards the keys are split over by hash, each an agent on the
    /// swarm's arbiters in turn (default 1). 0 is taken as 1; more than
    /// [`MAX_STORE_SHARDS`] is a [`ConfigError::TooLarge`].
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = shards.max(1);
        self
    }

    /// How often `update` tries before it gives up with
    /// [`StoreError::Contended`](super::StoreError::Contended) (default
    /// 16); 0 is taken as 1.
    pub fn update_attempts(mut self, attempts: u32) -> Self {
        self.update_attempts = attempts.max(1);
        self
    }

    /// How long a request waits for room in a shard's mailbox and for its
    /// answer (default 5 s). Zero is a [`ConfigError::ZeroTimeout`];
    /// longer than [`MAX_DURATION`] is taken as `MAX_DURATION`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.min(MAX_DURATION);
        self
    }

    /// Each shard's mailbox capacity (default 4096). Requests go first to
    /// the shard's inbox (as many as the mailbox, at most 1,024), then to
    /// its mailbox; a request that finds both full waits for room up to
    /// the timeout.
    pub fn mailbox(mut self, capacity: usize) -> Self {
        self.mailbox = capacity;
        self
    }

    /// Sets the conflict policy for keys under `prefix` (the longest
    /// prefix a key is under decides; last-writer-wins elsewhere). An
    /// invalid prefix fails [`validate`](Self::validate) and the store's
    /// start.
    pub fn policy(mut self, prefix: &str, policy: ConflictPolicy) -> Self {
        self.policies.push((prefix.to_owned(), policy));
        self
    }

    /// The settings of the router that watchers are served through,
    /// started by the first watch.
    pub fn watch_router(mut self, config: RouterConfig) -> Self {
        self.router = config;
        self
    }

    /// Checks the settings: what [`StoreRef::open`](super::StoreRef::open)
    /// checks before anything starts.
    pub fn validate(&self) -> Result<(), super::OpenError> {
        let too_large = |setting, requested, max| {
            Err(ConfigError::TooLarge {
                setting,
                requested,
                max,
            }
            .into())
        };
        if self.history > MAX_HISTORY {
            return too_large("state history", self.history, MAX_HISTORY);
        }
        if self.shards > MAX_STORE_SHARDS {
            return too_large("state shards", self.shards, MAX_STORE_SHARDS);
        }
        if self.timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout {
                setting: "state store timeout",
            }
            .into());
        }
        if self.mailbox == 0 {
            return Err(ConfigError::ZeroMailbox.into());
        }
        if self.mailbox > agentix_rules::MAX_MAILBOX {
            return Err(ConfigError::MailboxTooLarge {
                requested: self.mailbox,
            }
            .into());
        }
        for (prefix, _) in &self.policies {
            super::Key::new(prefix)?;
        }
        self.router.validate()?;
        Ok(())
    }
}

impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let storage = match &self.storage {
            Storage::Redb(path) => format!("redb {}", path.display()),
            Storage::Backend(backend) => backend.kind().to_owned(),
        };
        f.debug_struct("StoreConfig")
            .field("storage", &storage)
            .field("history", &self.history)
            .field("shards", &self.shards)
            .field("timeout", &self.timeout)
            .field("policies", &self.policies)
            .finish_non_exhaustive()
    }
}

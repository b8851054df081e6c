//! How a router is set up, and the bounds on what it can be asked to hold:
//! sizes are checked when it starts, durations capped where they are given.

use std::time::Duration;

use agentix_runtime::ConfigError;
use tokio::time::Instant;

/// The largest de-duplication window ([`RouterConfig::dedup_window`]), in
/// message ids, per shard. A full window holds about 40 bytes per id (a
/// hash set entry and a queue slot), so this bound is about 160 MiB.
pub const MAX_DEDUP_WINDOW: usize = 1 << 22;

/// The most shards a router may have ([`RouterRef::start_sharded`]): as
/// many as a swarm may have arbiters
/// ([`MAX_ARBITERS`](agentix_runtime::MAX_ARBITERS)), which shards beyond
/// would only share.
///
/// [`RouterRef::start_sharded`]: super::RouterRef::start_sharded
pub const MAX_SHARDS: usize = 1024;

/// The longest duration the router keeps, the runtime's own: a
/// time-to-live ([`Publish::ttl`](super::Publish::ttl)), acknowledgement
/// timeout ([`Retry::ack_timeout`](super::Retry::ack_timeout)) or backoff
/// ([`Retry::backoff`](super::Retry::backoff)) longer than this is taken
/// as this. About 30 years: "never", in practice, as for a request's
/// timeout; and never a clock overflow, whatever the duration given.
pub const MAX_DURATION: Duration = agentix_runtime::MAX_DURATION;

/// `at + after`, with `after` capped at [`MAX_DURATION`].
pub(crate) fn later(at: Instant, after: Duration) -> Instant {
    // The clock reaches 30 years past any instant a program sees; should
    // it not, `at` is the only instant at hand that is sure to exist.
    at.checked_add(after.min(MAX_DURATION)).unwrap_or(at)
}

/// How a router batches and what it keeps.
///
/// The sizes are checked when the router starts
/// ([`RouterRef::start`](super::RouterRef::start)): one beyond its
/// documented maximum fails the start with a
/// [`ConfigError`](agentix_runtime::ConfigError), before anything is
/// allocated.
///
/// ```
/// use agentix_actors::router::{MAX_DEDUP_WINDOW, RouterConfig};
///
/// let config = RouterConfig::default().max_batch(64).dedup_window(10_000);
/// assert!(config.validate().is_ok());
/// let err = RouterConfig::default().dedup_window(MAX_DEDUP_WINDOW + 1).validate();
/// assert!(err.is_err());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RouterConfig {
    pub(crate) max_batch: usize,
    pub(crate) dedup_window: usize,
    pub(crate) undelivered: usize,
    pub(crate) budget: Option<usize>,
}

impl Default for RouterConfig {
    fn default() -> Self {
        Self {
            // Per mailbox message, a subscriber pays one wake-up and one
            // box; 256 deliveries share them (measured: 64 gave half the
            // fan-out throughput of 256). At low load batches stay small
            // anyway: they leave when the mailbox is drained.
            max_batch: 256,
            dedup_window: 0,
            undelivered: 10_000,
            budget: None,
        }
    }
}

impl RouterConfig {
    /// At most `max` deliveries per batch (default 256, at least 1). A batch
    /// also leaves at the end of the router's turn (its mailbox drained, or
    /// its budget or slice spent), so at low load batches are small and
    /// latency low.
    pub fn max_batch(mut self, max: usize) -> Self {
        self.max_batch = max.max(1);
        self
    }

    /// Drop a message whose id was among the last `window` published
    /// (counted as a duplicate); 0, the default, turns de-duplication off.
    /// At most [`MAX_DEDUP_WINDOW`]: a larger window fails the start with
    /// [`ConfigError::TooLarge`](agentix_runtime::ConfigError::TooLarge).
    /// The window's memory grows with the ids it holds, not with `window`.
    pub fn dedup_window(mut self, window: usize) -> Self {
        self.dedup_window = window;
        self
    }

    /// Publishes (and other messages) each shard handles in one turn
    /// before it lets the other agents of its arbiter run, its subscribers
    /// there among them; default: the swarm's
    /// ([`SwarmConfig::budget`](agentix_runtime::SwarmConfig::budget)).
    /// Open batches leave at the end of every turn, so a budget below
    /// [`max_batch`](Self::max_batch) also caps the batches under load.
    /// 0 fails the start with a [`ConfigError::ZeroBudget`](agentix_runtime::ConfigError::ZeroBudget).
    pub fn budget(mut self, messages: usize) -> Self {
        self.budget = Some(messages);
        self
    }

    /// Keep the last `capacity` undelivered messages for queries and
    /// redrive (default 10,000); all are counted. The store grows as
    /// letters come, up to `capacity`.
    pub fn undelivered(mut self, capacity: usize) -> Self {
        self.undelivered = capacity.max(1);
        self
    }

    /// Whether a router could start with this config: the error its start
    /// would fail with, if not.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.budget == Some(0) {
            return Err(ConfigError::ZeroBudget);
        }
        if self.dedup_window > MAX_DEDUP_WINDOW {
            return Err(ConfigError::TooLarge {
                setting: "dedup_window",
                requested: self.dedup_window,
                max: MAX_DEDUP_WINDOW,
            });
        }
        Ok(())
    }
}

/// Whether `shards` is a shard count a router can start with.
pub(crate) fn check_shards(shards: usize) -> Result<(), ConfigError> {
    if shards > MAX_SHARDS {
        return Err(ConfigError::TooLarge {
            setting: "shards",
            requested: shards,
            max: MAX_SHARDS,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;

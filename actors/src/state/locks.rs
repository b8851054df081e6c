//! Locks with leases and fencing tokens, kept by the store's first shard.
//!
//! A lock covers a key and every key under it. Shared locks go together;
//! an exclusive one excludes every other holder's lock on the same keys.
//! Locks are advisory for writes that carry no token; a write that carries
//! one is refused when a newer grant exists on its key (or a prefix of
//! it), so a holder whose lease passed cannot overwrite its successor.

use std::{
    collections::{BTreeMap, HashMap},
    ops::Bound,
    time::{Duration, Instant},
};

use agentix_runtime::MAX_DURATION;

use super::{Key, StoreError, Writer, key::under};

/// How a lock is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LockMode {
    /// With other shared holders: readers.
    Shared,
    /// Alone: a writer.
    Exclusive,
}

/// A granted lock: its fencing token (larger than every token granted
/// before it by this store, across restarts), what it covers, and until
/// when it is held unless renewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    /// The fencing token: pass it with writes (`Write::fence`).
    pub token: u64,
    /// The key or prefix it covers.
    pub key: Key,
    /// Shared or exclusive.
    pub mode: LockMode,
    /// Who holds it.
    pub holder: Writer,
    /// When the lease ends unless renewed.
    pub expires: Instant,
}

#[derive(Debug, Default)]
pub(crate) struct LockTable {
    held: BTreeMap<Key, Vec<Lock>>,
    by_token: HashMap<u64, Key>,
    newest: u64,
    /// Whether `newest` grew since the last commit.
    grown: bool,
    /// Grants since passed leases were last swept from the whole table.
    since_sweep: usize,
}

/// `lease` from now, saturating at [`MAX_DURATION`].
pub(crate) fn lease_end(lease: Duration) -> Result<Instant, StoreError> {
    if lease.is_zero() {
        return Err(StoreError::ZeroDuration);
    }
    let now = Instant::now();
    Ok(now
        .checked_add(lease.min(MAX_DURATION))
        .unwrap_or(now + Duration::from_secs(86_400)))
}

impl LockTable {
    pub(crate) fn starting_at(newest: u64) -> Self {
        Self {
            newest,
            ..Self::default()
        }
    }

    /// The newest token, when it grew since the last call.
    pub(crate) fn newest_granted(&mut self) -> Option<u64> {
        std::mem::take(&mut self.grown).then_some(self.newest)
    }

    /// Grants a lock on `key`, or says who is in the way.
    pub(crate) fn grant(
        &mut self,
        key: Key,
        mode: LockMode,
        holder: Writer,
        lease: Duration,
    ) -> Result<Lock, StoreError> {
        let expires = lease_end(lease)?;
        let now = Instant::now();
        let mut holders = Vec::new();
        for lock in self.overlapping(&key) {
            let excludes = mode == LockMode::Exclusive || lock.mode == LockMode::Exclusive;
            if lock.expires > now && lock.holder != holder && excludes {
                holders.push(lock.holder.clone());
            }
        }
        if !holders.is_empty() {
            holders.dedup();
            return Err(StoreError::LockBusy { holders });
        }
        self.sweep(now);
        self.newest = self.newest.saturating_add(1);
        self.grown = true;
        let lock = Lock {
            token: self.newest,
            key: key.clone(),
            mode,
            holder,
            expires,
        };
        self.by_token.insert(lock.token, key.clone());
        self.held.entry(key).or_default().push(lock.clone());
        Ok(lock)
    }

    /// Extends a held lock's lease.
    pub(crate) fn renew(&mut self, token: u64, lease: Duration) -> Result<Lock, StoreError> {
        let expires = lease_end(lease)?;
        let now = Instant::now();
        let lock = self
            .by_token
            .get(&token)
            .and_then(|key| self.held.get_mut(key))
            .and_then(|locks| locks.iter_mut().find(|lock| lock.token == token))
            .filter(|lock| lock.expires > now)
            .ok_or(StoreError::LockNotHeld { token })?;
        lock.expires = expires;
        Ok(lock.clone())
    }

    /// Releases a lock; whether it was held (and its lease not passed).
    pub(crate) fn release(&mut self, token: u64) -> bool {
        let Some(key) = self.by_token.remove(&token) else {
            return false;
        };
        let now = Instant::now();
        let mut held = false;
        if let Some(locks) = self.held.get_mut(&key) {
            locks.retain(|lock| {
                let this = lock.token == token;
                held |= this && lock.expires > now;
                !this
            });
            if locks.is_empty() {
                self.held.remove(&key);
            }
        }
        held
    }

    /// Releases every lock `holder` has; how many.
    pub(crate) fn release_all(&mut self, holder: &Writer) -> usize {
        let tokens: Vec<u64> = self
            .held
            .values()
            .flatten()
            .filter(|lock| &lock.holder == holder)
            .map(|lock| lock.token)
            .collect();
        for token in &tokens {
            self.release(*token);
        }
        tokens.len()
    }

    /// Releases the locks of agents `runs` says are gone; how many.
    pub(crate) fn release_gone(&mut self, runs: impl Fn(&str) -> bool) -> usize {
        let gone: Vec<Writer> = (self.held.values().flatten())
            .filter(|lock| lock.holder.is_agent() && !runs(lock.holder.name()))
            .map(|lock| lock.holder.clone())
            .collect();
        gone.iter().map(|holder| self.release_all(holder)).sum()
    }

    /// The locks held now (leases not passed) on `key` or under it.
    pub(crate) fn held(&self, prefix: Option<&Key>) -> Vec<Lock> {
        let now = Instant::now();
        self.held
            .iter()
            .filter(|(key, _)| prefix.is_none_or(|prefix| key.starts_with(prefix)))
            .flat_map(|(_, locks)| locks)
            .filter(|lock| lock.expires > now)
            .cloned()
            .collect()
    }

    /// Locks on `key`, on a key above it, or on a key below it.
    fn overlapping<'a>(&'a self, key: &'a Key) -> impl Iterator<Item = &'a Lock> + 'a {
        let above = key
            .ancestors()
            .filter_map(|path| self.held.get(path))
            .flatten();
        let below = self
            .held
            .range::<str, _>((Bound::Excluded(key.as_str()), Bound::Unbounded))
            .take_while(|(path, _)| path.as_str().starts_with(key.as_str()))
            .filter(|(path, _)| under(path.as_str(), key.as_str()))
            .flat_map(|(_, locks)| locks);
        above.chain(below)
    }

    /// Forgets passed leases, so that the table does not grow with locks
    /// nobody released: a sweep of the whole table once the grants since
    /// the last one outnumber the locks, so its cost is shared out.
    fn sweep(&mut self, now: Instant) {
        self.since_sweep += 1;
        if self.since_sweep < self.by_token.len().max(64) {
            return;
        }
        self.since_sweep = 0;
        let by_token = &mut self.by_token;
        self.held.retain(|_, locks| {
            locks.retain(|lock| {
                let live = lock.expires > now;
                if !live {
                    by_token.remove(&lock.token);
                }
                live
            });
            !locks.is_empty()
        });
    }
}

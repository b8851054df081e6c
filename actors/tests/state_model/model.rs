//! The reference the store is checked against: a map of versioned values
//! with the store's documented rules written out directly, and the
//! operations both are driven by.

use std::collections::BTreeMap;

/// Keys under a first-writer-wins prefix, a last-writer-wins prefix and no
/// policy at all, with nested keys so that prefixes cover more than one.
pub(crate) const KEYS: [&str; 8] = [
    "fww.a", "fww.a.b", "fww.c", "lww.a", "lww.a.b", "lww.c", "d", "d.e",
];

/// `""` is every key; `fww.a` covers `fww.a.b` but not `fww.c`; `x` nothing.
pub(crate) const PREFIXES: [&str; 7] = ["", "fww", "fww.a", "lww", "lww.a", "d", "x"];

/// An operation as generated: keys by index, versions relative to the
/// key's current one, so that a shrunk sequence still means the same.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    Put {
        key: usize,
        value: u64,
    },
    CasRight {
        key: usize,
        value: u64,
    },
    /// Expects `guess` (moved off the current version when they meet).
    CasWrong {
        key: usize,
        guess: u64,
        value: u64,
    },
    Delete {
        key: usize,
    },
    Update {
        key: usize,
        add: u64,
    },
    /// A write based on the version `back` versions before the current.
    Based {
        key: usize,
        back: u64,
        value: u64,
    },
    Get {
        key: usize,
    },
    GetVersion {
        key: usize,
    },
    List {
        prefix: usize,
    },
    History {
        key: usize,
    },
    Snapshot {
        prefix: usize,
    },
    Restore,
}

/// An operation with its arguments settled against the model's state:
/// what the store is called with.
#[derive(Debug, Clone)]
pub(crate) enum Call {
    Put(&'static str, u64),
    Cas(&'static str, u64, u64),
    Delete(&'static str),
    Update(&'static str, u64),
    Based(&'static str, u64, u64),
    Get(&'static str),
    GetVersion(&'static str),
    List(&'static str),
    History(&'static str),
    Snapshot(&'static str),
    Restore,
}

/// Live documents: key, version, value.
pub(crate) type Documents = Vec<(String, u64, u64)>;

/// What an operation answers, in the terms a user checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// `Ok(version)` of a write.
    Written(u64),
    /// Compare-and-set refused: what was expected, the version there (0:
    /// never written) and its value.
    Mismatch {
        expected: u64,
        current: u64,
        value: Option<u64>,
    },
    /// First-writer-wins refused, with the current version and value.
    Stale {
        current: u64,
        value: Option<u64>,
    },
    /// A current value and its version, or absent.
    Read(Option<(u64, u64)>),
    Version(u64),
    Listed(Documents),
    /// Versions newest first (`None`: a tombstone).
    History(Vec<(u64, Option<u64>)>),
    Snapshot(Documents),
    Restored(usize),
    /// A restore before any snapshot: nothing is called.
    NoSnapshot,
}

/// Whether `key` is `prefix` or below it, token-wise.
pub(crate) fn under(key: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || key
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

fn first_writer_wins(key: &str) -> bool {
    under(key, "fww")
}

#[derive(Debug, Clone, Default)]
struct Entry {
    version: u64,
    value: Option<u64>,
    /// Every version ever accepted, newest first, the current one first.
    history: Vec<(u64, Option<u64>)>,
}

#[derive(Debug)]
pub(crate) struct Model {
    keys: BTreeMap<&'static str, Entry>,
    depth: usize,
    snapshot: Option<(&'static str, Documents)>,
}

impl Model {
    /// A model of a store keeping `depth` versions per key.
    pub(crate) fn new(depth: usize) -> Self {
        Self {
            keys: BTreeMap::new(),
            depth,
            snapshot: None,
        }
    }

    fn version(&self, key: &str) -> u64 {
        self.keys.get(key).map_or(0, |entry| entry.version)
    }

    fn value(&self, key: &str) -> Option<u64> {
        self.keys.get(key).and_then(|entry| entry.value)
    }

    /// Settles `op`'s arguments against the current state.
    pub(crate) fn call(&self, op: &Op) -> Call {
        let key = |index: &usize| KEYS[*index];
        match op {
            Op::Put { key: k, value } => Call::Put(key(k), *value),
            Op::CasRight { key: k, value } => Call::Cas(key(k), self.version(key(k)), *value),
            Op::CasWrong {
                key: k,
                guess,
                value,
            } => {
                let current = self.version(key(k));
                let expected = if *guess == current {
                    current + 1
                } else {
                    *guess
                };
                Call::Cas(key(k), expected, *value)
            }
            Op::Delete { key: k } => Call::Delete(key(k)),
            Op::Update { key: k, add } => Call::Update(key(k), *add),
            Op::Based {
                key: k,
                back,
                value,
            } => Call::Based(key(k), self.version(key(k)).saturating_sub(*back), *value),
            Op::Get { key: k } => Call::Get(key(k)),
            Op::GetVersion { key: k } => Call::GetVersion(key(k)),
            Op::List { prefix } => Call::List(PREFIXES[*prefix]),
            Op::History { key: k } => Call::History(key(k)),
            Op::Snapshot { prefix } => Call::Snapshot(PREFIXES[*prefix]),
            Op::Restore => Call::Restore,
        }
    }

    /// One more version of `key`: versions count every accepted write,
    /// tombstones included.
    fn accept(&mut self, key: &'static str, value: Option<u64>) -> Outcome {
        let entry = self.keys.entry(key).or_default();
        entry.version += 1;
        entry.value = value;
        entry.history.insert(0, (entry.version, value));
        Outcome::Written(entry.version)
    }

    fn stale(&self, key: &str) -> Outcome {
        Outcome::Stale {
            current: self.version(key),
            value: self.value(key),
        }
    }

    fn live(&self, prefix: &str) -> Documents {
        (self.keys.iter())
            .filter(|(key, _)| under(key, prefix))
            .filter_map(|(key, entry)| Some(((*key).to_owned(), entry.version, entry.value?)))
            .collect()
    }

    /// What the store should answer to `call`, and the state after it.
    pub(crate) fn apply(&mut self, call: &Call) -> Outcome {
        match *call {
            // A blind write to a live key is a conflict under
            // first-writer-wins only; a deleted key takes it.
            Call::Put(key, value) => {
                if first_writer_wins(key) && self.value(key).is_some() {
                    self.stale(key)
                } else {
                    self.accept(key, Some(value))
                }
            }
            Call::Cas(key, expected, value) => {
                let current = self.version(key);
                if expected == current {
                    self.accept(key, Some(value))
                } else {
                    let value = self.value(key);
                    Outcome::Mismatch {
                        expected,
                        current,
                        value,
                    }
                }
            }
            // A delete is a blind write of a tombstone: nothing to delete
            // writes nothing, and first-writer-wins refuses it on a live key.
            Call::Delete(key) => match self.value(key) {
                None => Outcome::Written(self.version(key)),
                Some(_) if first_writer_wins(key) => self.stale(key),
                Some(_) => self.accept(key, None),
            },
            Call::Update(key, add) => {
                let next = self.value(key).map_or(add, |old| old + add);
                self.accept(key, Some(next))
            }
            Call::Based(key, based_on, value) => {
                if based_on != self.version(key) && first_writer_wins(key) {
                    self.stale(key)
                } else {
                    self.accept(key, Some(value))
                }
            }
            Call::Get(key) => {
                Outcome::Read(self.value(key).map(|value| (self.version(key), value)))
            }
            Call::GetVersion(key) => Outcome::Version(self.version(key)),
            Call::List(prefix) => Outcome::Listed(self.live(prefix)),
            Call::History(key) => Outcome::History(self.history(key)),
            Call::Snapshot(prefix) => {
                let entries = self.live(prefix);
                self.snapshot = Some((prefix, entries.clone()));
                Outcome::Snapshot(entries)
            }
            Call::Restore => self.restore(),
        }
    }

    fn history(&self, key: &str) -> Vec<(u64, Option<u64>)> {
        let kept = self.keys.get(key).map_or(&[][..], |entry| &entry.history);
        kept.iter().take(self.depth).copied().collect()
    }

    /// Every key under the snapshot's prefix whose live value differs from
    /// the snapshot's gets a new version with it (a tombstone for a key
    /// the snapshot lacks), whatever the key's policy.
    fn restore(&mut self) -> Outcome {
        let Some((prefix, entries)) = self.snapshot.clone() else {
            return Outcome::NoSnapshot;
        };
        let mut restored = 0;
        for key in KEYS.into_iter().filter(|key| under(key, prefix)) {
            let target = (entries.iter())
                .find(|(kept, _, _)| kept == key)
                .map(|(_, _, value)| *value);
            if self.value(key) != target {
                self.accept(key, target);
                restored += 1;
            }
        }
        Outcome::Restored(restored)
    }

    /// The calls that read back everything the model knows: each key's
    /// version, value and history, and the whole listing.
    pub(crate) fn everything() -> Vec<Call> {
        let mut calls = vec![Call::List("")];
        for key in KEYS {
            calls.extend([Call::GetVersion(key), Call::Get(key), Call::History(key)]);
        }
        calls
    }
}

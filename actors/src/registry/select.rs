//! Finding and selecting agents: queries over capabilities and tags, and
//! the strategies that pick one agent for a job.

use std::{
    sync::{Arc, atomic::Ordering},
    time::Instant,
};

use agentix_runtime::{Agent, AgentName};

use super::{
    Entry, Label, LabelError, LookupError,
    index::{Candidates, Key},
};

/// Which agents a find or a selection is about: all of its capabilities,
/// all of its tags (at least one of either). Invalid labels are reported
/// by the find or selection.
///
/// ```
/// use agentix_actors::registry::Query;
///
/// let query = Query::capability("summarize").and_capability("translate").tag("eu");
/// # let _ = query;
/// ```
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub(crate) keys: Vec<Key>,
    pub(crate) invalid: Option<LabelError>,
}

impl Query {
    /// Agents with `capability`.
    pub fn capability(capability: &str) -> Self {
        Self::default().and_capability(capability)
    }

    /// Agents with `tag`.
    pub fn with_tag(tag: &str) -> Self {
        Self::default().tag(tag)
    }

    /// And with `capability`.
    pub fn and_capability(mut self, capability: &str) -> Self {
        self.push(capability, Key::Capability);
        self
    }

    /// And with `tag`.
    pub fn tag(mut self, tag: &str) -> Self {
        self.push(tag, Key::Tag);
        self
    }

    fn push(&mut self, label: &str, key: fn(Label) -> Key) {
        match Label::new(label) {
            Ok(label) => self.keys.push(key(label)),
            Err(err) => {
                self.invalid.get_or_insert(err);
            }
        }
    }

    pub(crate) fn admits(&self, entry: &Entry) -> bool {
        self.keys.iter().all(|key| match key {
            Key::Capability(label) => entry.has_capability(label),
            Key::Tag(label) => entry.has_tag(label),
        })
    }
}

/// How [`RegistryRef::select`](super::RegistryRef::select) picks among the
/// available agents (running, not unhealthy, under their limit) that match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Selection {
    /// Each in turn.
    RoundRobin,
    /// The one with the fewest selections outstanding, relative to its
    /// limit. Over more than 16 candidates, the better of two
    /// picked at random ("power of two choices"): constant time, and
    /// within a small factor of the true minimum in load spread.
    #[default]
    LeastLoaded,
    /// Uniformly at random.
    Random,
    /// The highest [`Entry::score`] (load, success rate and response
    /// time), sampled like least-loaded over many candidates; scores
    /// within 0.05 of each other count as equal.
    BestScore,
}

/// Candidate lists up to this length are scanned whole by the least-loaded
/// and best-score strategies.
pub(crate) const EXACT_UP_TO: usize = 16;

/// Scores within this share of each other count as equal for best-score
/// selection, so that agents whose scores differ by noise (a microsecond of
/// response time) share the work, and each keeps being measured.
pub(crate) const SCORE_TIE: f64 = 0.05;

/// How many random picks a sampled strategy tries to find two available
/// agents before it scans.
const SAMPLE_TRIES: usize = 8;

/// An agent picked for a job. Counts as outstanding load until it is
/// [`finish`](Self::finish)ed or dropped; finishing also reports the
/// outcome, which best-score selection learns from.
#[must_use = "a selection counts as load until finished or dropped"]
#[derive(Debug)]
pub struct Selected {
    entry: Arc<Entry>,
    since: Instant,
    open: bool,
}

impl Selected {
    pub(crate) fn new(entry: Arc<Entry>) -> Self {
        entry.begin();
        Self {
            entry,
            since: Instant::now(),
            open: true,
        }
    }

    /// The agent's entry.
    pub fn entry(&self) -> &Arc<Entry> {
        &self.entry
    }

    /// The name it is registered under.
    pub fn name(&self) -> &AgentName {
        self.entry.name()
    }

    /// The agent, as its typed reference.
    pub fn agent<A: Agent>(&self) -> Result<A::Ref, LookupError> {
        self.entry.agent::<A>()
    }

    /// The job is done: the load drops, and the outcome and the time since
    /// the selection feed the success rate and response time.
    pub fn finish(mut self, success: bool) {
        self.open = false;
        self.entry.record(success, self.since.elapsed());
        self.entry.end();
    }
}

impl Drop for Selected {
    fn drop(&mut self) {
        // Abandoned without an outcome: only the load goes.
        if self.open {
            self.entry.end();
        }
    }
}

/// Load relative to the limit, comparable across agents.
fn load_ratio(entry: &Entry) -> f64 {
    f64::from(entry.load()) / f64::from(entry.limit().unwrap_or(u32::MAX))
}

/// Picks one available entry of `candidates` that `query` admits.
pub(crate) fn pick(
    candidates: &Candidates,
    query: &Query,
    strategy: Selection,
) -> Option<Arc<Entry>> {
    let entries = &candidates.entries;
    // The list is one of the query's own labels: a single-label query
    // needs no further check.
    let single = query.keys.len() == 1;
    let fits = |entry: &&Arc<Entry>| entry.selectable() && (single || query.admits(entry));
    let fits_running = |entry: &&Arc<Entry>| fits(entry) && !entry.is_gone();
    let n = entries.len();
    match strategy {
        Selection::RoundRobin => {
            let start = candidates.cursor.fetch_add(1, Ordering::Relaxed);
            (0..n)
                .map(|i| &entries[(start + i) % n])
                .find(fits_running)
                .cloned()
        }
        Selection::Random => {
            let start = fastrand::usize(..n);
            (0..n)
                .map(|i| &entries[(start + i) % n])
                .find(fits_running)
                .cloned()
        }
        Selection::LeastLoaded => best_of(entries, fits, fits_running, |e| -load_ratio(e), 0.0),
        Selection::BestScore => best_of(entries, fits, fits_running, Entry::score, SCORE_TIE),
    }
}

/// The entry with the highest `value`: all of them when few, else the
/// better of two random available ones.
fn best_of(
    entries: &[Arc<Entry>],
    fits: impl Fn(&&Arc<Entry>) -> bool,
    fits_running: impl Fn(&&Arc<Entry>) -> bool,
    value: impl Fn(&Entry) -> f64,
    tie: f64,
) -> Option<Arc<Entry>> {
    // `a` wins only by more than the tie margin: otherwise the one met
    // first, in random order, does.
    let better = |a: &Arc<Entry>, b: &Arc<Entry>| value(a).total_cmp(&(value(b) * (1.0 + tie)));
    if entries.len() > EXACT_UP_TO {
        let mut two = (0..SAMPLE_TRIES)
            .map(|_| &entries[fastrand::usize(..entries.len())])
            .filter(&fits)
            .take(2);
        if let Some(first) = two.next() {
            let best = match two.next() {
                Some(second) if better(second, first).is_gt() => second,
                _ => first,
            };
            if !best.is_gone() {
                return Some(best.clone());
            }
        }
    }
    // Few candidates, or the samples found none available: look at all,
    // from a random place, so that ties (all idle, say) are spread rather
    // than always won by the same agent.
    let start = fastrand::usize(..entries.len().max(1));
    let mut best: Option<&Arc<Entry>> = None;
    for i in 0..entries.len() {
        let entry = &entries[(start + i) % entries.len()];
        if fits_running(&entry) && best.is_none_or(|best| better(entry, best).is_gt()) {
            best = Some(entry);
        }
    }
    best.cloned()
}

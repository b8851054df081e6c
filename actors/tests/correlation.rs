//! One request followed through the swarm: every handled message runs in a
//! span naming the agent, the message type and the correlation id, and the
//! id travels with tells and asks sent from handlers and across the router.
//! Its own test binary: the capturing subscriber is process-wide.

use std::{
    collections::HashMap,
    sync::{Mutex, OnceLock},
};

use tokio::sync::mpsc;

use agentix::{
    CorrelationId,
    actors::{
        handle_deliveries,
        router::{Envelope, RouterConfig, RouterRef},
    },
    correlation,
    prelude::*,
};
use tracing::{
    Subscriber,
    field::{Field, Visit},
    span::{Attributes, Id, Record},
};
use tracing_subscriber::{Layer, layer::Context, prelude::*, registry::LookupSpan};

/// What a `handle` span said: its message type and correlation id.
#[derive(Debug, Clone, Default, PartialEq)]
struct Seen {
    agent: String,
    message: String,
    correlation: Option<String>,
}

impl Visit for Seen {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let value = format!("{value:?}").trim_matches('"').to_owned();
        match field.name() {
            "agent" => self.agent = value,
            "message" => self.message = value,
            "correlation" => self.correlation = Some(value),
            _ => {}
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.record_debug(field, &value);
    }
}

/// Keeps every span named `handle`, by id while open, in a list once closed.
#[derive(Default)]
struct Capture {
    open: Mutex<HashMap<Id, Seen>>,
    closed: Mutex<Vec<Seen>>,
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for &'static Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        if attrs.metadata().name() == "handle" {
            let mut seen = Seen::default();
            attrs.record(&mut seen);
            self.open.lock().unwrap().insert(id.clone(), seen);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        if let Some(seen) = self.open.lock().unwrap().get_mut(id) {
            values.record(seen);
        }
    }

    fn on_close(&self, id: Id, _: Context<'_, S>) {
        if let Some(seen) = self.open.lock().unwrap().remove(&id) {
            self.closed.lock().unwrap().push(seen);
        }
    }
}

fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture: &'static Capture = Box::leak(Box::default());
        tracing_subscriber::registry().with(capture).init();
        capture
    })
}

/// The spans of handled `message`s (a type name suffix), in the order
/// they closed.
fn spans_of(message: &str) -> Vec<Seen> {
    let closed = capture().closed.lock().unwrap();
    closed
        .iter()
        .filter(|s| s.message.ends_with(message))
        .cloned()
        .collect()
}

#[derive(Agent)]
struct Last {
    done: mpsc::UnboundedSender<u32>,
}

#[handlers]
impl Last {
    #[handle]
    fn finish(&mut self, n: u32) -> u32 {
        let _ = self.done.send(n);
        n
    }
}

/// Waits until `last` has finished `n`.
async fn finished(done: &mut mpsc::UnboundedReceiver<u32>, n: u32) {
    let wait = async {
        while let Some(seen) = done.recv().await {
            if seen == n {
                return;
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(5), wait)
        .await
        .unwrap_or_else(|_| panic!("{n} was never finished"));
}

#[derive(Agent)]
struct Middle {
    last: LastRef,
}

#[handlers]
impl Middle {
    #[handle]
    fn step(&mut self, n: u32) {
        let _ = self.last.tell(Finish { n });
    }
}

/// A subscriber handling one delivery at a time, passing each on.
#[derive(Agent)]
struct Listener {
    last: LastRef,
}

impl Listener {
    fn on_delivery(&mut self, envelope: &Envelope<u32>, _: &mut AgentContext<Self>) {
        let n = *envelope.payload();
        let _ = self.last.tell(Finish { n });
    }
}

handle_deliveries!(Listener: u32 => on_delivery);

#[agentix::test]
async fn one_request_is_followed_across_tells_asks_and_the_router() {
    capture();
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
    let (tx, mut done) = mpsc::unbounded_channel();
    let last = swarm
        .spawn("last", move || Last { done: tx.clone() })
        .await
        .unwrap();
    let middle = swarm
        .spawn("middle", {
            let last = last.clone();
            move || Middle { last: last.clone() }
        })
        .await
        .unwrap();

    // A tell, and the tell its handler sends.
    let id = CorrelationId::new(0xbeef).unwrap();
    correlation::scope(id, || middle.tell(Step { n: 1 })).unwrap();
    finished(&mut done, 1).await;
    // An ask: its handler runs with the id too.
    let ask = correlation::scope(id, || last.finish(2));
    assert_eq!(ask.await.unwrap(), 2);
    // Without a scope, nothing is carried.
    assert_eq!(last.finish(3).await.unwrap(), 3);

    // Across the router: the publish takes the current id, the delivery
    // handler runs with it, and what it sends carries it on.
    let router = RouterRef::<u32>::start(&swarm, RouterConfig::default())
        .await
        .unwrap();
    let listener = swarm
        .spawn("listener", {
            let last = last.clone();
            move || Listener { last: last.clone() }
        })
        .await
        .unwrap();
    router.subscribe("jobs.>", &listener).await.unwrap();
    let routed = CorrelationId::new(0xcafe).unwrap();
    correlation::scope(routed, || router.publish("jobs.eu", 4)).unwrap();
    finished(&mut done, 4).await;
    swarm.shutdown().await.unwrap();

    let ids = |spans: Vec<Seen>| -> Vec<Option<String>> {
        spans.into_iter().map(|s| s.correlation).collect()
    };
    let beef = Some(id.to_string());
    let cafe = Some(routed.to_string());
    assert_eq!(ids(spans_of("::Step")), std::slice::from_ref(&beef));
    assert_eq!(
        ids(spans_of("::Finish")),
        [beef.clone(), beef, None, cafe],
        "tell from a handler, ask, plain ask, after the router"
    );
    let steps = spans_of("::Step");
    assert_eq!(steps[0].agent, "middle", "the span names the agent");
}

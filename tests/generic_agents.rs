//! A generic agent is an agent like any other: spawned, told and asked
//! through its generated reference, and restarted in place after a panic,
//! with each instantiation typed by its own parameter.

use std::fmt::Debug;

use agentix::prelude::*;

/// Generic over what it stacks; the messages that name `T` are generic too.
#[derive(Agent)]
struct Stack<T: Send + Clone + Debug> {
    items: Vec<T>,
    /// Which incarnation this state was built for: the factory counts.
    incarnation: u32,
}

#[handlers]
impl<T: Send + Clone + Debug> Stack<T> {
    #[handle]
    fn push(&mut self, item: T) {
        self.items.push(item);
    }

    #[handle]
    fn pop(&mut self) -> Option<T> {
        self.items.pop()
    }

    #[handle]
    fn items(&mut self) -> Vec<T> {
        self.items.clone()
    }

    #[handle]
    fn incarnation(&mut self) -> u32 {
        self.incarnation
    }

    #[handle]
    fn boom(&mut self, why: String) {
        panic!("{why}: {:?}", self.items)
    }
}

/// A factory that numbers the incarnations it builds.
fn stack<T: Send + Clone + Debug + 'static>() -> impl Fn() -> Stack<T> + Send + Sync + 'static {
    let built = std::sync::atomic::AtomicU32::new(0);
    move || Stack {
        items: Vec::new(),
        incarnation: built.fetch_add(1, std::sync::atomic::Ordering::SeqCst),
    }
}

#[agentix::test]
async fn a_generic_agent_is_told_and_asked_through_its_typed_reference() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let numbers: StackRef<u64> = swarm.spawn("numbers", stack::<u64>()).await.unwrap();
    let words: StackRef<String> = swarm.spawn("words", stack::<String>()).await.unwrap();

    numbers.tell(Push { item: 1 }).unwrap();
    numbers.push(2).await.unwrap();
    words.push("a".to_owned()).await.unwrap();

    assert_eq!(numbers.items().await.unwrap(), vec![1, 2]);
    assert_eq!(numbers.pop().await.unwrap(), Some(2));
    assert_eq!(words.pop().await.unwrap().as_deref(), Some("a"));
    assert_eq!(numbers.kind(), "stack");
    assert_eq!(words.kind(), "stack");
    swarm.shutdown().await.unwrap();
}

#[agentix::test]
async fn a_generic_agent_that_panics_restarts_at_the_same_address_with_fresh_state() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1)).unwrap();
    let agent: StackRef<String> = swarm.spawn("stack", stack::<String>()).await.unwrap();
    let kept = agent.clone();
    agent.push("before".to_owned()).await.unwrap();

    let err = agent.boom("on purpose".to_owned()).await.unwrap_err();
    assert!(
        err.to_string().contains("on purpose"),
        "the caller gets the panic: {err}"
    );

    // The reference taken before the panic reaches the new incarnation.
    assert_eq!(kept.incarnation().await.unwrap(), 1);
    assert!(kept.items().await.unwrap().is_empty(), "fresh state");
    kept.push("after".to_owned()).await.unwrap();
    assert_eq!(agent.items().await.unwrap(), vec!["after".to_owned()]);
    assert_eq!(agent.restarts(), 1);
    assert_eq!(agent, kept);
    assert_eq!(agent.status(), AgentStatus::Running);
    swarm.shutdown().await.unwrap();
}

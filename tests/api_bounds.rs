//! Static guarantees of the public API: what is `Send`, `Sync`, `Clone`,
//! and which errors are `std::error::Error + Send + Sync + 'static`. A
//! change that loses one of these fails to compile here.

use std::future::Future;

use agentix::{
    Ask, AskError, Call, ConfigError, DeadLetter, Error, Failure, NameError, SendError,
    ShutdownError, SpawnError, prelude::*,
};

#[derive(Agent, Default)]
struct Bounded;

#[handlers]
impl Bounded {
    #[handle]
    fn ping(&mut self) -> u32 {
        1
    }
}

struct NotSync(#[allow(dead_code)] std::cell::Cell<u8>);

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>() {}
fn clone<T: Clone>() {}
fn error<T: std::error::Error + Send + Sync + 'static>() {}
fn spawnable<F: Future + Send + 'static>(_: F) {}

#[test]
fn references_swarms_and_records_cross_threads() {
    send_sync::<AgentRef<Bounded>>();
    send_sync::<BoundedRef>();
    send_sync::<Swarm>();
    send_sync::<SwarmConfig>();
    send_sync::<Failure>();
    send_sync::<ExitReason>();
    send::<DeadLetter>();
    clone::<AgentRef<Bounded>>();
    clone::<BoundedRef>();
    clone::<Swarm>();
}

#[test]
fn every_error_is_a_std_error_that_crosses_threads() {
    error::<Error>();
    error::<AskError>();
    error::<AskError<std::io::Error>>();
    error::<SendError<String>>();
    error::<SpawnError>();
    error::<ConfigError>();
    error::<NameError>();
    error::<ShutdownError>();
    error::<Failure>();
}

#[test]
fn a_send_error_is_send_even_for_a_message_that_is_not_sync() {
    send::<SendError<NotSync>>();
}

#[test]
fn requests_can_be_spawned_onto_any_task() {
    fn check(agent: BoundedRef) {
        spawnable(async move { agent.ping().await });
    }
    send::<Ask<'static, Bounded, Ping>>();
    send::<Call<'static, Bounded, Ping>>();
    let _ = check;
}

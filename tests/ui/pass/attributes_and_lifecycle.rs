//! Every `#[agent]` key, a custom lifecycle, an enum agent, two handler
//! blocks, a hand-written handler next to generated ones.
use agentix::prelude::*;

#[derive(Agent)]
#[agent(kind = "light-switch", mailbox = 16, restart = "permanent", keep_state, ask_timeout_ms = 250, lifecycle)]
enum Switch {
    On,
    Off,
}

impl Lifecycle for Switch {
    fn started(&mut self, _ctx: &mut AgentContext<Self>) {}
    fn restarted(&mut self, cause: &ExitReason, _ctx: &mut AgentContext<Self>) {
        let _ = cause.failure();
    }
}

#[handlers]
impl Switch {
    #[handle]
    fn flip(&mut self) -> bool {
        *self = match self {
            Self::On => Self::Off,
            Self::Off => Self::On,
        };
        matches!(self, Self::On)
    }
}

#[handlers]
impl Switch {
    #[handle]
    fn is_on(&mut self) -> bool {
        matches!(self, Self::On)
    }
}

struct Raw;

impl agentix::actix::Message for Raw {
    type Result = u8;
}

impl agentix::actix::Handler<Raw> for Switch {
    type Result = u8;
    fn handle(&mut self, _: Raw, _: &mut AgentContext<Self>) -> u8 {
        7
    }
}

fn main() {
    assert_eq!(<Switch as Agent>::KIND, "light-switch");
    assert_eq!(<Switch as Agent>::MAILBOX, Some(16));
    assert_eq!(<Switch as Agent>::RESTART, Restart::Permanent);
    assert!(<Switch as Agent>::KEEP_STATE);
    assert_eq!(<Switch as Agent>::ASK_TIMEOUT, Some(std::time::Duration::from_millis(250)));
    fn _uses(switch: &SwitchRef) {
        let _ = switch.flip();
        let _ = switch.is_on();
        let _ = switch.call(Raw);
    }
}

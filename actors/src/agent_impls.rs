//! The impls `#[derive(Agent)]` writes, for the built-in agents: this crate
//! cannot use the derive (its expansion names the `agentix` facade, which
//! depends on this crate), and the router's agents are generic over their
//! payload type, which the derive does not take.

/// Implements `actix::Actor`, `actix::Supervised` and `Agent` for
/// `$agent<M>`: a permanent agent whose state survives a restart (the
/// router's subscriptions, the dead letters kept), of kind `$kind`. The
/// agent implements `Lifecycle` itself.
///
/// `@plain $agent` does the same for a type without the payload parameter.
macro_rules! generic_agent {
    (@plain $agent:ident, $kind:literal) => {
        generic_agent!(@impls [] $agent, $kind);
    };
    ($agent:ident, $kind:literal) => {
        generic_agent!(@impls [M: Send + Sync + 'static] $agent<M>, $kind);
    };
    (@impls [$($generics:tt)*] $agent:ty, $kind:literal) => {
        impl<$($generics)*> actix::Actor for $agent {
            type Context = agentix_runtime::AgentContext<Self>;

            fn started(&mut self, ctx: &mut Self::Context) {
                agentix_runtime::__private::started(self, ctx);
            }

            fn stopping(&mut self, ctx: &mut Self::Context) -> actix::Running {
                agentix_runtime::__private::stopping(self, ctx)
            }

            fn stopped(&mut self, ctx: &mut Self::Context) {
                agentix_runtime::__private::stopped(self, ctx);
            }
        }

        impl<$($generics)*> actix::Supervised for $agent {
            fn restarting(&mut self, ctx: &mut Self::Context) {
                agentix_runtime::__private::restarting(self, ctx);
            }
        }

        impl<$($generics)*> agentix_runtime::Agent for $agent {
            const KIND: &'static str = $kind;
            const RESTART: agentix_runtime::Restart = agentix_runtime::Restart::Permanent;
            const KEEP_STATE: bool = true;
            type Ref = agentix_runtime::AgentRef<Self>;
        }
    };
}

//! Root supervisors: how a swarm starts one ([`Swarm::supervisor`]) and
//! how its shutdown stops them, first and in reverse start order, through
//! the swarm's `Root` (the swarm below knows no supervisor).

use std::{future::Future, pin::Pin};

use super::{StopReport, SupervisorBuilder, SupervisorRef};
use crate::{
    Swarm,
    swarm::{Root, RootEnd},
};

impl Swarm {
    /// Starts configuring a root supervisor named `id`: strategy,
    /// intensity, backoff, children.
    ///
    /// ```
    /// use agentix::prelude::*;
    /// use std::time::Duration;
    ///
    /// #[derive(Agent, Default)]
    /// struct Db;
    ///
    /// #[derive(Agent, Default)]
    /// struct Api;
    ///
    /// # #[agentix::main] async fn main() -> agentix::Result<()> {
    /// let swarm = Swarm::start(SwarmConfig::default())?;
    /// let root = swarm
    ///     .supervisor("root")
    ///     .strategy(Strategy::RestForOne)
    ///     .intensity(Intensity::new(5, Duration::from_secs(10)))
    ///     .child(ChildSpec::new("db", Db::default))
    ///     .child(ChildSpec::new("api", Api::default).depends_on(["db"]))
    ///     .start()
    ///     .await?;
    /// let ids: Vec<_> = root.children().into_iter().map(|c| c.id.to_string()).collect();
    /// assert_eq!(ids, ["db", "api"]);
    /// swarm.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub fn supervisor(&self, id: &str) -> SupervisorBuilder<'_> {
        SupervisorBuilder::new(self, id)
    }
}

impl Root for SupervisorRef {
    fn shut_down(&self) -> Pin<Box<dyn Future<Output = RootEnd> + Send + '_>> {
        Box::pin(async move {
            if self.status().is_terminal() {
                return RootEnd::Ended(self.stopped().await);
            }
            let StopReport { stopped, forced } = self.shutdown().await;
            RootEnd::Stopped { stopped, forced }
        })
    }
}

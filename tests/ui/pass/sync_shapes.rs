//! Every synchronous handler shape compiles and answers.
use agentix::prelude::*;

#[derive(Debug, PartialEq)]
pub struct Negative;

#[derive(Agent, Default, Clone)]
struct Shapes {
    total: i64,
}

#[handlers]
impl Shapes {
    /// No parameters, no reply.
    #[handle]
    pub fn reset(&mut self) {
        self.total = 0;
    }

    /// Parameters (one declared `mut`) and a reply.
    #[handle]
    pub fn add(&mut self, mut by: i64, times: u32) -> i64 {
        by *= i64::from(times);
        self.total += by;
        self.total
    }

    /// A fallible reply.
    #[handle]
    fn checked(&mut self) -> Result<i64, Negative> {
        if self.total < 0 { Err(Negative) } else { Ok(self.total) }
    }

    /// The context, between two fields.
    #[handle]
    fn named(&mut self, prefix: String, ctx: &mut AgentContext<Self>, suffix: String) -> String {
        format!("{prefix}{}{suffix}", ctx.name())
    }

    /// The context under its full path.
    #[handle]
    fn restarts_seen(&mut self, ctx: &mut agentix::AgentContext<Shapes>) -> u32 {
        ctx.restarts()
    }

    /// `Self` in a reply type.
    #[handle]
    fn snapshot(&mut self) -> Option<Box<Self>> {
        Some(Box::new(self.clone()))
    }

    /// A renamed message.
    #[handle(message = "Bump")]
    fn increment(&mut self) -> i64 {
        self.total += 1;
        self.total
    }

    /// Not a handler: left alone.
    fn helper(&self) -> i64 {
        self.total
    }
}

#[agentix::main]
async fn main() -> agentix::Result<()> {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(1))?;
    let shapes = swarm.spawn("shapes", Shapes::default).await?;
    shapes.reset().await?;
    assert_eq!(shapes.add(2, 3).await?, 6);
    shapes.tell(Add { by: -10, times: 1 })?;
    assert_eq!(shapes.checked().await.unwrap_err().into_handler_error(), Some(Negative));
    assert_eq!(shapes.named("<".into(), ">".into()).await?, "<shapes>");
    assert_eq!(shapes.restarts_seen().await?, 0);
    assert_eq!(shapes.snapshot().await?.map(|s| s.helper()), Some(-4));
    shapes.tell(Bump)?;
    assert_eq!(shapes.increment().await?, -2);
    swarm.shutdown().await?;
    Ok(())
}

use agentix::prelude::*;

#[derive(Agent, Default)]
#[agent(mailbox = 64)]
struct Counter {
    total: u64,
}

#[handlers]
impl Counter {
    /// Adds.
    #[handle]
    fn add(&mut self, by: u64) -> u64 {
        self.total += by;
        self.total
    }

    #[handle]
    fn boom(&mut self) -> u64 {
        panic!("kaboom")
    }
}

#[agentix::test]
async fn smoke() {
    let swarm = Swarm::start(SwarmConfig::default().arbiters(2)).unwrap();
    let c = swarm.spawn("c", Counter::default).await.unwrap();
    assert_eq!(c.add(2).await.unwrap(), 2);
    c.tell(Add { by: 3 }).unwrap();
    assert_eq!(c.add(0).await.unwrap(), 5);
    let err = c.boom().await.unwrap_err();
    eprintln!("{err}");
    assert_eq!(c.add(1).await.unwrap(), 1);
    assert_eq!(c.restarts(), 1);
    let report = swarm.shutdown().await.unwrap();
    eprintln!("{report:?}");
}

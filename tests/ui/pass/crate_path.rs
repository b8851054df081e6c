//! Generated code follows `crate = path` when agentix is renamed.
use agentix as ax;

#[derive(ax::Agent, Default)]
#[agent(crate = ax)]
struct Renamed;

#[ax::handlers(crate = ax)]
impl Renamed {
    #[ax::handle]
    fn ping(&mut self) -> u8 {
        1
    }
}

fn main() {
    assert_eq!(<Renamed as ax::Agent>::KIND, "renamed");
    fn _uses(r: &RenamedRef) -> ax::Ask<'_, Renamed, Ping> {
        r.ping()
    }
}

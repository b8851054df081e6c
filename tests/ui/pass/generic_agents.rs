//! Generic agents: the derive carries parameters, bounds, defaults and
//! `where` clauses into every impl and the generated reference; `#[handlers]`
//! on a generic impl gives each message the parameters it names.
use std::future::Future;

use agentix::{Ask, prelude::*};

/// A type parameter with inline bounds, a `where` clause and a default;
/// `T: 'static` and `Stack<T>: Unpin` are added by the derive.
#[derive(Agent)]
#[agent(keep_state)]
struct Stack<T: Send = u8>
where
    T: Clone,
{
    items: Vec<T>,
}

#[handlers]
impl<T: Send> Stack<T>
where
    T: Clone,
{
    /// The message names `T` in a field: `Push<T>`.
    #[handle]
    fn push(&mut self, item: T) -> usize {
        self.items.push(item);
        self.items.len()
    }

    /// `T` only in the reply: `Pop<T>` with a marker field.
    #[handle]
    fn pop(&mut self) -> Option<T> {
        self.items.pop()
    }

    /// No parameter named: a plain `Len`.
    #[handle]
    fn len(&mut self) -> usize {
        self.items.len()
    }

    /// `T` inside another type of the reply.
    #[handle]
    fn snapshot(&mut self) -> Vec<T> {
        self.items.clone()
    }

    #[handle]
    fn later(&mut self) -> impl Future<Output = Option<T>> + 'static {
        let top = self.items.last().cloned();
        async move { top }
    }

    #[handle]
    fn checked(&mut self, item: T) -> Result<(), String> {
        let _ = item;
        Err("full".into())
    }
}

/// Two parameters, messages using one or the other.
#[derive(Agent)]
struct Pair<K: Send, V: Send> {
    key: Option<K>,
    value: Option<V>,
}

#[handlers]
impl<K: Send, V: Send> Pair<K, V> {
    #[handle]
    fn set_key(&mut self, key: K) {
        self.key = Some(key);
    }

    #[handle]
    fn set_value(&mut self, value: V, ctx: &mut AgentContext<Self>) {
        let _ = ctx;
        self.value = Some(value);
    }
}

/// A const parameter.
#[derive(Agent)]
struct Window<const N: usize> {
    last: [u8; N],
}

#[handlers]
impl<const N: usize> Window<N> {
    #[handle]
    fn put(&mut self, frame: [u8; N]) {
        self.last = frame;
    }
}

/// Handlers on one instance of a generic agent: concrete messages.
#[derive(Agent)]
struct Cell<T: Send> {
    value: T,
}

#[handlers]
impl Cell<u32> {
    #[handle]
    fn bump(&mut self) -> u32 {
        self.value += 1;
        self.value
    }
}

/// `reference = Type`: a reference type of one's own instead of the
/// generated `<Name>Ref`.
#[derive(Agent, Default)]
#[agent(reference = AgentRef<Self>)]
struct Plain;

#[derive(Agent)]
#[agent(reference = Handle<T>)]
struct Custom<T: Send> {
    value: T,
}

// Code of one's own that is generic over an agent states what the derive
// adds to its impls: `T: 'static` and `Custom<T>: Unpin`.
struct Handle<T: Send + 'static>(AgentRef<Custom<T>>)
where
    Custom<T>: Unpin;

impl<T: Send + 'static> Clone for Handle<T>
where
    Custom<T>: Unpin,
{
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T: Send + 'static> From<AgentRef<Custom<T>>> for Handle<T>
where
    Custom<T>: Unpin,
{
    fn from(agent: AgentRef<Custom<T>>) -> Self {
        Self(agent)
    }
}

fn main() {
    assert_eq!(<Stack<String> as Agent>::KIND, "stack");
    assert!(<Stack as Agent>::KEEP_STATE);
    assert_eq!(<Pair<u8, String> as Agent>::KIND, "pair");
    assert_eq!(<Window<4> as Agent>::KIND, "window");

    fn _stack(s: &StackRef<String>) {
        let _: Ask<'_, Stack<String>, Push<String>> = s.push("a".into());
        let _: Ask<'_, Stack<String>, Pop<String>> = s.pop();
        let _: Ask<'_, Stack<String>, Len> = s.len();
        let _ = s.snapshot();
        let _ = s.later();
        let _ = s.checked("b".into());
        let _ = s.tell(Push { item: "c".to_owned() });
        let _ = s.tell(Pop::<String> {
            _reply: std::marker::PhantomData,
        });
        let _ = s.tell(Len);
        let _: &AgentRef<Stack<String>> = s;
    }
    fn _pair(p: &PairRef<u8, String>) {
        let _: Ask<'_, Pair<u8, String>, SetKey<u8>> = p.set_key(1);
        let _: Ask<'_, Pair<u8, String>, SetValue<String>> = p.set_value("v".into());
    }
    fn _window(w: &WindowRef<4>) {
        let _: Ask<'_, Window<4>, Put<4>> = w.put([0; 4]);
    }
    fn _cell(c: &CellRef<u32>) {
        let _: Ask<'_, Cell<u32>, Bump> = c.bump();
    }
    fn _plain(p: <Plain as Agent>::Ref) -> AgentRef<Plain> {
        p
    }
    fn _custom(c: <Custom<u8> as Agent>::Ref) -> Handle<u8> {
        c
    }
    async fn _spawn(swarm: &Swarm) {
        let _: Result<StackRef<u32>, SpawnError> =
            swarm.spawn("stack", || Stack::<u32> { items: Vec::new() }).await;
        let _: Result<AgentRef<Plain>, SpawnError> = swarm.spawn("plain", Plain::default).await;
    }
}

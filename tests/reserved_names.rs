//! Every method of `AgentRef` is a reserved handler name: a `#[handle]`
//! method of the same name would generate an ask method on the agent's
//! reference that silently shadows it. The list the macros check lives in
//! `agentix-rules`, the methods in the runtime; this keeps them in step.

use std::collections::BTreeSet;

/// The names the macros refuse, from the rules both crates share.
fn reserved() -> BTreeSet<String> {
    (agentix_rules::RESERVED_HANDLER_NAMES.iter())
        .map(|name| (*name).to_owned())
        .collect()
}

/// The public methods `AgentRef` defines.
fn agent_ref_methods() -> BTreeSet<String> {
    let source = include_str!("../runtime/src/agent/address.rs");
    source
        .lines()
        .map(str::trim_start)
        .filter_map(|line| {
            let rest = line
                .strip_prefix("pub fn ")
                .or_else(|| line.strip_prefix("pub async fn "))?;
            let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
            Some(rest[..end].to_owned())
        })
        .collect()
}

#[test]
fn every_agent_ref_method_is_a_reserved_handler_name() {
    let reserved = reserved();
    let methods = agent_ref_methods();
    assert!(methods.len() >= 10, "found only {methods:?}");
    let missing: Vec<_> = methods.difference(&reserved).collect();
    assert!(
        missing.is_empty(),
        "AgentRef methods a #[handle] method could shadow: {missing:?}; add them to RESERVED_HANDLER_NAMES in rules/src/lib.rs"
    );
}

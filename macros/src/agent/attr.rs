//! Parses `#[agent(kind = "...", mailbox = N, restart = "...", keep_state,
//! ask_timeout_ms = N, budget = N, lifecycle, reference = Type, crate = path)]`.

use agentix_rules::MAX_MAILBOX;
use syn::{Attribute, LitInt, LitStr, meta::ParseNestedMeta};

use crate::ctxt::Ctxt;

/// The keys `#[agent(...)]` accepts, for the "expected one of" message.
const KEYS: &str = "`kind`, `mailbox`, `restart`, `keep_state`, `ask_timeout_ms`, `budget`, \
                    `lifecycle`, `reference`, `crate`";

#[derive(Default)]
pub(crate) struct AgentAttrs {
    pub(crate) kind: Option<LitStr>,
    pub(crate) mailbox: Option<usize>,
    /// `Permanent`, `Transient` or `Temporary`.
    pub(crate) restart: Option<syn::Ident>,
    pub(crate) keep_state: bool,
    pub(crate) ask_timeout_ms: Option<u64>,
    pub(crate) budget: Option<usize>,
    pub(crate) lifecycle: bool,
    /// An existing type to use as `Agent::Ref` instead of a generated one.
    pub(crate) reference: Option<syn::Type>,
    pub(crate) crate_path: Option<syn::Path>,
}

pub(crate) fn parse(attrs: &[Attribute], cx: &mut Ctxt) -> AgentAttrs {
    let mut out = AgentAttrs::default();
    let mut seen: Vec<String> = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("agent")) {
        let result = attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            if seen.contains(&key) {
                cx.error_spanned_by(
                    &meta.path,
                    format_args!("duplicate key `{key}` in #[agent(...)]"),
                );
            }
            seen.push(key.clone());
            parse_key(&key, &meta, &mut out, cx)
        });
        if let Err(err) = result {
            cx.push(err);
        }
    }
    out
}

fn parse_key(
    key: &str,
    meta: &ParseNestedMeta<'_>,
    out: &mut AgentAttrs,
    cx: &mut Ctxt,
) -> syn::Result<()> {
    match key {
        "kind" => {
            let lit: LitStr = meta.value()?.parse()?;
            if let Some(problem) = kind_problem(&lit.value()) {
                cx.error_spanned_by(&lit, problem);
            }
            out.kind = Some(lit);
        }
        "mailbox" => {
            let lit: LitInt = meta.value()?.parse()?;
            match lit.base10_parse::<usize>() {
                Ok(0) => cx.error_spanned_by(
                    &lit,
                    "`mailbox = 0` could never accept a message: use a capacity of at least 1",
                ),
                Ok(n) if n > MAX_MAILBOX => cx.error_spanned_by(
                    &lit,
                    format_args!("`mailbox = {n}` exceeds the maximum capacity {MAX_MAILBOX}"),
                ),
                Ok(n) => out.mailbox = Some(n),
                Err(err) => cx.push(err),
            }
        }
        "restart" => {
            let lit: LitStr = meta.value()?.parse()?;
            let variant = match lit.value().as_str() {
                "permanent" => "Permanent",
                "transient" => "Transient",
                "temporary" => "Temporary",
                other => {
                    cx.error_spanned_by(
                        &lit,
                        format_args!(
                            "unknown restart type \"{other}\": expected one of \"permanent\", \"transient\", \"temporary\""
                        ),
                    );
                    return Ok(());
                }
            };
            out.restart = Some(syn::Ident::new(variant, lit.span()));
        }
        "keep_state" => out.keep_state = true,
        "lifecycle" => out.lifecycle = true,
        "ask_timeout_ms" => {
            let lit: LitInt = meta.value()?.parse()?;
            match lit.base10_parse::<u64>() {
                Ok(0) => cx.error_spanned_by(
                    &lit,
                    "`ask_timeout_ms = 0` would fail every ask: use at least 1",
                ),
                Ok(ms) => out.ask_timeout_ms = Some(ms),
                Err(err) => cx.push(err),
            }
        }
        "budget" => {
            let lit: LitInt = meta.value()?.parse()?;
            match lit.base10_parse::<usize>() {
                Ok(0) => cx.error_spanned_by(
                    &lit,
                    "`budget = 0` would never handle a message: use at least 1",
                ),
                Ok(n) => out.budget = Some(n),
                Err(err) => cx.push(err),
            }
        }
        "reference" => out.reference = Some(meta.value()?.parse()?),
        "crate" => out.crate_path = Some(meta.value()?.parse()?),
        _ => {
            cx.error_spanned_by(
                &meta.path,
                format_args!(
                    "unknown key `{}` in #[agent(...)]: expected one of {KEYS}",
                    path_text(meta)
                ),
            );
            // Skip a value, if any, so the keys after it are still checked.
            if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
        }
    }
    Ok(())
}

fn path_text(meta: &ParseNestedMeta<'_>) -> String {
    let path = &meta.path;
    quote::quote!(#path).to_string().replace(' ', "")
}

/// The naming rule of `agentix::AgentName` (shared through
/// `agentix-rules`), checked here so a bad `kind` is an error on the
/// literal itself.
pub(crate) fn kind_problem(kind: &str) -> Option<String> {
    use agentix_rules::{MAX_NAME_LEN, NAME_RULE, NameProblem};
    Some(match agentix_rules::name_problem(kind)? {
        NameProblem::Empty => "the agent kind is empty: give it a name".into(),
        NameProblem::TooLong { len } => {
            format!("the agent kind is {len} bytes long; at most {MAX_NAME_LEN} are allowed")
        }
        NameProblem::BadChar { at } => {
            let c = kind[at..].chars().next().unwrap_or('?');
            format!(
                "invalid agent kind \"{kind}\": {c:?} at byte {at} is not allowed ({NAME_RULE})"
            )
        }
        _ => format!("invalid agent kind \"{kind}\": {NAME_RULE}"),
    })
}

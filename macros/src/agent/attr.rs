//! Parses `#[agent(kind = "...", mailbox = N, restart = "...", keep_state,
//! ask_timeout_ms = N, budget = N, lifecycle, crate = path)]`.

use syn::{Attribute, LitInt, LitStr, meta::ParseNestedMeta};

use crate::ctxt::Ctxt;

/// The keys `#[agent(...)]` accepts, for the "expected one of" message.
const KEYS: &str =
    "`kind`, `mailbox`, `restart`, `keep_state`, `ask_timeout_ms`, `budget`, `lifecycle`, `crate`";

/// The largest mailbox the runtime accepts (`agentix::MAX_MAILBOX`).
const MAX_MAILBOX: usize = 1 << 24;

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

/// The naming rule of `agentix::AgentName` (runtime/src/name.rs), checked
/// here so a bad `kind` is an error on the literal itself. Keep in step.
pub(crate) fn kind_problem(kind: &str) -> Option<String> {
    const RULE: &str = "use A-Z a-z 0-9 - _ . and start with a letter or digit";
    let mut chars = kind.char_indices();
    match chars.next() {
        None => return Some("the agent kind is empty: give it a name".into()),
        Some((_, first)) if !first.is_ascii_alphanumeric() => {
            return Some(format!("invalid agent kind \"{kind}\": {RULE}"));
        }
        Some(_) => {}
    }
    if kind.len() > 128 {
        return Some(format!(
            "the agent kind is {} bytes long; at most 128 are allowed",
            kind.len()
        ));
    }
    chars
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .map(|(at, c)| {
            format!("invalid agent kind \"{kind}\": {c:?} at byte {at} is not allowed ({RULE})")
        })
}

//! The built-in actors of agentix, each an actix actor built on
//! `agentix-runtime`.
//!
//! | module | for |
//! |---|---|
//! | [`router`] | publish on topics, fan out to subscriber agents (in progress: topics and the subscription index) |
//!
//! The registry, dead letters and the monitor arrive in later issues.

pub mod router;

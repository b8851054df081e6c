//! The built-in actors of agentix. Empty for now: the registry, the multicast
//! router, dead letters and the monitor arrive in later issues, each as an
//! actix actor built on `agentix-runtime`.

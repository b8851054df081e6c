//! Why a publish or a subscription did not happen.

use std::fmt;

use agentix_runtime::{AskError, SendError};

use super::{GroupNameError, Publish, TopicError};

/// A publish that did not reach the router.
#[non_exhaustive]
pub enum PublishError<M> {
    /// The topic is not valid.
    Topic(TopicError),
    /// The router's mailbox was full or closed; the message is handed back.
    Send(Box<SendError<Publish<M>>>),
}

impl<M> fmt::Debug for PublishError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Topic(err) => f.debug_tuple("Topic").field(err).finish(),
            Self::Send(err) => f.debug_tuple("Send").field(err).finish(),
        }
    }
}

impl<M> fmt::Display for PublishError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Topic(err) => write!(f, "cannot publish: {err}"),
            Self::Send(err) => write!(f, "cannot publish: {err}"),
        }
    }
}

impl<M> std::error::Error for PublishError<M> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Topic(err) => Some(err),
            Self::Send(_) => None,
        }
    }
}

impl<M> From<PublishError<M>> for agentix_runtime::Error {
    /// Drops the message handed back, as every conversion to this error does.
    fn from(err: PublishError<M>) -> Self {
        match err {
            PublishError::Topic(err) => Self::Actor(Box::new(err)),
            PublishError::Send(err) => Self::from(*err),
        }
    }
}

impl From<SubscribeError> for agentix_runtime::Error {
    fn from(err: SubscribeError) -> Self {
        match err {
            SubscribeError::Router(err) => Self::from(err),
            refused => Self::Actor(Box::new(refused)),
        }
    }
}

/// A subscription that could not be made.
#[derive(Debug)]
#[non_exhaustive]
pub enum SubscribeError {
    /// The pattern is not valid.
    Pattern(TopicError),
    /// The queue-group name
    /// ([`SubscribeOptions::group`](super::SubscribeOptions::group)) is
    /// not valid.
    Group(GroupNameError),
    /// The router did not answer.
    Router(AskError),
}

impl From<AskError> for SubscribeError {
    fn from(err: AskError) -> Self {
        Self::Router(err)
    }
}

impl fmt::Display for SubscribeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pattern(err) => write!(f, "cannot subscribe: {err}"),
            Self::Group(err) => write!(f, "cannot subscribe: {err}"),
            Self::Router(err) => write!(f, "cannot subscribe: {err}"),
        }
    }
}

impl std::error::Error for SubscribeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Pattern(err) => Some(err),
            Self::Group(err) => Some(err),
            Self::Router(err) => Some(err),
        }
    }
}

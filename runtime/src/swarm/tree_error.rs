//! A supervision tree that cannot be built: an error of spawning (the
//! supervisors above the swarm report it through [`SpawnError::Tree`](crate::SpawnError::Tree)).

use std::fmt;

use crate::{AgentName, NameError};

/// A supervision tree that cannot be built, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TreeError {
    /// A child id breaks the naming rules.
    Name(NameError),
    /// Two children of one supervisor share an id.
    DuplicateChild {
        /// The supervisor.
        supervisor: AgentName,
        /// The id used twice.
        child: AgentName,
    },
    /// A child depends on an id its supervisor does not have.
    UnknownDependency {
        /// The supervisor.
        supervisor: AgentName,
        /// The child declaring the dependency.
        child: AgentName,
        /// The id it depends on.
        dependency: String,
    },
    /// Children depend on each other in a circle.
    DependencyCycle {
        /// The supervisor.
        supervisor: AgentName,
        /// The ids around the circle, the first repeated at the end.
        cycle: Vec<AgentName>,
    },
}

impl fmt::Display for TreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name(err) => fmt::Display::fmt(err, f),
            Self::DuplicateChild { supervisor, child } => {
                write!(
                    f,
                    "supervisor `{supervisor}` has two children named `{child}`"
                )
            }
            Self::UnknownDependency {
                supervisor,
                child,
                dependency,
            } => write!(
                f,
                "child `{child}` of supervisor `{supervisor}` depends on `{dependency}`, which is not a child of it"
            ),
            Self::DependencyCycle { supervisor, cycle } => {
                let path: Vec<&str> = cycle.iter().map(AgentName::as_str).collect();
                write!(
                    f,
                    "children of supervisor `{supervisor}` depend on each other in a cycle: {}",
                    path.join(" -> ")
                )
            }
        }
    }
}

impl std::error::Error for TreeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Name(err) => Some(err),
            _ => None,
        }
    }
}

impl From<NameError> for TreeError {
    fn from(err: NameError) -> Self {
        Self::Name(err)
    }
}

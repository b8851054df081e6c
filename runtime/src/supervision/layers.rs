//! Dependency layers for parallel start-up: children with no dependencies
//! first, then those whose dependencies are all in earlier layers, and so on.
//! Pure; checked when a tree is built.

use std::collections::HashMap;

use crate::{AgentName, TreeError};

/// Groups children (given in declaration order with their dependencies) into
/// start layers of positions, each layer in declaration order.
pub(crate) fn layers(
    supervisor: &AgentName,
    children: &[(AgentName, Vec<String>)],
) -> Result<Vec<Vec<usize>>, TreeError> {
    let mut position = HashMap::with_capacity(children.len());
    for (index, (id, _)) in children.iter().enumerate() {
        if position.insert(id.as_str(), index).is_some() {
            return Err(TreeError::DuplicateChild {
                supervisor: supervisor.clone(),
                child: id.clone(),
            });
        }
    }
    let mut deps = Vec::with_capacity(children.len());
    for (id, on) in children {
        let mut resolved = Vec::with_capacity(on.len());
        for dependency in on {
            match position.get(dependency.as_str()) {
                Some(&index) => resolved.push(index),
                None => {
                    return Err(TreeError::UnknownDependency {
                        supervisor: supervisor.clone(),
                        child: id.clone(),
                        dependency: dependency.clone(),
                    });
                }
            }
        }
        deps.push(resolved);
    }
    // Longest path from a root, by repeated relaxation (Kahn's algorithm
    // with depths): a child's layer is one past its deepest dependency.
    let mut layer = vec![None::<usize>; children.len()];
    let mut placed = 0;
    while placed < children.len() {
        let before = placed;
        for index in 0..children.len() {
            if layer[index].is_some() {
                continue;
            }
            let depths: Option<Vec<usize>> = deps[index].iter().map(|&d| layer[d]).collect();
            if let Some(depths) = depths {
                layer[index] = Some(depths.into_iter().max().map_or(0, |d| d + 1));
                placed += 1;
            }
        }
        if placed == before {
            return Err(TreeError::DependencyCycle {
                supervisor: supervisor.clone(),
                cycle: find_cycle(children, &deps, &layer),
            });
        }
    }
    let depth = layer.iter().flatten().max().map_or(0, |d| d + 1);
    let mut out = vec![Vec::new(); depth];
    for (index, l) in layer.into_iter().enumerate() {
        out[l.unwrap_or(0)].push(index);
    }
    Ok(out)
}

/// A cycle among the children left unplaced, by following dependencies
/// until an id repeats.
fn find_cycle(
    children: &[(AgentName, Vec<String>)],
    deps: &[Vec<usize>],
    layer: &[Option<usize>],
) -> Vec<AgentName> {
    let Some(start) = layer.iter().position(Option::is_none) else {
        return Vec::new();
    };
    let mut path = vec![start];
    let mut current = start;
    // An unplaced child always has an unplaced dependency.
    while let Some(&next) = deps[current].iter().find(|&&d| layer[d].is_none()) {
        if let Some(at) = path.iter().position(|&p| p == next) {
            let mut cycle: Vec<AgentName> =
                path[at..].iter().map(|&i| children[i].0.clone()).collect();
            cycle.push(children[next].0.clone());
            return cycle;
        }
        path.push(next);
        current = next;
    }
    path.iter().map(|&i| children[i].0.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(id: &str) -> AgentName {
        AgentName::new(id).unwrap()
    }

    fn tree(spec: &[(&str, &[&str])]) -> Result<Vec<Vec<usize>>, TreeError> {
        let children: Vec<_> = spec
            .iter()
            .map(|(id, on)| (name(id), on.iter().map(|s| (*s).to_owned()).collect()))
            .collect();
        layers(&name("sup"), &children)
    }

    #[test]
    fn independent_children_share_the_first_layer() {
        assert_eq!(
            tree(&[("a", &[]), ("b", &[]), ("c", &[])]).unwrap(),
            vec![vec![0, 1, 2]]
        );
    }

    #[test]
    fn a_child_starts_one_layer_after_its_deepest_dependency() {
        let layers = tree(&[
            ("api", &["db", "cache"]),
            ("db", &[]),
            ("cache", &["db"]),
            ("metrics", &[]),
        ])
        .unwrap();
        assert_eq!(layers, vec![vec![1, 3], vec![2], vec![0]]);
    }

    #[test]
    fn an_unknown_dependency_is_named() {
        let err = tree(&[("api", &["db"])]).unwrap_err();
        assert_eq!(
            err,
            TreeError::UnknownDependency {
                supervisor: name("sup"),
                child: name("api"),
                dependency: "db".into()
            }
        );
        assert!(err.to_string().contains("`api`") && err.to_string().contains("`db`"));
    }

    #[test]
    fn a_cycle_is_named_around_its_circle() {
        let err = tree(&[("ok", &[]), ("a", &["b"]), ("b", &["c"]), ("c", &["a"])]).unwrap_err();
        let TreeError::DependencyCycle { cycle, .. } = &err else {
            panic!("{err:?}")
        };
        let ids: Vec<&str> = cycle.iter().map(AgentName::as_str).collect();
        assert_eq!(ids, ["a", "b", "c", "a"]);
        assert!(err.to_string().contains("a -> b -> c -> a"), "{err}");
    }

    #[test]
    fn a_child_depending_on_itself_is_a_cycle() {
        let err = tree(&[("loop", &["loop"])]).unwrap_err();
        assert!(matches!(err, TreeError::DependencyCycle { .. }));
    }

    #[test]
    fn duplicate_ids_are_rejected() {
        let err = tree(&[("a", &[]), ("a", &[])]).unwrap_err();
        assert_eq!(
            err,
            TreeError::DuplicateChild {
                supervisor: name("sup"),
                child: name("a")
            }
        );
    }
}

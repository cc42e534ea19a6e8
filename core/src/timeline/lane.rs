//! A lane: one row of a timeline, for one worker, node or client.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use crate::{NodeId, WorkerId};

/// One row of a timeline: whatever acts on its own (a worker, a node, a
/// client). Lanes are sorted by name with numbers compared as numbers, so
/// `worker-2` comes before `worker-10`.
///
/// The name is shared, not copied: a timeline holds one lane per span, and
/// cloning a lane is then a reference count, not an allocation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lane(Arc<str>);

impl Lane {
    /// A lane called `name`.
    pub fn new(name: impl AsRef<str>) -> Self {
        Self(Arc::from(name.as_ref()))
    }

    /// Its name, as printed at the start of the row.
    pub fn name(&self) -> &str {
        &self.0
    }

    /// The name split into its text and the number it ends with, if any:
    /// `worker-10` is `("worker-", Some(10))`.
    fn sort_key(&self) -> (&str, Option<u64>) {
        let digits = self.0.len() - self.0.bytes().rev().take_while(u8::is_ascii_digit).count();
        let (text, number) = self.0.split_at(digits);
        (text, number.parse().ok())
    }
}

impl Ord for Lane {
    fn cmp(&self, other: &Self) -> Ordering {
        self.sort_key()
            .cmp(&other.sort_key())
            .then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for Lane {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Lane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<WorkerId> for Lane {
    fn from(worker: WorkerId) -> Self {
        Self::new(worker.to_string())
    }
}

impl From<NodeId> for Lane {
    fn from(node: NodeId) -> Self {
        Self::new(node.to_string())
    }
}

impl From<&str> for Lane {
    fn from(name: &str) -> Self {
        Self::new(name)
    }
}

impl From<String> for Lane {
    fn from(name: String) -> Self {
        Self::new(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_lane_names_sort_as_numbers() {
        let mut lanes: Vec<Lane> = ["worker-10", "worker-2", "node-1", "worker-1", "queue"]
            .into_iter()
            .map(Lane::new)
            .collect();
        lanes.sort();
        let names: Vec<&str> = lanes.iter().map(Lane::name).collect();
        assert_eq!(
            names,
            ["node-1", "queue", "worker-1", "worker-2", "worker-10"]
        );
    }
}

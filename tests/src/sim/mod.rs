//! The replicated queue in simulation: its replicas on Workshop 3's and 4's
//! simulated network, clients as tasks on nodes of their own, and whole
//! scenarios with their faults and their rules.
//!
//! - [`QueueCluster`]: the replicas, driven in one loop, with their disks;
//!   [`SimTransport`]: the clients' way onto the network.
//! - [`Scenario`]: a day of the photo service, with the faults of the day.
//! - [`ScenarioReport`]: what the day left behind, and the rules it kept.

mod cluster;
mod report;
mod scenario;
mod violation;

pub use cluster::{QueueCluster, SimTransport};
pub use report::ScenarioReport;
pub use scenario::{ClusterFault, Scenario, ScenarioError};
pub use violation::{LogDisagreement, SafetyViolation, StillQueued, Violation};

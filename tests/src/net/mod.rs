//! The replicated queue as operating-system processes, on TCP.
//!
//! The same [`QueueNode`](crate::QueueNode) that the simulation drives runs
//! here in a process of its own, driven by a real clock and real sockets:
//!
//! - [`codec`] and [`frame`]: the bytes on the wire and on disk (a length
//!   prefix, then a hand-written binary encoding);
//! - [`server`]: a node's loop, its listener and its connections;
//! - [`LogFile`]: the node's journal of durable changes;
//! - [`process`]: a node process's command line and `main` (the
//!   `queue-node` binary is that `main`);
//! - [`TcpTransport`]: the client's way in;
//! - [`LocalCluster`]: starts, kills and restarts node processes on this
//!   machine, for the process test and the demo; [`watch`]: every node's
//!   report, and who leads;
//! - [`console`]: the keyboard and view the live demos share.
//!
//! Every address defaults to 127.0.0.1: nothing listens beyond the machine
//! unless told to.

mod checksum;
pub mod codec;
pub mod console;
pub mod frame;
mod local_cluster;
pub mod log_file;
pub mod node_log;
pub mod process;
pub mod server;
mod tcp_transport;
pub mod trial;
pub mod watch;

pub use local_cluster::{LocalCluster, NodeProcessOptions, ProcessError};
pub use log_file::{Damage, Durability, LogFile, LogFileError, Recovered, TornTail};
pub use tcp_transport::TcpTransport;

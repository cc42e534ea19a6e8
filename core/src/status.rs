//! Where an item is in its life.
//!
//! ```text
//!             start              succeed
//!  Pending ───────────▶ InProgress ──────────▶ Succeeded
//!     ▲                     │
//!     │ retry               │ fail (an error, or no answer in time)
//!     │                     ▼
//!     └──────────────── Failed ──────────────▶ DeadLettered
//!                                dead_letter
//! ```
//!
//! An item is in exactly one state. Succeeded and DeadLettered are final: an
//! item that reaches neither by the end of a run was lost, whatever state it
//! was left in.

use std::fmt;

/// The state of one item in the lifecycle above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WorkStatus {
    /// Waiting to be handed to a worker: new, or back for another attempt.
    Pending,
    /// A worker holds it under a receipt and has not answered yet.
    InProgress,
    /// Its last attempt failed and nobody has decided yet between another
    /// attempt and the dead-letter queue. Left here, it is lost.
    Failed,
    /// Done. Final.
    Succeeded,
    /// Set aside after failing for good, with the reason kept. Final.
    DeadLettered,
}

impl WorkStatus {
    /// Whether the item has reached a state it never leaves.
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::DeadLettered)
    }
}

impl fmt::Display for WorkStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Pending => "pending",
            Self::InProgress => "in progress",
            Self::Failed => "failed",
            Self::Succeeded => "succeeded",
            Self::DeadLettered => "dead-lettered",
        };
        f.write_str(name)
    }
}

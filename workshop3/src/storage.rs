//! Storage: the shared resource the leader writes to, and the witness of
//! split brain.
//!
//! ## The problem
//!
//! Leader election exists to protect something: a file, a table, a ledger
//! that must have exactly one writer. Whether the election worked is decided
//! here, not in the leaders' heads: if storage holds entries from two
//! writers, interleaved, the election failed, whatever each node believed.
//!
//! ## The design
//!
//! Storage appends every write it accepts to a log, with who wrote it, under
//! which token and when, and keeps every write it refused with the reason.
//! It is a service on the network like the lease store, answering one
//! request at a time.
//!
//! How it decides is the point of the workshop. With [`Fencing::Off`] it
//! accepts everything, like most storage does. With [`Fencing::On`] it passes
//! every write through a [`FencingGate`] (exercise 3.5), which refuses a
//! write whose token is lower than one it has already accepted.
//!
//! ## What is left out
//!
//! Reads, keys and durability: the log is all a test needs to see who wrote
//! what in which order. Deduplicating a retried write is Workshop 4's
//! subject.

use std::time::Duration;

use coordination::sim::Message;
use coordination::{FencingToken, NodeId};

use crate::{ClusterMessage, FencingGate, Write, WriteAck};

/// Whether storage checks fencing tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fencing {
    /// Every write is accepted: storage trusts whoever calls itself leader.
    Off,
    /// Writes pass through a [`FencingGate`]: a token lower than one already
    /// accepted is refused.
    On,
}

/// Why storage refused a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WriteRefused {
    /// The write's token is lower than one storage has already accepted: its
    /// writer was leader once, and has been replaced since.
    #[error("{token} is older than {highest}, which storage has already accepted")]
    StaleToken {
        /// The write's token.
        token: FencingToken,
        /// The highest token accepted so far.
        highest: FencingToken,
    },
    /// The write carries no token, and storage checks tokens.
    #[error("the write carries no fencing token, and storage accepts only fenced writes")]
    MissingToken,
    /// Storage was sent something that is not a write: a node talked to the
    /// wrong service.
    #[error("storage does not handle {kind} messages")]
    NotAWrite {
        /// The kind of message it was sent.
        kind: &'static str,
    },
}

impl WriteRefused {
    /// Whether sending the same write again can succeed. Never: a stale
    /// token stays stale, a missing one stays missing.
    pub fn is_retryable(&self) -> bool {
        false
    }

    /// Whether the refusal says "someone else leads now": the writer should
    /// step down instead of trying anything else.
    pub fn means_superseded(&self) -> bool {
        matches!(self, Self::StaleToken { .. })
    }
}

/// One write storage accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredWrite {
    /// Its place in the log, from 1.
    pub position: u64,
    /// When it was accepted, in simulated time since the run began.
    pub at: Duration,
    /// Who wrote it.
    pub writer: NodeId,
    /// The writer's entry number.
    pub entry: u64,
    /// The token it carried.
    pub token: Option<FencingToken>,
}

/// One write storage refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefusedWrite {
    /// When it was refused, in simulated time since the run began.
    pub at: Duration,
    /// Who sent it.
    pub writer: NodeId,
    /// The writer's entry number.
    pub entry: u64,
    /// The token it carried.
    pub token: Option<FencingToken>,
    /// Why it was refused.
    pub reason: WriteRefused,
}

/// The given storage service: a log of accepted writes, and a record of
/// refused ones.
#[derive(Debug, Clone)]
pub struct Storage {
    /// The token check, when fencing is on.
    gate: Option<FencingGate>,
    /// Accepted writes, in order.
    accepted: Vec<StoredWrite>,
    /// Refused writes, in order.
    refused: Vec<RefusedWrite>,
}

impl Storage {
    /// Empty storage, checking tokens or not.
    pub fn new(fencing: Fencing) -> Self {
        Self {
            gate: match fencing {
                Fencing::Off => None,
                Fencing::On => Some(FencingGate::new()),
            },
            accepted: Vec::new(),
            refused: Vec::new(),
        }
    }

    /// Whether this storage checks tokens.
    pub fn fencing(&self) -> Fencing {
        match self.gate {
            Some(_) => Fencing::On,
            None => Fencing::Off,
        }
    }

    /// Answers one message sent to storage by `writer` at `now`: what
    /// [`Node::serve`](coordination::sim::Node::serve) runs for each request.
    pub fn answer(
        &mut self,
        writer: NodeId,
        message: ClusterMessage,
        now: Duration,
    ) -> ClusterMessage {
        let answer = match message {
            ClusterMessage::Write(write) => self.write(writer, write, now),
            other => Err(WriteRefused::NotAWrite { kind: other.kind() }),
        };
        ClusterMessage::WriteAnswer(answer)
    }

    /// Stores `write` from `writer` at `now`, unless the fencing gate
    /// refuses it.
    ///
    /// # Errors
    /// The gate's [`WriteRefused`], when fencing is on.
    pub fn write(
        &mut self,
        writer: NodeId,
        write: Write,
        now: Duration,
    ) -> Result<WriteAck, WriteRefused> {
        if let Some(gate) = &mut self.gate
            && let Err(reason) = gate.admit(write.token)
        {
            self.refused.push(RefusedWrite {
                at: now,
                writer,
                entry: write.entry,
                token: write.token,
                reason,
            });
            return Err(reason);
        }
        let position = self.accepted.len() as u64 + 1;
        self.accepted.push(StoredWrite {
            position,
            at: now,
            writer,
            entry: write.entry,
            token: write.token,
        });
        Ok(WriteAck { position })
    }

    /// Every accepted write, in log order.
    pub fn accepted(&self) -> &[StoredWrite] {
        &self.accepted
    }

    /// Every refused write, in the order they arrived.
    pub fn refused(&self) -> &[RefusedWrite] {
        &self.refused
    }
}

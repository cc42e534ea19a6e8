//! What the Raft log carries, and the state machine every replica applies it
//! to.
//!
//! ## The problem
//!
//! Clients retry. A consumer whose delete times out sends it again; a
//! producer whose batch times out sends it again; and the first attempt may
//! have been committed all along, its answer lost. Raft orders commands; it
//! does not tell a retry from a new command. A receive applied twice hides
//! twice as many messages; a send applied twice queues every message twice.
//!
//! ## The design
//!
//! Every client request carries a client id and a sequence number, and the
//! queue sits behind Workshop 4's [`ExactlyOnce`] table (exercise 4.4): a
//! request with the client's last sequence number again is answered from the
//! table, not applied. Because the table changes only by applying the log,
//! every replica builds the same one, and a new leader answers a retry of
//! its predecessor's request correctly.
//!
//! A client gets its id by opening a session, a command of its own whose
//! answer is the next session number, as in section 6.3 of the Raft thesis
//! (Ongaro, "Consensus: Bridging Theory and Practice", 2014). A restarted
//! client opens a new session: its old sequence numbers die with its old
//! id, so a fresh request numbered 1 is never mistaken for a retry.
//!
//! ## What is left out
//!
//! Expiring sessions: the thesis expires them by a leader-stamped time so
//! the table stays bounded; here one entry per session stays for good, which
//! is a few thousand entries in a long scenario.

use workshop4::{ClientId, ClientRequest, ExactlyOnce, Reply};

use crate::{Queue, QueueAttributes, QueueConfig, QueueResult, Stamped};

/// One entry of the Raft log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A client opens a session; the answer is its client id.
    OpenSession,
    /// Nothing: the entry a leader proposes when it takes office. It may
    /// commit entries of earlier terms only by committing one of its own
    /// (Raft's section 5.4.2), so until this one commits, a new leader
    /// cannot tell which of the entries it inherited are committed, and a
    /// follower that heard of a commit from the old leader stays ahead of
    /// it. Section 8 of the Raft paper has every leader commit such a blank
    /// entry at the start of its term; etcd does the same.
    NewTerm,
    /// A client's request, stamped by the leader that proposed it.
    Request(ClientRequest<Stamped>),
}

impl Command {
    /// A short name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::OpenSession => "open session",
            Self::NewTerm => "new term",
            Self::Request(request) => request.operation.operation.name(),
        }
    }
}

/// What applying a command returned, for the client that proposed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandOutput {
    /// The new session's client id.
    SessionOpened(ClientId),
    /// The queue's answer, from the exactly-once table.
    Reply(Reply<QueueResult>),
    /// Nothing changed: a new leader's blank entry.
    Nothing,
}

/// The queue behind the exactly-once table, and the session counter: what
/// every replica builds from the log.
#[derive(Debug, Clone)]
pub struct QueueStateMachine {
    /// The number of the last session opened.
    sessions: u64,
    /// Requests answered from the table instead of applied: retries of
    /// requests whose answers were lost, and requests the network delivered
    /// twice.
    retries_answered: u64,
    /// The queue, behind the table of each client's last request.
    queue: ExactlyOnce<Queue>,
}

impl QueueStateMachine {
    /// An empty queue with `config`, and no sessions.
    pub fn new(config: QueueConfig) -> Self {
        Self {
            sessions: 0,
            retries_answered: 0,
            queue: ExactlyOnce::new(Queue::new(config)),
        }
    }

    /// Applies one committed command.
    pub fn apply(&mut self, command: &Command) -> CommandOutput {
        match command {
            Command::OpenSession => {
                self.sessions += 1;
                CommandOutput::SessionOpened(ClientId::new(self.sessions))
            }
            Command::NewTerm => CommandOutput::Nothing,
            Command::Request(request) => {
                let reply = self.queue.apply(request);
                if matches!(reply, Reply::Duplicate(_)) {
                    self.retries_answered += 1;
                }
                CommandOutput::Reply(reply)
            }
        }
    }

    /// The queue.
    pub fn queue(&self) -> &Queue {
        self.queue.machine()
    }

    /// The queue's counts, at its own time.
    pub fn attributes(&self) -> QueueAttributes {
        self.queue().attributes()
    }

    /// How many sessions were ever opened.
    pub fn sessions(&self) -> u64 {
        self.sessions
    }

    /// How many requests were answered from the exactly-once table: each a
    /// retry that, without the table, would have been applied twice.
    pub fn retries_answered(&self) -> u64 {
        self.retries_answered
    }
}

//! One replica of the queue: Workshop 4's Raft-lite node, the queue's state
//! machine, and the clients waiting for answers, as one sans-IO value.
//!
//! ## The problem
//!
//! The same replica has to run in two worlds: on the simulated network,
//! where a seed replays ten thousand messages through a leader crash event
//! for event, and as an operating-system process talking TCP, where the
//! instructor kills it for real. Code that did its own I/O would have to be
//! written twice, and the simulation would test the copy.
//!
//! ## The design
//!
//! [`QueueNode`] does no I/O and reads no clock, like the [`RaftNode`] inside
//! it. Its driver ticks it, steps Raft messages into it, hands it client
//! requests with the time they arrived (the only time the queue ever sees:
//! the leader stamps it on the operation it proposes), and then takes out a
//! [`Ready`]: changes to make durable, Raft messages to send, and answers for
//! clients. That is the shape of etcd's `Ready`, and the contract is the
//! same: **write the changes before sending anything else in the same
//! `Ready`**, so no vote and no acknowledged entry is ever forgotten by a
//! restart.
//!
//! A client's request becomes a log entry; the node keeps the client's reply
//! handle (of type `R`: the simulated network's `ReplyTo`, or a TCP
//! connection's) under the entry's index and term. When an entry is applied
//! at that index, the handle gets the state machine's answer if the entry is
//! the one proposed (same term), and is dropped if another leader's entry
//! took the place: the client times out and retries, and the exactly-once
//! table makes the retry safe either way.
//!
//! Any node answers a report of itself; a node that does not lead answers
//! every other request with the leader it knows of.
//!
//! ## What is left out
//!
//! Reads through the log (every answer about the queue's contents comes
//! from applying an operation), leader leases, and a bound on the clients
//! waiting at once: a real server refuses new requests when too many wait.

use std::collections::BTreeMap;
use std::time::Duration;

use coordination::{NodeId, Seed};
use workshop4::{
    ClientRequest, Entry, LogIndex, LostEntries, ProposeError, RaftConfig, RaftConfigError,
    RaftMessage, RaftNode, Reply, Role, StepError, Term,
};

use crate::durable::Persisted;
use crate::queue::check_send;
use crate::{
    Command, CommandOutput, DurableChange, DurableState, HardState, NodeReport, QueueConfig,
    QueueOperation, QueueRequest, QueueResponse, QueueStateMachine, Stamped,
};

/// What a node produced since the driver last asked: make `changes`
/// durable first, then send the rest.
#[derive(Debug)]
pub struct Ready<R> {
    /// Changes to the term, the vote and the log, in order. Write them
    /// before anything below leaves the node.
    pub changes: Vec<DurableChange>,
    /// Raft messages to send, each with its receiver.
    pub messages: Vec<(NodeId, RaftMessage<Command>)>,
    /// Answers for clients, each with the handle its request came with.
    pub replies: Vec<(R, QueueResponse)>,
    /// The entries applied to the state machine, in order: for checks that
    /// every replica applies the same commands.
    pub applied: Vec<Entry<Command>>,
    /// Followers this node, as leader, found to have lost entries they had
    /// acknowledged: a disk that did not keep what it was given. For the
    /// operator's log.
    pub lost_entries: Vec<LostEntries>,
}

/// A client waiting for the entry its request became.
#[derive(Debug)]
struct Waiting<R> {
    /// The term the entry was proposed in: if the entry applied at its index
    /// has another term, the request was lost to a change of leader.
    term: Term,
    /// Where the answer goes.
    reply: R,
}

/// One replica of the queue; see the module documentation.
#[derive(Debug)]
pub struct QueueNode<R> {
    /// The consensus.
    raft: RaftNode<Command>,
    /// The queue, as applied so far.
    state: QueueStateMachine,
    /// Clients waiting, by the index their request was proposed at.
    waiting: BTreeMap<LogIndex, Waiting<R>>,
    /// Answers ready to go.
    replies: Vec<(R, QueueResponse)>,
    /// What the durable store holds.
    persisted: Persisted,
    /// The last term in which this node, as leader, proposed its blank
    /// [`Command::NewTerm`] entry.
    announced: Option<Term>,
}

impl<R> QueueNode<R> {
    /// Node `id` of the cluster `members`, with Raft timing `raft` and queue
    /// settings `queue`, its election timeouts drawn from `seed`, restored
    /// from `durable` (empty on its first start). A restored node starts as
    /// a follower with its term, vote and log, and nothing applied: the
    /// leader's commit index tells it how far to apply again.
    ///
    /// # Errors
    /// [`RaftConfigError`] when `id` is not a member, or `durable` holds a
    /// log or a vote no run of Raft could have written.
    pub fn new(
        id: NodeId,
        members: &[NodeId],
        raft: RaftConfig,
        queue: QueueConfig,
        seed: Seed,
        durable: &DurableState,
    ) -> Result<Self, RaftConfigError> {
        let mut node = RaftNode::new(id, members, raft, seed)?;
        if !durable.is_empty() {
            let history = durable
                .entries
                .iter()
                .map(|entry| (entry.term, entry.command.clone()));
            node = node
                .with_history(durable.hard_state.term, history)?
                .with_vote(durable.hard_state.voted_for)?;
        }
        Ok(Self {
            raft: node,
            state: QueueStateMachine::new(queue),
            waiting: BTreeMap::new(),
            replies: Vec::new(),
            persisted: Persisted::of(durable),
            announced: None,
        })
    }

    /// The Raft node inside, to read.
    pub fn raft(&self) -> &RaftNode<Command> {
        &self.raft
    }

    /// The queue, as this replica has applied it so far.
    pub fn state(&self) -> &QueueStateMachine {
        &self.state
    }

    /// One tick of Raft time passes.
    pub fn tick(&mut self) {
        self.raft.tick();
    }

    /// Steps a Raft message from `from` into the node.
    ///
    /// # Errors
    /// [`StepError::UnknownSender`] when `from` is not a member.
    pub fn step(&mut self, from: NodeId, message: RaftMessage<Command>) -> Result<(), StepError> {
        self.raft.step(from, message)
    }

    /// Takes a client's request, which arrived at `now` (time since the
    /// deployment's epoch): answered at once when it is a report or this
    /// node does not lead, otherwise proposed, and answered when it is
    /// applied. The answer comes out of [`ready`](Self::ready) with `reply`.
    pub fn request(&mut self, request: QueueRequest, reply: R, now: Duration) {
        // A send the queue would refuse never enters the log: refused here,
        // it costs no replica a byte, and no append grows past what a peer
        // accepts.
        if let QueueRequest::Operation {
            operation: QueueOperation::Send(messages),
            ..
        } = &request
            && let Err(error) = check_send(messages)
        {
            self.replies.push((reply, QueueResponse::Done(Err(error))));
            return;
        }
        let command = match request {
            QueueRequest::Report => {
                let report = QueueResponse::Report(self.report());
                self.replies.push((reply, report));
                return;
            }
            QueueRequest::OpenSession => Command::OpenSession,
            QueueRequest::Operation {
                client,
                sequence,
                operation,
            } => Command::Request(ClientRequest {
                client,
                sequence,
                operation: Stamped { at: now, operation },
            }),
        };
        match self.raft.propose(command) {
            Ok((index, term)) => {
                // A request proposed at an index another one waited for
                // means that one's entry was overwritten: dropping its
                // handle leaves its client to time out and retry.
                self.waiting.insert(index, Waiting { term, reply });
            }
            Err(ProposeError::NotLeader { leader }) => {
                self.replies
                    .push((reply, QueueResponse::NotLeader { leader }));
            }
        }
    }

    /// Everything produced since the last call: applies what was committed,
    /// and lists what to write, send and answer.
    pub fn ready(&mut self) -> Ready<R> {
        let term = self.raft.term();
        if self.raft.role() == Role::Leader && self.announced != Some(term) {
            // Proposing fails only on a node that does not lead, which was
            // just checked.
            let _ = self.raft.propose(Command::NewTerm);
            self.announced = Some(term);
        }
        let hard_state = HardState {
            term: self.raft.term(),
            voted_for: self.raft.voted_for(),
        };
        let changes = self.persisted.catch_up(hard_state, self.raft.log());
        let messages = self.raft.take_messages();
        let applied = self.raft.take_committed();
        for entry in &applied {
            let output = self.state.apply(&entry.command);
            self.answer(entry, output);
        }
        Ready {
            changes,
            messages,
            replies: std::mem::take(&mut self.replies),
            applied,
            lost_entries: self.raft.take_lost_entries(),
        }
    }

    /// This node's view of itself and of the queue.
    pub fn report(&self) -> NodeReport {
        NodeReport {
            node: self.raft.id(),
            role: self.raft.role(),
            term: self.raft.term(),
            leader: self.raft.leader(),
            commit_index: self.raft.commit_index(),
            log_length: self.raft.log().last_index().get(),
            sessions: self.state.sessions(),
            attributes: self.state.attributes(),
            queue_time: self.state.queue().now(),
        }
    }

    /// Hands `output` to the client that waits for `entry`, if one does and
    /// the entry is the one it proposed.
    fn answer(&mut self, entry: &Entry<Command>, output: CommandOutput) {
        // Whoever waited for an earlier index missed its entry: it was
        // overwritten, and its client will retry.
        let later = self.waiting.split_off(&entry.index.next());
        let waiting = std::mem::replace(&mut self.waiting, later).remove(&entry.index);
        let Some(waiting) = waiting else {
            return;
        };
        if waiting.term != entry.term {
            return;
        }
        let response = match output {
            CommandOutput::SessionOpened(client) => QueueResponse::SessionOpened(client),
            CommandOutput::Reply(Reply::Applied(result) | Reply::Duplicate(result)) => {
                QueueResponse::Done(result)
            }
            CommandOutput::Reply(Reply::Expired { last }) => QueueResponse::Expired { last },
            // Nobody waits for a blank entry: the leader proposed it itself.
            CommandOutput::Nothing => return,
        };
        self.replies.push((waiting.reply, response));
    }
}

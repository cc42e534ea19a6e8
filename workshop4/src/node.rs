//! A Raft-lite node: the sans-IO shell around the protocol's rules.
//!
//! ## The problem
//!
//! A replicated service must keep answering when some of its machines fail,
//! without ever giving two different answers for the same question. Raft
//! (Ongaro and Ousterhout, "In Search of an Understandable Consensus
//! Algorithm", 2014) does it with a leader: one node at a time, elected by a
//! majority, orders every command in a log and copies the log to the others;
//! a command counts once a majority holds it, and the majority rule makes
//! sure every later leader holds it too.
//!
//! ## The design: sans-IO
//!
//! [`RaftNode`] does no I/O and reads no clock. Its driver (the test
//! [`RaftCluster`](crate::RaftCluster), a demo, or a service) does four things
//! with it, and nothing else:
//!
//! - [`tick`](RaftNode::tick) it every [`RaftConfig::tick`]: timeouts are
//!   counted in ticks;
//! - [`step`](RaftNode::step) every message that arrives for it into it;
//! - [`propose`](RaftNode::propose) commands to it while it leads;
//! - take out what it produced: [`take_messages`](RaftNode::take_messages) to
//!   send, and [`take_committed`](RaftNode::take_committed) to apply.
//!
//! Because time and the network are the driver's, a test can put a node in
//! any situation by stepping messages into it by hand, and a whole cluster
//! runs on the simulated network from one seed. This is how etcd's raft,
//! raft-rs and quinn-proto are built.
//!
//! The rules of the protocol live in three files, one per exercise:
//! `election.rs` (terms and votes, 4.1), `replication.rs` (the consistency
//! check and the leader's backoff, 4.2) and `commit.rs` (majority commit and
//! the current-term rule, 4.3). This file routes messages to them and keeps
//! the state they share: the explicit role ([`Role`]), the term and vote, the
//! log, and the commit and apply indexes.
//!
//! ## What is left out
//!
//! - **Persistence.** The paper requires the term, the vote and the log to
//!   reach stable storage before a node answers. Here they live in memory, so
//!   a crashed node must not come back empty: it would forget its vote and
//!   could vote twice in one term. A driver that keeps the three on disk (the
//!   capstone's replicated queue, or the test harness playing a disk)
//!   rebuilds a node after a restart with [`RaftNode::with_history`] and
//!   [`RaftNode::with_vote`].
//!
//! ## An imperfect disk
//!
//! The paper assumes stable storage that never loses what it acknowledged.
//! Real disks keep recent writes in a cache, and a power cut loses the
//! unsynced tail: a follower can come back with a shorter log than it
//! acknowledged. Raft-lite does not pretend otherwise, and keeps two rules
//! that hold whatever the disk did:
//!
//! - a follower never commits or applies past its own last entry, whatever
//!   commit index a leader announces; when a heartbeat announces one it does
//!   not hold, it answers with where its log ends, so that the leader resends
//!   what is missing;
//! - a leader that hears a follower no longer holds entries it acknowledged
//!   moves its next and match indexes back to where the follower's log
//!   really ends, and reports it ([`RaftNode::take_lost_entries`]) so the
//!   operator hears of a disk that lies.
//!
//! Neither makes a lying disk safe: an entry acknowledged by a majority that
//! then loses it can still be lost. That is why a real node syncs before it
//! answers.
//! - **Snapshots** and log compaction (section 7): the log grows for ever.
//! - **Membership changes** (section 6): the members are fixed at creation.
//! - **Leadership transfer, pre-vote and check-quorum** (etcd's additions): a
//!   node cut off and reconnected can still disrupt a healthy leader with a
//!   higher term, as in the paper.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use coordination::{NodeId, Seed, SimRng};

use crate::{
    AppendOutcome, AppendRequest, AppendResponse, Command, Entry, Heartbeat, HeartbeatResponse,
    Log, LogIndex, ProposeError, RaftConfig, RaftConfigError, RaftMessage, StepError, Term,
    VoteResponse,
};

/// The three roles of Raft, as a caller sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Follows a leader, or waits for one; starts an election when its
    /// election timeout passes without word from a leader.
    Follower,
    /// Stands for election in its current term.
    Candidate,
    /// Orders commands and replicates them for its term.
    Leader,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Follower => "follower",
            Self::Candidate => "candidate",
            Self::Leader => "leader",
        })
    }
}

/// What the leader knows about one follower's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The next index to send: where the leader believes the follower's log
    /// ends, plus one. A guess; moved back when the follower rejects.
    pub next_index: LogIndex,
    /// The highest index known to be in the follower's log and equal to the
    /// leader's. A fact as long as the follower's disk keeps what it
    /// acknowledged: it grows with every acceptance, and moves back only when
    /// the follower answers that it lost entries.
    pub match_index: LogIndex,
}

/// A follower answered that its log no longer holds entries it had
/// acknowledged: its disk lost an unsynced tail in a crash (or, on a network
/// that reorders, the answer is older than the acknowledgement). The leader
/// has moved back and resends; this record is for the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LostEntries {
    /// The leader's term when it heard.
    pub term: Term,
    /// The follower.
    pub follower: NodeId,
    /// The highest index the follower had acknowledged.
    pub acknowledged: LogIndex,
    /// Where the follower's log agrees with the leader's, by its answer: the
    /// leader resends from the index after it.
    pub holds: LogIndex,
}

impl fmt::Display for LostEntries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} lost entries after {} (it had acknowledged up to {}); resending from there in {}",
            self.follower, self.holds, self.acknowledged, self.term
        )
    }
}

/// A role with the state that only that role has, so that a follower cannot
/// hold votes and a candidate cannot hold progress.
#[cfg_attr(
    not(feature = "solution"),
    allow(
        dead_code,
        reason = "used by the exercises, unused while they are stubs"
    )
)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RoleState {
    /// Following `leader`, if it knows one.
    Follower,
    /// Counting the votes it has been granted in its current term, its own
    /// included.
    Candidate {
        /// Who voted for it.
        votes: BTreeSet<NodeId>,
    },
    /// Leading, with what it knows of every follower.
    Leader {
        /// Per follower.
        progress: BTreeMap<NodeId, Progress>,
        /// Commands proposed since the last tick, not yet sent: a burst of
        /// proposals leaves as one batch on the next tick.
        unsent: bool,
    },
}

/// Whether a message's term is current or behind this node's.
#[cfg_attr(
    not(feature = "solution"),
    allow(
        dead_code,
        reason = "used by the exercises, unused while they are stubs"
    )
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TermCheck {
    /// The message is from this node's term (perhaps after the node moved up
    /// to it): handle it.
    Current,
    /// The message is from an earlier term: its sender is out of date.
    Stale,
}

/// One node of a Raft-lite cluster; see the module documentation.
#[derive(Debug, Clone)]
pub struct RaftNode<C> {
    /// This node.
    pub(crate) id: NodeId,
    /// Every other member, sorted.
    pub(crate) peers: Vec<NodeId>,
    /// The timing.
    pub(crate) config: RaftConfig,
    /// Where election timeouts are drawn from; seeded, so a run repeats.
    #[cfg_attr(
        not(feature = "solution"),
        allow(
            dead_code,
            reason = "used by the exercises, unused while they are stubs"
        )
    )]
    pub(crate) rng: SimRng,
    /// The latest term this node has seen. Persistent state in the paper.
    pub(crate) term: Term,
    /// Whom it voted for in `term`, if anyone. Persistent state in the paper.
    pub(crate) voted_for: Option<NodeId>,
    /// The log. Persistent state in the paper.
    pub(crate) log: Log<C>,
    /// The highest index known to be committed.
    pub(crate) commit_index: LogIndex,
    /// The highest index handed out by `take_committed`.
    pub(crate) last_applied: LogIndex,
    /// Follower, candidate or leader, with that role's state.
    pub(crate) role: RoleState,
    /// The leader of `term`, once this node has heard from it.
    pub(crate) leader: Option<NodeId>,
    /// Ticks since the election timer was last reset (or, for a leader,
    /// since its last heartbeat).
    pub(crate) elapsed_ticks: u32,
    /// The election timeout in force, in ticks. Drawn at the first tick after
    /// each reset, so that building a node or stepping a message never draws.
    pub(crate) election_timeout_ticks: Option<u32>,
    /// Messages produced and not yet taken by the driver.
    pub(crate) outbox: Vec<(NodeId, RaftMessage<C>)>,
    /// Followers found to have lost acknowledged entries, not yet taken by
    /// the driver.
    pub(crate) lost_entries: Vec<LostEntries>,
}

impl<C: Command> RaftNode<C> {
    /// A follower in term 0 with an empty log, one of `members` (which must
    /// include `id`; order and repeats do not matter). `seed` draws its
    /// election timeouts: give each node its own.
    ///
    /// # Errors
    /// [`RaftConfigError::NotAMember`] when `id` is not in `members`.
    pub fn new(
        id: NodeId,
        members: &[NodeId],
        config: RaftConfig,
        seed: Seed,
    ) -> Result<Self, RaftConfigError> {
        if !members.contains(&id) {
            return Err(RaftConfigError::NotAMember(id));
        }
        let peers: BTreeSet<NodeId> = members
            .iter()
            .copied()
            .filter(|&member| member != id)
            .collect();
        Ok(Self {
            id,
            peers: peers.into_iter().collect(),
            config,
            rng: seed.rng(),
            term: Term::ZERO,
            voted_for: None,
            log: Log::new(),
            commit_index: LogIndex::ZERO,
            last_applied: LogIndex::ZERO,
            role: RoleState::Follower,
            leader: None,
            elapsed_ticks: 0,
            election_timeout_ticks: None,
            outbox: Vec::new(),
            lost_entries: Vec::new(),
        })
    }

    /// This node as if it had lived through `term` and holds `entries` (each
    /// a term and a command, from index 1), as a follower that has voted for
    /// nobody in `term` and knows nothing committed. For tests that start
    /// from a figure of the paper; a node with persistence would reload the
    /// same three things after a restart.
    ///
    /// # Errors
    /// [`RaftConfigError::ImpossibleHistory`] when entry terms go down or
    /// past `term`.
    pub fn with_history(
        mut self,
        term: Term,
        entries: impl IntoIterator<Item = (Term, C)>,
    ) -> Result<Self, RaftConfigError> {
        let mut log = Log::new();
        for (entry_term, command) in entries {
            let previous_term = log.last_term();
            if entry_term < previous_term || entry_term > term {
                return Err(RaftConfigError::ImpossibleHistory {
                    index: log.last_index().next(),
                    entry_term,
                    previous_term,
                    term,
                });
            }
            log.append(entry_term, command);
        }
        self.term = term;
        self.log = log;
        self.voted_for = None;
        self.commit_index = LogIndex::ZERO;
        self.last_applied = LogIndex::ZERO;
        self.role = RoleState::Follower;
        self.leader = None;
        Ok(self)
    }

    /// This node with `voted_for` as its vote in its current term: after
    /// [`with_history`](Self::with_history), the third thing a node with
    /// persistence reloads after a restart. Without it a restarted node has
    /// forgotten whom it voted for, and could vote for a second candidate in
    /// the same term.
    ///
    /// # Errors
    /// [`RaftConfigError::NotAMember`] when `voted_for` is neither this node
    /// nor one of its peers.
    pub fn with_vote(mut self, voted_for: Option<NodeId>) -> Result<Self, RaftConfigError> {
        if let Some(candidate) = voted_for
            && candidate != self.id
            && !self.peers.contains(&candidate)
        {
            return Err(RaftConfigError::NotAMember(candidate));
        }
        self.voted_for = voted_for;
        Ok(self)
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The other members, sorted.
    pub fn peers(&self) -> &[NodeId] {
        &self.peers
    }

    /// The latest term this node has seen.
    pub fn term(&self) -> Term {
        self.term
    }

    /// Follower, candidate or leader.
    pub fn role(&self) -> Role {
        match self.role {
            RoleState::Follower => Role::Follower,
            RoleState::Candidate { .. } => Role::Candidate,
            RoleState::Leader { .. } => Role::Leader,
        }
    }

    /// Whether this node leads its current term.
    pub fn is_leader(&self) -> bool {
        self.role() == Role::Leader
    }

    /// The leader of the current term as far as this node knows: itself when
    /// it leads.
    pub fn leader(&self) -> Option<NodeId> {
        match self.role {
            RoleState::Leader { .. } => Some(self.id),
            _ => self.leader,
        }
    }

    /// Whom this node voted for in its current term.
    pub fn voted_for(&self) -> Option<NodeId> {
        self.voted_for
    }

    /// The log.
    pub fn log(&self) -> &Log<C> {
        &self.log
    }

    /// The highest index this node knows to be committed.
    pub fn commit_index(&self) -> LogIndex {
        self.commit_index
    }

    /// The highest index handed out by [`take_committed`](Self::take_committed).
    pub fn last_applied(&self) -> LogIndex {
        self.last_applied
    }

    /// What the leader knows of `follower`'s log; `None` unless this node
    /// leads and `follower` is a peer.
    pub fn progress(&self, follower: NodeId) -> Option<Progress> {
        match &self.role {
            RoleState::Leader { progress, .. } => progress.get(&follower).copied(),
            _ => None,
        }
    }

    /// The timing.
    pub fn config(&self) -> &RaftConfig {
        &self.config
    }

    /// One tick of time passes. A follower or candidate whose election
    /// timeout has passed starts an election; a leader sends heartbeats every
    /// heartbeat interval and, on any tick, the commands proposed since the
    /// last one.
    pub fn tick(&mut self) {
        self.elapsed_ticks = self.elapsed_ticks.saturating_add(1);
        if let RoleState::Leader { unsent, .. } = &mut self.role {
            let send_entries = std::mem::take(unsent);
            if self.elapsed_ticks >= self.config.heartbeat_interval_ticks() {
                self.elapsed_ticks = 0;
                self.broadcast_heartbeat();
            }
            if send_entries {
                for follower in self.peers.clone() {
                    self.send_append(follower);
                }
            }
            return;
        }
        let timeout = match self.election_timeout_ticks {
            Some(timeout) => timeout,
            None => {
                let timeout = self.randomized_election_timeout();
                self.election_timeout_ticks = Some(timeout);
                timeout
            }
        };
        if self.elapsed_ticks >= timeout {
            self.start_election();
        }
    }

    /// Handles one message from `from`. What it produces waits in the outbox.
    ///
    /// # Errors
    /// [`StepError::UnknownSender`] when `from` is not a member; the message
    /// is ignored.
    pub fn step(&mut self, from: NodeId, message: RaftMessage<C>) -> Result<(), StepError> {
        if !self.peers.contains(&from) {
            return Err(StepError::UnknownSender { from });
        }
        if self.check_term(message.term()) == TermCheck::Stale {
            // A request from an old term gets this node's term back, which
            // deposes its sender; an old response has nothing left to answer.
            let term = self.term;
            let answer = match message {
                RaftMessage::RequestVote(_) => Some(RaftMessage::Vote(VoteResponse {
                    term,
                    granted: false,
                })),
                RaftMessage::AppendEntries(_) => {
                    Some(RaftMessage::AppendResponse(AppendResponse {
                        term,
                        outcome: AppendOutcome::StaleTerm,
                    }))
                }
                RaftMessage::Heartbeat(_) => {
                    Some(RaftMessage::HeartbeatResponse(HeartbeatResponse { term }))
                }
                _ => None,
            };
            if let Some(answer) = answer {
                self.send(from, answer);
            }
            return Ok(());
        }
        match message {
            RaftMessage::RequestVote(request) => {
                let vote = self.handle_request_vote(from, request);
                self.send(from, RaftMessage::Vote(vote));
            }
            RaftMessage::Vote(vote) => self.handle_vote(from, vote),
            RaftMessage::Heartbeat(heartbeat) => self.on_heartbeat(from, heartbeat),
            RaftMessage::HeartbeatResponse(_) => self.on_heartbeat_response(from),
            RaftMessage::AppendEntries(request) => self.on_append_entries(from, request),
            RaftMessage::AppendResponse(response) => match response.outcome {
                AppendOutcome::Accepted { match_index } => {
                    self.handle_append_success(from, match_index);
                }
                AppendOutcome::Rejected {
                    conflict_index,
                    conflict_term,
                } => self.handle_append_rejection(from, conflict_index, conflict_term),
                // Same term, so the follower cannot have found us stale.
                AppendOutcome::StaleTerm => {}
            },
        }
        Ok(())
    }

    /// Appends `command` to the leader's log for its term; it is sent on the
    /// next tick and comes out of [`take_committed`](Self::take_committed)
    /// once a majority holds it. The index and term identify the entry: if
    /// another entry ever comes out at that index, this command was lost to
    /// a change of leader and must be proposed again.
    ///
    /// # Errors
    /// [`ProposeError::NotLeader`], with the leader this node knows of.
    pub fn propose(&mut self, command: C) -> Result<(LogIndex, Term), ProposeError> {
        let RoleState::Leader { unsent, .. } = &mut self.role else {
            return Err(ProposeError::NotLeader {
                leader: self.leader,
            });
        };
        *unsent = true;
        let index = self.log.append(self.term, command);
        // A cluster of one is its own majority.
        self.advance_commit_index_if_alone();
        Ok((index, self.term))
    }

    /// The messages produced since the last call, in the order produced, each
    /// with the node to send it to.
    pub fn take_messages(&mut self) -> Vec<(NodeId, RaftMessage<C>)> {
        std::mem::take(&mut self.outbox)
    }

    /// The entries committed since the last call, in log order, for the state
    /// machine to apply: each exactly once, with no gaps, and never past the
    /// end of this node's log.
    pub fn take_committed(&mut self) -> Vec<Entry<C>> {
        // The commit index is the leader's word; what can be applied is what
        // this node holds. Marking as applied an entry it does not hold would
        // skip that entry for good once it arrives.
        let applicable = self.commit_index.min(self.log.last_index());
        if self.last_applied >= applicable {
            return Vec::new();
        }
        let committed = self
            .log
            .range(self.last_applied.next(), applicable)
            .to_vec();
        self.last_applied = applicable;
        committed
    }

    /// The followers found, since the last call, to no longer hold entries
    /// they had acknowledged, in the order found; empty unless this node led.
    /// A driver logs each: a follower's disk lost what it had acknowledged,
    /// which Raft assumes never happens.
    pub fn take_lost_entries(&mut self) -> Vec<LostEntries> {
        std::mem::take(&mut self.lost_entries)
    }

    // ----- Given helpers, used by the exercises -----

    /// How many members make a majority, this node included.
    #[cfg_attr(
        not(feature = "solution"),
        allow(
            dead_code,
            reason = "used by the exercises, unused while they are stubs"
        )
    )]
    pub(crate) fn quorum(&self) -> usize {
        let members = self.peers.len() + 1;
        members / 2 + 1
    }

    /// Queues `message` for `to`.
    pub(crate) fn send(&mut self, to: NodeId, message: RaftMessage<C>) {
        self.outbox.push((to, message));
    }

    /// Restarts the election timer; a new timeout is drawn at the next tick.
    pub(crate) fn reset_election_timer(&mut self) {
        self.elapsed_ticks = 0;
        self.election_timeout_ticks = None;
    }

    /// Becomes a follower in `term`, of `leader` if known. A new term comes
    /// with a fresh vote.
    pub(crate) fn become_follower(&mut self, term: Term, leader: Option<NodeId>) {
        if term > self.term {
            self.term = term;
            self.voted_for = None;
        }
        self.role = RoleState::Follower;
        self.leader = leader;
        self.reset_election_timer();
    }

    #[cfg_attr(
        not(feature = "solution"),
        allow(
            dead_code,
            reason = "used by the exercises, unused while they are stubs"
        )
    )]
    /// Becomes the leader of the current term: every follower's next index
    /// starts just past the leader's log, nothing is known to match, and
    /// heartbeats go out at once to claim the term.
    pub(crate) fn become_leader(&mut self) {
        let next_index = self.log.last_index().next();
        let progress = self
            .peers
            .iter()
            .map(|&peer| {
                let progress = Progress {
                    next_index,
                    match_index: LogIndex::ZERO,
                };
                (peer, progress)
            })
            .collect();
        self.role = RoleState::Leader {
            progress,
            unsent: false,
        };
        self.leader = Some(self.id);
        self.elapsed_ticks = 0;
        self.broadcast_heartbeat();
    }

    /// Sends `follower` the entries from its next index on (at most
    /// [`RaftConfig::max_entries_per_append`] of them), with the consistency
    /// check's coordinates (the entry just before them).
    pub(crate) fn send_append(&mut self, follower: NodeId) {
        let Some(progress) = self.progress(follower) else {
            return;
        };
        let prev_log_index = progress.next_index.previous();
        let prev_log_term = self
            .log
            .term_at(prev_log_index)
            .expect("next index never passes the end of the leader's log plus one");
        let request = AppendRequest {
            term: self.term,
            prev_log_index,
            prev_log_term,
            entries: self
                .log
                .range(
                    progress.next_index,
                    self.config
                        .max_entries_per_append()
                        .map_or(LogIndex::new(u64::MAX), |most| {
                            progress.next_index.plus(most - 1)
                        }),
                )
                .to_vec(),
            leader_commit: self.commit_index,
        };
        self.send(follower, RaftMessage::AppendEntries(request));
    }

    /// The leader hears that `follower` no longer holds what it acknowledged
    /// beyond `holds`: records it for the driver. The caller has moved the
    /// follower's progress back.
    #[cfg_attr(
        not(feature = "solution"),
        allow(
            dead_code,
            reason = "used by the exercises, unused while they are stubs"
        )
    )]
    pub(crate) fn report_lost_entries(
        &mut self,
        follower: NodeId,
        acknowledged: LogIndex,
        holds: LogIndex,
    ) {
        self.lost_entries.push(LostEntries {
            term: self.term,
            follower,
            acknowledged,
            holds,
        });
    }

    /// Sends every follower a heartbeat with the commit index it may adopt.
    fn broadcast_heartbeat(&mut self) {
        let RoleState::Leader { progress, .. } = &self.role else {
            return;
        };
        let heartbeats: Vec<(NodeId, Heartbeat)> = progress
            .iter()
            .map(|(&peer, progress)| {
                let commit = self.commit_index.min(progress.match_index);
                let heartbeat = Heartbeat {
                    term: self.term,
                    commit,
                };
                (peer, heartbeat)
            })
            .collect();
        for (peer, heartbeat) in heartbeats {
            self.send(peer, RaftMessage::Heartbeat(heartbeat));
        }
    }

    /// A leader of this term exists: a candidate gives up, a follower notes
    /// who leads and restarts its election timer.
    fn recognize_leader(&mut self, leader: NodeId) {
        // Two leaders in one term cannot happen: each needs a majority of
        // votes and every node votes once per term. If it did, following the
        // other would still be the safe reaction.
        self.become_follower(self.term, Some(leader));
    }

    fn on_heartbeat(&mut self, leader: NodeId, heartbeat: Heartbeat) {
        self.recognize_leader(leader);
        // The heartbeat's commit index is one the leader believes this node
        // holds. After a crash that lost the log's unsynced tail it may not:
        // commit only what is here.
        let last_index = self.log.last_index();
        if heartbeat.commit.min(last_index) > self.commit_index {
            self.follow_commit(heartbeat.commit, last_index);
        }
        if heartbeat.commit > last_index {
            // Say where the log really ends, in the words of a failed
            // consistency check, so that the leader resends from there:
            // a heartbeat response would tell it nothing, and a leader that
            // believes this node is up to date sends it nothing more.
            let outcome = AppendOutcome::Rejected {
                conflict_index: last_index.next(),
                conflict_term: None,
            };
            let response = AppendResponse {
                term: self.term,
                outcome,
            };
            self.send(leader, RaftMessage::AppendResponse(response));
            return;
        }
        let response = HeartbeatResponse { term: self.term };
        self.send(leader, RaftMessage::HeartbeatResponse(response));
    }

    fn on_heartbeat_response(&mut self, follower: NodeId) {
        // A follower that answers is reachable: if it is behind, this is the
        // moment to send it what it lacks (etcd does the same).
        if let Some(progress) = self.progress(follower)
            && progress.match_index < self.log.last_index()
        {
            self.send_append(follower);
        }
    }

    fn on_append_entries(&mut self, leader: NodeId, request: AppendRequest<C>) {
        self.recognize_leader(leader);
        let leader_commit = request.leader_commit;
        let outcome = self.handle_append_entries(request);
        if let AppendOutcome::Accepted { match_index } = outcome
            && leader_commit > self.commit_index
        {
            self.follow_commit(leader_commit, match_index);
        }
        let response = AppendResponse {
            term: self.term,
            outcome,
        };
        self.send(leader, RaftMessage::AppendResponse(response));
    }

    /// A leader without peers commits what it appends.
    fn advance_commit_index_if_alone(&mut self) {
        if self.peers.is_empty() {
            self.commit_index = self.log.last_index();
        }
    }
}

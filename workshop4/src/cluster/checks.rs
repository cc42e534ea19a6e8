//! The checks of the Raft lab: one leader, no leader, agreeing terms, how
//! many nodes committed an index, and agreement on a command.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use coordination::NodeId;
use coordination::sim::NodeStatus;
use rand::RngExt;
use tokio::time::Instant;

use super::{ClusterError, RaftCluster};
use crate::{Command, LogIndex, Term};

/// How often the checks look at the cluster while they wait.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// How many times [`RaftCluster::check_one_leader`] looks for a leader.
const LEADER_CHECKS: usize = 10;

/// The shortest wait before each look for a leader: the lab's 450 ms.
const SETTLE_MIN: Duration = Duration::from_millis(450);

/// The longest wait before each look for a leader: the lab's 550 ms. Drawn
/// at random in between, so checks do not fall into step with heartbeats.
const SETTLE_MAX: Duration = Duration::from_millis(550);

/// How long [`RaftCluster::agree`] keeps trying, over all attempts.
const AGREEMENT_DEADLINE: Duration = Duration::from_secs(10);

/// How long [`RaftCluster::agree`] waits for one proposal to be committed.
const ATTEMPT_DEADLINE: Duration = Duration::from_secs(2);

/// How many proposals an agreement may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proposals {
    /// The first must be committed.
    One,
    /// Propose again, at whichever node leads then, until the deadline.
    UntilDeadline,
}

impl<C: Command> RaftCluster<C> {
    /// The leaders among the nodes that are up and connected, by term.
    pub fn leaders(&self) -> BTreeMap<Term, Vec<NodeId>> {
        let mut leaders: BTreeMap<Term, Vec<NodeId>> = BTreeMap::new();
        for node in self.reachable() {
            if let Some(state) = self.nodes.get(&node)
                && state.is_leader()
            {
                leaders.entry(state.term()).or_default().push(node);
            }
        }
        leaders
    }

    /// Waits about half a second, then until the connected nodes have a
    /// leader, and returns the leader of the newest term (an older leader cut off from the rest may still
    /// believe it leads).
    ///
    /// # Errors
    /// [`ClusterError::NoLeader`] after ten looks, about five simulated
    /// seconds, without one;
    /// any safety violation seen so far, two leaders in a term among them.
    pub async fn check_one_leader(&mut self) -> Result<NodeId, ClusterError> {
        let started = Instant::now();
        for _ in 0..LEADER_CHECKS {
            // Let things settle first, as the lab does: an old leader that
            // was just reconnected needs a moment to learn it was replaced.
            let settle = self.rng.random_range(SETTLE_MIN..=SETTLE_MAX);
            self.run_for(settle).await;
            // Two leaders of one term are a safety violation, which the
            // oracle saw as the second one took office.
            self.check_safety()?;
            if let Some((_, nodes)) = self.leaders().last_key_value() {
                return Ok(nodes[0]);
            }
        }
        let candidates = self.reachable();
        let states = candidates
            .iter()
            .filter_map(|id| {
                let node = self.nodes.get(id)?;
                Some((*id, node.role(), node.term()))
            })
            .collect();
        Err(ClusterError::NoLeader {
            candidates,
            waited: started.elapsed(),
            states,
        })
    }

    /// Checks that no node that is up and connected leads.
    ///
    /// # Errors
    /// [`ClusterError::UnexpectedLeader`] naming one that does.
    pub fn check_no_leader(&self) -> Result<(), ClusterError> {
        self.check_safety()?;
        match self.leaders().into_iter().next_back() {
            Some((term, nodes)) => Err(ClusterError::UnexpectedLeader {
                node: nodes[0],
                term,
            }),
            None => Ok(()),
        }
    }

    /// The term every connected node agrees on.
    ///
    /// # Errors
    /// [`ClusterError::TermsDisagree`] with every connected node's term.
    pub fn check_terms(&self) -> Result<Term, ClusterError> {
        let terms: BTreeMap<NodeId, Term> = self
            .reachable()
            .into_iter()
            .filter_map(|id| Some((id, self.nodes.get(&id)?.term())))
            .collect();
        let distinct: BTreeSet<Term> = terms.values().copied().collect();
        match distinct.len() {
            1 => Ok(*distinct.first().expect("one term")),
            _ => Err(ClusterError::TermsDisagree { terms }),
        }
    }

    /// How many nodes (up or not, connected or not) have applied `index`,
    /// and the command there.
    ///
    /// # Errors
    /// Any safety violation seen so far (disagreement at an index is one).
    pub fn committed(&self, index: LogIndex) -> Result<(usize, Option<C>), ClusterError> {
        self.check_safety()?;
        let (count, command) = self.oracle.applied_at(index);
        Ok((count, command.cloned()))
    }

    /// Submits `command` and waits until at least `expected` nodes have
    /// committed it, like the lab's `one()` with retries: it proposes at the
    /// leader of the newest term among the connected nodes and waits up to
    /// 2 s for agreement, then proposes again (at another leader, perhaps),
    /// for up to 10 s in all. Returns the index the command was committed
    /// at.
    ///
    /// # Errors
    /// [`ClusterError::NoAgreement`] when it does not happen in time; any
    /// safety violation.
    pub async fn agree(&mut self, command: C, expected: usize) -> Result<LogIndex, ClusterError> {
        self.agree_within(command, expected, Proposals::UntilDeadline)
            .await
    }

    /// As [`agree`](Self::agree), but the first proposal must be committed
    /// within 2 s, like the lab's `one()` without retries: for a test in
    /// which the leader that takes the command stays in office, so a second
    /// proposal would hide a leader that fails to replicate.
    ///
    /// # Errors
    /// [`ClusterError::NoAgreement`] when it does not happen in time; any
    /// safety violation.
    pub async fn agree_on_first_proposal(
        &mut self,
        command: C,
        expected: usize,
    ) -> Result<LogIndex, ClusterError> {
        self.agree_within(command, expected, Proposals::One).await
    }

    async fn agree_within(
        &mut self,
        command: C,
        expected: usize,
        proposals: Proposals,
    ) -> Result<LogIndex, ClusterError> {
        let started = Instant::now();
        let mut best = 0;
        while started.elapsed() < AGREEMENT_DEADLINE {
            // Waiting for a leader to propose at is not a proposal: both
            // kinds of agreement wait for one up to the deadline.
            let Some(index) = self.propose_anywhere(&command) else {
                self.run_for(POLL_INTERVAL).await;
                continue;
            };
            let attempt = Instant::now();
            while attempt.elapsed() < ATTEMPT_DEADLINE {
                let (count, committed) = self.committed(index)?;
                if committed.as_ref() == Some(&command) {
                    best = best.max(count);
                    if count >= expected {
                        return Ok(index);
                    }
                }
                self.run_for(POLL_INTERVAL).await;
            }
            if proposals == Proposals::One {
                break;
            }
        }
        self.check_safety()?;
        Err(ClusterError::NoAgreement {
            command: format!("{command:?}"),
            expected,
            best,
            waited: started.elapsed(),
        })
    }

    /// Waits until at least `expected` nodes have committed `index`, for at
    /// most `timeout`, and returns the command there; `None` in time or when
    /// a node moves past `start_term` (the proposal may have been lost to a
    /// new leader), as the lab's `wait` does.
    ///
    /// # Errors
    /// Any safety violation.
    pub async fn wait_for(
        &mut self,
        index: LogIndex,
        expected: usize,
        start_term: Term,
        timeout: Duration,
    ) -> Result<Option<C>, ClusterError> {
        let started = Instant::now();
        loop {
            let (count, command) = self.committed(index)?;
            if count >= expected {
                return Ok(command);
            }
            let moved_on = self.nodes.values().any(|node| node.term() > start_term);
            if moved_on || started.elapsed() >= timeout {
                return Ok(None);
            }
            self.run_for(POLL_INTERVAL).await;
        }
    }

    /// Fails with the first safety violation seen, if any.
    ///
    /// # Errors
    /// [`ClusterError::SafetyViolation`].
    pub fn check_safety(&self) -> Result<(), ClusterError> {
        Ok(self.oracle.check()?)
    }

    /// The nodes that are up (not crashed, not paused) and connected, as the
    /// network has them.
    fn reachable(&self) -> Vec<NodeId> {
        self.members
            .iter()
            .copied()
            .filter(|&id| self.network.is_connected(id) == Ok(true))
            .filter(|&id| self.network.status(id) == Ok(NodeStatus::Running))
            .filter(|id| self.nodes.contains_key(id))
            .collect()
    }

    /// Proposes at the leader of the newest term among the nodes that are
    /// up and connected: on the minority side of a partition an old leader
    /// may still believe it leads. `None` when no such node leads.
    fn propose_anywhere(&mut self, command: &C) -> Option<LogIndex> {
        let (_, leaders) = self.leaders().into_iter().next_back()?;
        let (index, _) = self.propose(leaders[0], command.clone()).ok()?;
        Some(index)
    }
}

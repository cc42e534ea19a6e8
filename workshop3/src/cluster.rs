//! A cluster to run an election in: candidates, a lease store and storage on
//! one simulated network.
//!
//! Every test and demo of this workshop needs the same cast: a few candidate
//! nodes that run some *program* (the code under test), the lease store they
//! compete for, and the storage the leader writes to. [`Cluster::start`]
//! puts them on a [`Network`] and starts the program on each candidate as a
//! task of that node, so crashing the node stops it. Faults are injected
//! through [`Cluster::network`] (pause, partition, ...) or, for what needs
//! the cluster's help, [`Cluster::crash`] and [`Cluster::restart`].
//!
//! Afterwards the cluster answers the questions the tests ask: who believes
//! it leads ([`Cluster::leaders`]), who holds the lease
//! ([`Cluster::lease_store`]), what storage accepted ([`Cluster::storage`]),
//! and every change of mind ([`Cluster::journal`]).

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use coordination::sim::{Inbox, Network, NetworkConditions, NetworkError, Node, clock};
use coordination::{ConfigError, NodeId, Seed};

use crate::{
    ClusterMessage, ElectionConfig, Fencing, HeartbeatConfig, Journal, Leadership, LeaseClient,
    LeaseStore, Storage, StorageClient,
};

/// The lease store's node.
pub const LEASE_STORE: NodeId = NodeId::new(100);
/// Storage's node.
pub const STORAGE: NodeId = NodeId::new(200);

/// How a cluster is set up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClusterConfig {
    /// How many candidates: they are `node-1` to `node-N`.
    pub candidates: u32,
    /// The network's losses and delays.
    pub conditions: NetworkConditions,
    /// Whether storage checks fencing tokens.
    pub fencing: Fencing,
    /// Lease duration, renew deadline and retry period.
    pub election: ElectionConfig,
    /// Heartbeat interval and suspicion timeout.
    pub heartbeats: HeartbeatConfig,
    /// How long a node waits for the lease store's or storage's answer.
    pub call_timeout: Duration,
    /// How long the leader takes to prepare each entry before writing it.
    pub work_time: Duration,
}

impl ClusterConfig {
    /// `candidates` candidates on a reliable network, storage without
    /// fencing, Kubernetes' election timings (15 s / 10 s / 2 s), a
    /// heartbeat every second with suspicion after three missed, calls that
    /// wait one second, and half a second of work per entry.
    pub fn new(candidates: u32) -> Self {
        Self {
            candidates,
            conditions: NetworkConditions::reliable(),
            fencing: Fencing::Off,
            election: ElectionConfig::KUBERNETES,
            heartbeats: HeartbeatConfig::DEFAULT,
            call_timeout: Duration::from_secs(1),
            work_time: Duration::from_millis(500),
        }
    }
}

/// Why a cluster could not be set up or changed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClusterError {
    /// A cluster with no candidates: nobody could ever lead.
    #[error("a cluster needs at least one candidate, got none")]
    NoCandidates,
    /// A setting that cannot work: a zero call timeout (every call would
    /// time out unanswered) or a zero work time (the leader would write
    /// without ever letting time pass).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The node named is not one of the candidates (the lease store and
    /// storage are not crashed or restarted through the cluster).
    #[error("{0} is not a candidate of this cluster")]
    UnknownCandidate(NodeId),
    /// The network refused the operation.
    #[error(transparent)]
    Network(#[from] NetworkError),
}

/// Everything a candidate's program gets: its node, its inbox and its clients.
#[derive(Debug)]
pub struct NodeContext {
    /// This node's handle: send, call, sleep, spawn.
    pub node: Node<ClusterMessage>,
    /// This node's inbox; heartbeats arrive here.
    pub inbox: Inbox<ClusterMessage>,
    /// The other candidates, sorted.
    pub peers: Vec<NodeId>,
    /// This node's client for the lease store.
    pub lease: LeaseClient,
    /// This node's client for storage.
    pub storage: StorageClient,
    /// This node's belief that it leads, recorded in the cluster's journal.
    pub leadership: Leadership,
    /// The cluster's settings.
    pub config: ClusterConfig,
}

/// A boxed program future: what each candidate runs.
type ProgramFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
/// The program every candidate runs, started again on each restart.
type Program = Arc<dyn Fn(NodeContext) -> ProgramFuture + Send + Sync>;

/// Candidates, a lease store and storage on one simulated network.
pub struct Cluster {
    /// The network everything talks over.
    network: Network<ClusterMessage>,
    /// The settings it was started with.
    config: ClusterConfig,
    /// The lease store's state, shared with its service task.
    lease_store: Arc<Mutex<LeaseStore>>,
    /// Storage's state, shared with its service task.
    storage: Arc<Mutex<Storage>>,
    /// Every node's changes of mind.
    journal: Journal,
    /// Each candidate's belief, in its current life.
    leaderships: BTreeMap<NodeId, Leadership>,
    /// What every candidate runs.
    program: Program,
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("config", &self.config)
            .field("candidates", &self.leaderships.keys())
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// Starts a cluster from `seed` and `config` whose candidates each run
    /// `program`, for example `|context| run_candidate(context)`.
    ///
    /// # Errors
    /// [`ClusterError::NoCandidates`] for zero candidates;
    /// [`ClusterError::Config`] for a zero call timeout or work time.
    pub fn start<R, F>(seed: Seed, config: ClusterConfig, program: R) -> Result<Self, ClusterError>
    where
        R: Fn(NodeContext) -> F + Send + Sync + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        if config.candidates == 0 {
            return Err(ClusterError::NoCandidates);
        }
        ConfigError::ensure_positive("call timeout", config.call_timeout)?;
        ConfigError::ensure_positive("work time", config.work_time)?;
        let network = Network::new(seed, config.conditions);
        let candidates: Vec<NodeId> = (1..=config.candidates).map(NodeId::new).collect();

        let lease_store = Arc::new(Mutex::new(LeaseStore::new(candidates.iter().copied())));
        let (store_node, store_inbox) = network.add_node(LEASE_STORE)?;
        let state = Arc::clone(&lease_store);
        store_node.serve(store_inbox, move |caller, request| {
            lock(&state).answer(caller, request, clock::elapsed())
        })?;

        let storage = Arc::new(Mutex::new(Storage::new(config.fencing)));
        let (storage_node, storage_inbox) = network.add_node(STORAGE)?;
        let state = Arc::clone(&storage);
        storage_node.serve(storage_inbox, move |writer, write| {
            lock(&state).answer(writer, write, clock::elapsed())
        })?;

        let mut cluster = Self {
            network,
            config,
            lease_store,
            storage,
            journal: Journal::new(),
            leaderships: BTreeMap::new(),
            program: Arc::new(move |context| Box::pin(program(context))),
        };
        for candidate in candidates {
            let (node, inbox) = cluster.network.add_node(candidate)?;
            cluster.launch(node, inbox)?;
        }
        Ok(cluster)
    }

    /// The network, for faults the cluster does not wrap: `pause`,
    /// `resume`, `partition`, `heal`, `disconnect`, `set_conditions`; and for
    /// message counts and the trace.
    pub fn network(&self) -> &Network<ClusterMessage> {
        &self.network
    }

    /// The settings the cluster was started with.
    pub fn config(&self) -> &ClusterConfig {
        &self.config
    }

    /// The candidates, sorted.
    pub fn candidates(&self) -> Vec<NodeId> {
        self.leaderships.keys().copied().collect()
    }

    /// Lets the cluster run for `duration` of simulated time.
    ///
    /// # Panics
    /// When a candidate's task panicked (a `todo!()` in an exercise): the
    /// task's own panic, raised again here.
    pub async fn run_for(&self, duration: Duration) {
        self.network.run_for(duration).await;
    }

    /// Lets the cluster run until `done` says so, checking every 50 ms of
    /// simulated time, for at most `limit`. Returns whether `done` was met.
    ///
    /// Fifty milliseconds is fine-grained next to the election's timings
    /// (seconds) and coarse enough that waiting out a lease costs a few
    /// hundred checks, not thousands.
    pub async fn run_until(&self, limit: Duration, mut done: impl FnMut(&Self) -> bool) -> bool {
        const STEP: Duration = Duration::from_millis(50);
        let mut waited = Duration::ZERO;
        while !done(self) {
            if waited >= limit {
                return false;
            }
            self.network.run_for(STEP).await;
            waited += STEP;
        }
        true
    }

    /// Crashes candidate `node`: its tasks stop, its memory is gone.
    ///
    /// # Errors
    /// [`ClusterError::UnknownCandidate`] for a node that is not a
    /// candidate; the network's refusal when it has already crashed.
    pub fn crash(&self, node: NodeId) -> Result<(), ClusterError> {
        let leadership = self.candidate(node)?;
        self.network.crash(node)?;
        leadership.forget();
        Ok(())
    }

    /// Restarts crashed candidate `node` with empty memory: a new belief (a
    /// follower's) and its program started afresh.
    ///
    /// # Errors
    /// [`ClusterError::UnknownCandidate`] for a node that is not a
    /// candidate; the network's refusal unless it has crashed.
    pub fn restart(&mut self, node: NodeId) -> Result<(), ClusterError> {
        self.candidate(node)?;
        let (handle, inbox) = self.network.restart(node)?;
        self.launch(handle, inbox)
    }

    /// Takes the lease away from its holder, as an operator would.
    pub fn revoke_lease(&self) {
        lock(&self.lease_store).revoke(clock::elapsed());
    }

    /// The candidates that believe they lead right now, sorted. More than
    /// one is split brain.
    pub fn leaders(&self) -> Vec<NodeId> {
        self.leaderships
            .values()
            .filter(|leadership| leadership.is_leading())
            .map(Leadership::node)
            .collect()
    }

    /// The belief of candidate `node` in its current life.
    ///
    /// # Errors
    /// [`ClusterError::UnknownCandidate`].
    pub fn leadership(&self, node: NodeId) -> Result<&Leadership, ClusterError> {
        self.candidate(node)
    }

    /// A copy of the lease store as it is now: its history and its lease.
    pub fn lease_store(&self) -> LeaseStore {
        lock(&self.lease_store).clone()
    }

    /// A copy of storage as it is now: accepted and refused writes.
    pub fn storage(&self) -> Storage {
        lock(&self.storage).clone()
    }

    /// Every node's changes of mind.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// Gives a new life of a candidate its belief and starts its program.
    fn launch(
        &mut self,
        node: Node<ClusterMessage>,
        inbox: Inbox<ClusterMessage>,
    ) -> Result<(), ClusterError> {
        let id = node.id();
        let leadership = Leadership::new(id, self.journal.clone());
        self.leaderships.insert(id, leadership.clone());
        let context = NodeContext {
            peers: (1..=self.config.candidates)
                .map(NodeId::new)
                .filter(|peer| *peer != id)
                .collect(),
            lease: LeaseClient::new(node.clone(), LEASE_STORE, self.config.call_timeout),
            storage: StorageClient::new(node.clone(), STORAGE, self.config.call_timeout),
            leadership,
            config: self.config,
            inbox,
            node: node.clone(),
        };
        node.spawn((self.program)(context))?;
        Ok(())
    }

    fn candidate(&self, node: NodeId) -> Result<&Leadership, ClusterError> {
        self.leaderships
            .get(&node)
            .ok_or(ClusterError::UnknownCandidate(node))
    }
}

/// Locks a service's state. Only the service's handler and the cluster's
/// short reads hold it; a poisoned lock means a handler panicked, and that
/// panic already fails the run.
fn lock<T>(state: &Mutex<T>) -> MutexGuard<'_, T> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

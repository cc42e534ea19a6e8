//! A whole day of the photo service, simulated: producers, consumers, the
//! replicated queue, and the faults of the day.
//!
//! A [`Scenario`] says how big the day is and what goes wrong in it;
//! [`Scenario::run`] plays it on the paused clock from one seed and returns a
//! [`ScenarioReport`] of everything the rules are checked against. The
//! rules themselves are in [`ScenarioReport::violations`].
//!
//! Time in a scenario is simulated: a run of ten thousand messages covers a
//! minute or five of the service's time and takes one to three seconds of
//! the machine's in a test build (a third of a second optimised).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant as WallClock};

use coordination::sim::{FaultPlan, Hang, Network, NetworkConditions, NetworkError, Node, clock};
use coordination::{ConfigError, MaxAttempts, NodeId, Probability, Seed, SimRng};
use rand::RngExt;
use workshop1::{BackoffPolicy, RetryPolicy};
use workshop4::RaftConfig;

use crate::sim::{QueueCluster, ScenarioReport, SimTransport};
use crate::{
    ClientSettings, ConsumerCounter, ConsumerHost, ConsumerSettings, ConsumerStats, FencedGallery,
    Packet, ProgressStore, QueueClient, QueueConfig, Upload, run_consumer, run_producer,
};

/// A fault a scenario injects into the queue's replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterFault {
    /// Kills the leader's process at `at`, and starts it again from its
    /// disk `down_for` later.
    KillLeader {
        /// When, in simulated time since the run began.
        at: Duration,
        /// How long it stays down.
        down_for: Duration,
    },
    /// Cuts the leader and one follower off from everyone else (the other
    /// replicas and every client) at `at`, and heals the partition
    /// `lasting` later. With five replicas, the leader's side is a
    /// minority: it cannot commit, and the majority elects a leader of its
    /// own.
    IsolateLeaderWithMinority {
        /// When, in simulated time since the run began.
        at: Duration,
        /// How long the partition lasts.
        lasting: Duration,
    },
}

/// How big a scenario is and what goes wrong in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Its name, for reports.
    pub name: &'static str,
    /// How many uploads the producers send.
    pub messages: u64,
    /// The share of uploads that are corrupt: poison messages.
    pub poison: Probability,
    /// How many replicas the queue has.
    pub replicas: u32,
    /// How many producers share the uploads.
    pub producers: u32,
    /// How many consumer hosts there are.
    pub consumer_hosts: u32,
    /// Workers per consumer host.
    pub workers_per_host: usize,
    /// The share of processing attempts that fail transiently.
    pub transient_failures: Probability,
    /// The share of processing attempts that stall past the visibility
    /// timeout before they finish.
    pub stalls: Probability,
    /// On average, how often a consumer host crashes (one at random), if
    /// they do; it comes back after [`Scenario::down_for`].
    pub consumer_crashes_every: Option<Duration>,
    /// On average, how often a producer crashes (one at random), if they
    /// do; it comes back after [`Scenario::down_for`].
    pub producer_crashes_every: Option<Duration>,
    /// How long a crashed client host stays down.
    pub down_for: Duration,
    /// The network's losses and delays.
    pub network: NetworkConditions,
    /// What happens to the replicas, in order of time.
    pub faults: Vec<ClusterFault>,
    /// The queue's settings.
    pub queue: QueueConfig,
    /// How long the run may take in simulated time before it is declared
    /// stuck.
    pub time_limit: Duration,
}

/// How often the runner looks at the run: to inject the next fault, and to
/// see whether everything is done.
const STEP: Duration = Duration::from_millis(50);

/// How long the replicas run after the work is done, everything healed, so
/// that every replica learns the final commit index before the logs are
/// compared.
const SETTLE: Duration = Duration::from_secs(2);

/// The first client node's number; replicas are numbered from 1.
const FIRST_PRODUCER: u32 = 100;

/// The first consumer host's node number.
const FIRST_CONSUMER: u32 = 200;

impl Scenario {
    /// Ten thousand uploads, 1% of them corrupt, through three replicas on a
    /// reliable network; two producers; three consumer hosts of four
    /// workers, whose image service fails 10% of attempts and stalls 0.2%
    /// of them. A consumer host crashes every two seconds on average, a
    /// producer every three while it has uploads left, and each comes back
    /// after 200 ms. No replica fails: each scenario adds its own faults.
    ///
    /// # Panics
    /// Never: the rates and settings are constants checked by the tests.
    pub fn baseline(name: &'static str) -> Self {
        let rate = |value| Probability::new(value).expect("a constant rate between 0 and 1");
        Self {
            name,
            messages: 10_000,
            poison: rate(0.01),
            replicas: 3,
            producers: 2,
            consumer_hosts: 3,
            workers_per_host: 4,
            transient_failures: rate(0.1),
            stalls: rate(0.002),
            consumer_crashes_every: Some(Duration::from_secs(2)),
            producer_crashes_every: Some(Duration::from_secs(3)),
            down_for: Duration::from_millis(200),
            network: NetworkConditions::reliable(),
            faults: Vec::new(),
            queue: QueueConfig::new(
                Duration::from_secs(5),
                MaxAttempts::new(10).expect("10 is not zero"),
            )
            .expect("five seconds is a valid visibility timeout"),
            time_limit: Duration::from_secs(30 * 60),
        }
    }

    /// The weather alone: poison uploads, failing and stalling image
    /// workers, crashing consumer hosts and producers.
    pub fn poison_and_crashing_clients() -> Self {
        Self::baseline("poison and crashing clients")
    }

    /// The weather, and the leader's process killed ten seconds in, back
    /// from its disk five seconds later.
    pub fn leader_killed() -> Self {
        let mut scenario = Self::baseline("leader killed");
        scenario.faults.push(ClusterFault::KillLeader {
            at: Duration::from_secs(10),
            down_for: Duration::from_secs(5),
        });
        scenario
    }

    /// The weather, five replicas, and the leader and one follower cut off
    /// from everyone else ten seconds in, for ten seconds.
    pub fn leader_isolated_with_a_minority() -> Self {
        let mut scenario = Self::baseline("leader isolated with a minority");
        scenario.replicas = 5;
        scenario
            .faults
            .push(ClusterFault::IsolateLeaderWithMinority {
                at: Duration::from_secs(10),
                lasting: Duration::from_secs(10),
            });
        scenario
    }

    /// The weather, on the Raft lab's unreliable network (10% of requests
    /// and of replies lost, replies after their handler ran; 10% of
    /// messages held back for up to 2.2 s), which also duplicates 5% of
    /// messages: requests the queue sees twice, replies a client hears
    /// twice, Raft messages a node steps twice.
    pub fn unreliable_network() -> Self {
        let mut scenario = Self::baseline("unreliable network");
        let five_percent = Probability::new(0.05).expect("0.05 lies between 0 and 1");
        scenario.network = NetworkConditions::unreliable().with_duplication(five_percent);
        scenario
    }

    /// The capstone's four scenarios, as its tests run them.
    pub fn all() -> [Self; 4] {
        [
            Self::poison_and_crashing_clients(),
            Self::leader_killed(),
            Self::leader_isolated_with_a_minority(),
            Self::unreliable_network(),
        ]
    }

    /// Plays the scenario from `seed` on the paused clock: call it inside
    /// [`simulate`](coordination::sim::simulate) (a sweep does).
    ///
    /// # Errors
    /// [`ConfigError`] for settings that cannot work (no producers, no
    /// workers); [`NetworkError`] never, for a scenario this type can
    /// describe.
    ///
    /// # Panics
    /// When a client task panics, with its own message: an unfinished
    /// exercise (`not yet implemented: exercise 4.1 ...`) shows up here.
    pub async fn run(&self, seed: Seed) -> Result<ScenarioReport, ScenarioError> {
        let started = WallClock::now();
        if self.producers == 0 || self.consumer_hosts == 0 {
            return Err(ConfigError::NoWorkers.into());
        }
        let mut cluster = QueueCluster::new(
            self.replicas,
            seed,
            self.network,
            RaftConfig::paper(),
            self.queue,
        )?;
        let uploads = Upload::batch(self.messages, self.poison, seed);
        let mut clients = Clients::new(self, &cluster, seed, &uploads)?;
        clients.start_all()?;
        let mut rng = seed.derive(FAULT_STREAM).rng();
        let mut schedule = Schedule::new(self, &mut rng);
        let mut finished = false;
        // Times in the plan count from the start of this run, whatever ran
        // on the same clock before it.
        let begun = clock::elapsed();
        let since_begun = || clock::elapsed().saturating_sub(begun);
        while since_begun() < self.time_limit {
            cluster.run_for(STEP).await;
            let now = since_begun();
            schedule.apply_due(now, &mut cluster, &mut clients, &mut rng)?;
            if schedule.is_over() && clients.producers_finished() && is_drained(&cluster) {
                finished = true;
                break;
            }
        }
        let work_done_at = since_begun();
        schedule.restore(&mut cluster, &mut clients)?;
        cluster.run_for(SETTLE).await;
        Ok(ScenarioReport::gather(
            self,
            seed,
            &cluster,
            uploads,
            &clients,
            finished,
            work_done_at,
            started.elapsed(),
        ))
    }
}

/// Whether the queue has nothing left, as the leader has applied it: every
/// message sent is deleted or dead-lettered (they leave the queue no other
/// way).
fn is_drained(cluster: &QueueCluster) -> bool {
    cluster.leader().is_some()
        && cluster
            .state()
            .is_some_and(|state| state.queue().is_empty())
}

/// Why a scenario could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScenarioError {
    /// Its settings cannot work.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The simulated network refused a step of the scenario.
    #[error(transparent)]
    Network(#[from] NetworkError),
}

/// One producer of a run.
pub(crate) struct Producer {
    node: NodeId,
    /// The uploads it sends, in order.
    uploads: Arc<[Upload]>,
    /// How far it got; outlives its crashes.
    pub(crate) progress: ProgressStore,
}

/// The producers and consumer hosts of a run, and what they share.
pub(crate) struct Clients {
    /// Every replica, for the clients to ask.
    members: Vec<NodeId>,
    /// The network the clients are on.
    network: Network<Packet>,
    /// The producers.
    pub(crate) producers: Vec<Producer>,
    /// Each consumer host's node.
    consumers: Vec<NodeId>,
    /// How consumers work.
    consumer_settings: ConsumerSettings,
    /// How clients retry.
    client_settings: ClientSettings,
    /// The gallery every consumer publishes to.
    pub(crate) sink: Arc<Mutex<FencedGallery>>,
    /// What each life of each consumer host counted, in the order the
    /// lives started; a crashed life's counts stay here.
    consumer_lives: Vec<ConsumerCounter>,
    /// The run's seed.
    seed: Seed,
    /// Each client's handle for its first life, until it is started.
    first_lives: BTreeMap<NodeId, Node<Packet>>,
    /// How many lives each client node has had.
    lives: BTreeMap<NodeId, u64>,
    /// How many times client hosts crashed.
    pub(crate) crashes: u64,
}

impl Clients {
    /// The clients of `scenario`, not started yet.
    fn new(
        scenario: &Scenario,
        cluster: &QueueCluster,
        seed: Seed,
        uploads: &[Upload],
    ) -> Result<Self, ScenarioError> {
        let producers = scenario.producers as usize;
        let share = uploads.len().div_ceil(producers);
        let producers = (0..producers)
            .map(|index| {
                let first = (index * share).min(uploads.len());
                let last = ((index + 1) * share).min(uploads.len());
                Producer {
                    node: NodeId::new(FIRST_PRODUCER + index as u32),
                    uploads: uploads[first..last].into(),
                    progress: ProgressStore::default(),
                }
            })
            .collect();
        let consumers = (0..scenario.consumer_hosts)
            .map(|index| NodeId::new(FIRST_CONSUMER + index))
            .collect();
        let max_attempts = scenario.queue.max_receive_count();
        let consumer_settings = ConsumerSettings {
            workers: scenario.workers_per_host,
            max_messages: 10,
            poll_interval: Duration::from_millis(50),
            retry: RetryPolicy {
                max_attempts,
                backoff: BackoffPolicy::new(Duration::from_millis(100), Duration::from_secs(2))?,
            },
            faults: FaultPlan::NONE
                .with_transient(scenario.transient_failures)
                .with_hang(
                    Hang::For(scenario.queue.visibility_timeout() + Duration::from_secs(1)),
                    scenario.stalls,
                ),
        };
        let network = cluster.network().clone();
        let clients = Self {
            members: cluster.members().to_vec(),
            network,
            producers,
            consumers,
            consumer_settings,
            client_settings: ClientSettings::standard()?,
            sink: Arc::new(Mutex::new(FencedGallery::new())),
            consumer_lives: Vec::new(),
            seed,
            first_lives: BTreeMap::new(),
            lives: BTreeMap::new(),
            crashes: 0,
        };
        let mut clients = clients;
        let nodes: Vec<NodeId> = clients
            .producers
            .iter()
            .map(|producer| producer.node)
            .chain(clients.consumers.iter().copied())
            .collect();
        for node in nodes {
            // Clients only make calls, whose answers come back to the call;
            // nothing is ever sent to their inboxes.
            let (handle, _inbox) = clients.network.add_node(node)?;
            clients.first_lives.insert(node, handle);
        }
        Ok(clients)
    }

    /// Starts the first life of every client.
    fn start_all(&mut self) -> Result<(), ScenarioError> {
        for (node, handle) in std::mem::take(&mut self.first_lives) {
            self.spawn(node, handle)?;
        }
        Ok(())
    }

    /// Spawns the work of a new life of client `node` on `handle`.
    fn spawn(&mut self, node: NodeId, handle: Node<Packet>) -> Result<(), ScenarioError> {
        let life = self.lives.entry(node).or_default();
        *life += 1;
        let seed = self.seed.derive(u64::from(node.get())).derive(*life);
        let transport = SimTransport::new(handle.clone());
        if let Some(producer) = self.producers.iter().find(|producer| producer.node == node) {
            let client = QueueClient::new(transport, &self.members, self.client_settings, seed)?;
            let uploads = Arc::clone(&producer.uploads);
            let progress = producer.progress.clone();
            handle.spawn(async move {
                let _ = run_producer(client, uploads, progress).await;
            })?;
        } else {
            let counter = ConsumerCounter::default();
            self.consumer_lives.push(counter.clone());
            let host = ConsumerHost {
                settings: self.consumer_settings,
                sink: Arc::clone(&self.sink),
                counter,
                seed,
            };
            let members = self.members.clone();
            let client_settings = self.client_settings;
            let host = run_consumer(host, move |seed| {
                QueueClient::new(transport.clone(), &members, client_settings, seed)
            });
            handle.spawn(async move {
                // A host stops only when its node goes down; a refused
                // setting was checked when the clients were made.
                let _ = host.await;
            })?;
        }
        Ok(())
    }

    /// Crashes client `node`.
    fn crash(&mut self, node: NodeId) -> Result<(), NetworkError> {
        self.crashes += 1;
        self.network.crash(node)
    }

    /// Starts a crashed client `node` again.
    fn restart(&mut self, node: NodeId) -> Result<(), ScenarioError> {
        let (handle, _) = self.network.restart(node)?;
        self.spawn(node, handle)
    }

    /// What every consumer host counted, over all its lives.
    pub(crate) fn consumer_stats(&self) -> ConsumerStats {
        self.consumer_lives.iter().map(ConsumerCounter::read).sum()
    }

    /// Whether every producer's whole list is acknowledged.
    fn producers_finished(&self) -> bool {
        self.producers
            .iter()
            .all(|producer| producer.progress.read().finished)
    }
}

/// One step of the day's plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Kill the leader, for this long.
    KillLeader(Duration),
    /// Start this crashed replica again.
    RestartReplica(NodeId),
    /// Isolate the leader and a follower, for this long.
    Isolate(Duration),
    /// End the partition.
    Heal,
    /// Crash a random consumer host.
    CrashConsumer,
    /// Crash a random producer.
    CrashProducer,
    /// Start this crashed client again.
    RestartClient(NodeId),
}

/// The faults still to come, by time, and what is broken now.
struct Schedule {
    /// Steps due, by time (then by the order they were planned).
    due: BTreeMap<(Duration, u64), Step>,
    /// How many steps were planned, to order steps due at one instant.
    planned: u64,
    /// The mean time between consumer crashes, if they happen.
    consumer_crashes_every: Option<Duration>,
    /// The mean time between producer crashes, if they happen.
    producer_crashes_every: Option<Duration>,
    /// How long a crashed client stays down.
    down_for: Duration,
    /// Replicas down now.
    replicas_down: Vec<NodeId>,
    /// Clients down now.
    clients_down: Vec<NodeId>,
    /// Whether a partition is in force.
    partitioned: bool,
}

impl Schedule {
    fn new(scenario: &Scenario, rng: &mut SimRng) -> Self {
        let mut schedule = Self {
            due: BTreeMap::new(),
            planned: 0,
            consumer_crashes_every: scenario.consumer_crashes_every,
            producer_crashes_every: scenario.producer_crashes_every,
            down_for: scenario.down_for,
            replicas_down: Vec::new(),
            clients_down: Vec::new(),
            partitioned: false,
        };
        for fault in &scenario.faults {
            match *fault {
                ClusterFault::KillLeader { at, down_for } => {
                    schedule.plan(at, Step::KillLeader(down_for));
                }
                ClusterFault::IsolateLeaderWithMinority { at, lasting } => {
                    schedule.plan(at, Step::Isolate(lasting));
                }
            }
        }
        if let Some(every) = schedule.consumer_crashes_every {
            schedule.plan(next_gap(every, rng), Step::CrashConsumer);
        }
        if let Some(every) = schedule.producer_crashes_every {
            schedule.plan(next_gap(every, rng), Step::CrashProducer);
        }
        schedule
    }

    fn plan(&mut self, at: Duration, step: Step) {
        self.planned += 1;
        self.due.insert((at, self.planned), step);
    }

    /// Whether no fault against the replicas is still to come or still in
    /// force (client crashes go on until the end: they are the weather).
    fn is_over(&self) -> bool {
        self.replicas_down.is_empty()
            && !self.partitioned
            && !self.due.values().any(|step| {
                matches!(
                    step,
                    Step::KillLeader(_) | Step::Isolate(_) | Step::RestartReplica(_) | Step::Heal
                )
            })
    }

    /// Carries out every step due by `now`, and plans what follows them.
    fn apply_due(
        &mut self,
        now: Duration,
        cluster: &mut QueueCluster,
        clients: &mut Clients,
        rng: &mut SimRng,
    ) -> Result<(), ScenarioError> {
        while let Some((&(at, order), &step)) = self.due.first_key_value() {
            if at > now {
                break;
            }
            self.due.remove(&(at, order));
            match step {
                Step::KillLeader(down_for) => match cluster.leader() {
                    Some(leader) => {
                        cluster.crash(leader)?;
                        self.replicas_down.push(leader);
                        self.plan(now + down_for, Step::RestartReplica(leader));
                    }
                    // No leader at this instant (an election under way):
                    // try again a little later.
                    None => self.plan(now + STEP, Step::KillLeader(down_for)),
                },
                Step::RestartReplica(node) => {
                    cluster.restart(node)?;
                    self.replicas_down.retain(|down| *down != node);
                }
                Step::Isolate(lasting) => match cluster.leader() {
                    Some(leader) => {
                        let follower = cluster
                            .members()
                            .iter()
                            .copied()
                            .find(|member| *member != leader)
                            .expect("a cluster that can lose a minority has two replicas");
                        cluster.network().partition(&[&[leader, follower]])?;
                        self.partitioned = true;
                        self.plan(now + lasting, Step::Heal);
                    }
                    None => self.plan(now + STEP, Step::Isolate(lasting)),
                },
                Step::Heal => {
                    cluster.network().heal();
                    self.partitioned = false;
                }
                Step::CrashConsumer | Step::CrashProducer => {
                    let (candidates, every): (Vec<NodeId>, _) = match step {
                        Step::CrashConsumer => {
                            (clients.consumers.clone(), self.consumer_crashes_every)
                        }
                        _ => (
                            clients
                                .producers
                                .iter()
                                .filter(|producer| !producer.progress.read().finished)
                                .map(|producer| producer.node)
                                .collect(),
                            self.producer_crashes_every,
                        ),
                    };
                    let up: Vec<NodeId> = candidates
                        .into_iter()
                        .filter(|node| !self.clients_down.contains(node))
                        .collect();
                    if !up.is_empty() {
                        let victim = up[rng.random_range(0..up.len())];
                        clients.crash(victim)?;
                        self.clients_down.push(victim);
                        self.plan(now + self.down_for, Step::RestartClient(victim));
                    }
                    if let Some(every) = every {
                        self.plan(now + next_gap(every, rng), step);
                    }
                }
                Step::RestartClient(node) => {
                    clients.restart(node)?;
                    self.clients_down.retain(|down| *down != node);
                }
            }
        }
        Ok(())
    }

    /// Ends every fault in force: restarts what is down, heals a partition.
    fn restore(
        &mut self,
        cluster: &mut QueueCluster,
        clients: &mut Clients,
    ) -> Result<(), ScenarioError> {
        for node in std::mem::take(&mut self.replicas_down) {
            cluster.restart(node)?;
        }
        for node in std::mem::take(&mut self.clients_down) {
            clients.restart(node)?;
        }
        if self.partitioned {
            cluster.network().heal();
            self.partitioned = false;
        }
        self.due.clear();
        Ok(())
    }
}

/// A gap between two crashes: uniform between half and one and a half times
/// the mean, in whole milliseconds.
fn next_gap(mean: Duration, rng: &mut SimRng) -> Duration {
    let mean = u64::try_from(mean.as_millis()).unwrap_or(u64::MAX).max(2);
    Duration::from_millis(rng.random_range(mean / 2..=mean + mean / 2))
}

/// Names the fault schedule's stream among a run's derived seeds.
const FAULT_STREAM: u64 = 0xFA17;

//! The photo service on a three-server NATS JetStream cluster, in one
//! terminal, with a live view of who leads the stream, the messages in
//! flight, the redeliveries and the dead letters; kill, freeze and restart
//! the servers while a producer and a consumer host keep working.
//!
//! Three `nats-server` processes listen on 127.0.0.1, on ports the
//! operating system picks, with their stores in a folder next to this
//! program that goes when it ends. The queue is a stream of three replicas
//! (`tests/README.md`, part two, maps each verb). A producer sends uploads
//! at `--rate` per second, a share `--poison` of them corrupt; a consumer
//! host of eight workers processes them with the workshops' code (backoff,
//! dead-letter decision, placement and stealing, the fenced, idempotent
//! gallery). A corrupt upload fails for good and ends in the dead-letter
//! stream.
//!
//! While it runs, type a command and Enter:
//!
//! ```text
//! k      kill the stream leader (SIGKILL)     k 2    kill n2
//! p      freeze the stream leader (SIGSTOP);  p 2    freeze n2, or let it go on
//!        again to let it go on (SIGCONT)              (SIGCONT) if frozen
//! r      restart every killed server          r 2    restart n2
//! q      quit (and stop every server)
//! ```
//!
//! `--kill-leader-at 5 --restart-after 3 --duration 15` plays a kill
//! without a keyboard, and `--pause-leader-at 10 --pause-for 4` a freeze,
//! for a rehearsed talk or a check. Real processes and a real clock: the
//! seed sets the uploads and the workers' faults, not the servers' timing.
//!
//! Every server this program starts is stopped when it ends: on `q`, at
//! the end of `--duration`, on an error or a panic (the cluster's drop),
//! and on Ctrl-C or a kill of this program, by a small warden process of
//! its own (see [`Warden`]) that resumes and kills whatever is left.
//!
//! ```text
//! cargo workshop demo capstone jetstream
//! cargo run -p capstone --features solution,jetstream --example jetstream -- --kill-leader-at 4 --duration 12 --svg jetstream.svg
//! ```

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_nats::ServerAddr;
use async_nats::jetstream;
use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::stream::Stream;
use capstone::jetstream::{
    JetStreamQueue, JetStreamSettings, QUEUE_STREAM, ServerBinary, ServerCluster, create_queue,
};
use capstone::net::console::{
    Console, ConsoleCommand, DURATION, KILL_LEADER_AT, QUIET, RATE, RESTART_AFTER, Rehearsal,
    painted, produce_at_rate,
};
use capstone::{ConsumerCounter, ConsumerHost, ConsumerSettings, FencedGallery, run_consumer};
use coordination::demo::{self, Flag, Flags, SEED, SVG, Table, unless_unfinished};
use coordination::picture::palette::{GREEN, ORANGE, RED};
use coordination::picture::{Picture, Terminal};
use coordination::sim::FaultPlan;
use coordination::timeline::{self, Activity, Mark, Outcome, Recording, SpanId};
use coordination::{MaxAttempts, NodeId, Probability, Seed};
use tokio::task::JoinSet;
use tokio::time::Instant;
use workshop1::{BackoffPolicy, RetryPolicy};

const ABOUT: &str = "jetstream: the photo service on a three-server NATS JetStream cluster, a \
                     live view, and a keyboard to kill, freeze and restart the servers";

const POISON: Flag = Flag::value("poison", "0.02", "the share of uploads that are corrupt");
const PAUSE_LEADER_AT: Flag = Flag::value(
    "pause-leader-at",
    "0",
    "freeze the server leading the stream after this many seconds (0: never)",
);
const PAUSE_FOR: Flag = Flag::value(
    "pause-for",
    "3",
    "let a server frozen by --pause-leader-at go on this many seconds later",
);
const FLAGS: [Flag; 10] = [
    SEED,
    RATE,
    POISON,
    DURATION,
    KILL_LEADER_AT,
    RESTART_AFTER,
    PAUSE_LEADER_AT,
    PAUSE_FOR,
    QUIET,
    SVG,
];

/// How often the view asks the cluster how the stream is doing.
const REFRESH: Duration = Duration::from_millis(250);

/// How long one look at the cluster may take: a frozen server answers
/// nothing, and the view must not freeze with it.
const LOOK_LIMIT: Duration = Duration::from_millis(400);

/// The argument that makes this program the warden.
const WARDEN_MODE: &str = "warden";

/// The lane the dead letters are marked on.
const DEAD_LETTER_LANE: &str = "dead letters";

fn main() {
    // Started again by itself as the warden: be that.
    if std::env::args().nth(1).as_deref() == Some(WARDEN_MODE) {
        Warden::serve();
        return;
    }
    demo::launch(ABOUT, &FLAGS, run);
}

fn run(flags: &Flags) -> Result<(), Box<dyn std::error::Error>> {
    let seed = Seed::new(flags.get(SEED)?);
    let binary = ServerBinary::find().map_err(|error| {
        format!(
            "{error}\n`cargo workshop demo capstone jetstream` offers to install it before it \
             starts the demo"
        )
    })?;
    let program = std::env::current_exe()?;
    let folder = program
        .parent()
        .unwrap_or(&program)
        .join(format!("jetstream-demo-{}", std::process::id()));
    let version = binary.version;
    let mut warden = Warden::start(&program, &folder)?;
    let mut cluster = ServerCluster::start(binary, 3, &folder)?;
    warden.watch(&cluster);
    let recording = Recording::start();
    // One lane per server from the start, even for one nothing happens to.
    for index in 0..cluster.len() {
        if let Some(name) = cluster.name(index) {
            timeline::point(name, Mark::Note, "started");
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let outcome =
        unless_unfinished(|| runtime.block_on(live(&mut cluster, &mut warden, flags, seed)));
    // Every server stops here, whatever happened; the warden is told it
    // has nothing left to do.
    drop(cluster);
    warden.dismiss();
    let timeline = recording.finish();
    let summary = match outcome {
        Ok(summary) => summary?,
        Err(exercise) => {
            println!("The photo service cannot run yet: {exercise}.");
            println!("Finish the workshops' exercises, or add --features solution.");
            return Ok(());
        }
    };
    println!("\n{summary}");
    demo::save_picture(flags, || {
        let mut picture = Picture::new(format!(
            "jetstream: three nats-server {version} processes, kills, freezes and restarts, \
             seed {seed}"
        ));
        picture.add(
            "stream leaderships (bars, numbered as seen), kills, freezes, restarts and dead \
             letters",
            timeline,
        );
        picture
    })?;
    Ok(())
}

/// What one look at the cluster found; a part is `None` when the cluster
/// did not answer it in time (a leader being elected, a server frozen).
#[derive(Debug, Clone, Default)]
struct Look {
    /// The server leading the stream's replicas.
    leader: Option<String>,
    /// How each follower stands, by server name.
    replicas: BTreeMap<String, String>,
    /// Messages in the stream.
    messages: Option<u64>,
    /// Messages not yet delivered, delivered and not yet acknowledged
    /// (in flight), and deliveries beyond the first.
    consumer: Option<(u64, usize, u64)>,
    /// Messages in the dead-letter stream.
    dead_letters: Option<u64>,
}

/// What the view has seen over the run.
#[derive(Default)]
struct Seen {
    /// The server leading the stream and its leadership bar.
    leadership: Option<(String, SpanId)>,
    /// The leaders, in the order seen.
    leaders: Vec<String>,
    /// The down bar of each killed server, by index.
    down: BTreeMap<usize, SpanId>,
    /// The frozen bar of each frozen server, by index.
    frozen: BTreeMap<usize, SpanId>,
    /// Kills per server index.
    kills: BTreeMap<usize, u32>,
    /// Freezes per server index.
    freezes: BTreeMap<usize, u32>,
    /// Dead letters seen so far.
    dead_letters: u64,
    /// The last complete look, for the summary.
    last: Look,
}

/// The stream and consumer handles the view asks.
struct Handles {
    /// The queue's stream.
    queue: Stream,
    /// The dead-letter stream.
    dead: Stream,
    /// The consumer every worker shares.
    consumer: PullConsumer,
}

/// Runs the service and the view until the duration passes or `q` is
/// typed; returns the summary.
async fn live(
    cluster: &mut ServerCluster,
    warden: &mut Warden,
    flags: &Flags,
    seed: Seed,
) -> Result<String, Box<dyn std::error::Error>> {
    let terminal = Terminal::detect();
    let quiet = flags.switch(QUIET) || !std::io::stdout().is_terminal();
    let seconds = |flag: Flag| flags.get::<f64>(flag).map(Duration::from_secs_f64);
    let duration = seconds(DURATION)?;
    let kill_at = seconds(KILL_LEADER_AT)?;
    let restart_after = seconds(RESTART_AFTER)?;
    let pause_at = seconds(PAUSE_LEADER_AT)?;
    let pause_for = seconds(PAUSE_FOR)?;
    let rate: f64 = flags.get(RATE)?;
    let poison = Probability::new(flags.get(POISON)?)?;
    let max_receives = 5;
    let settings = JetStreamSettings {
        ack_wait: Duration::from_secs(5),
        max_receives,
        replicas: cluster.len(),
        duplicate_window: Duration::from_secs(120),
    };
    let mut context = jetstream::new(connect(cluster).await?);
    // A question the cluster cannot answer yet (no meta leader in the
    // first seconds) is asked again after a second, not after the client's
    // default wait.
    context.set_timeout(Duration::from_secs(1));
    let (queue, dead, consumer) = create_queue(&context, settings, Duration::from_secs(20)).await?;
    let mut handles = Handles {
        queue,
        dead,
        consumer: consumer.clone(),
    };
    let stats = ConsumerCounter::default();
    let sent = Arc::new(Mutex::new(0_u64));
    // Thumbnails are published once each, by the holder of the newest
    // receipt: the gallery of the series' own demo.
    let gallery = Arc::new(Mutex::new(FencedGallery::new()));
    let mut work = JoinSet::new();
    if rate > 0.0 {
        let producer = JetStreamQueue::new(
            jetstream::new(connect(cluster).await?),
            consumer.clone(),
            settings,
        );
        work.spawn(produce_at_rate(
            producer,
            rate,
            poison,
            seed.derive(3),
            Arc::clone(&sent),
        ));
        let host_queue =
            JetStreamQueue::new(jetstream::new(connect(cluster).await?), consumer, settings);
        let host = ConsumerHost {
            settings: ConsumerSettings {
                workers: 8,
                max_messages: 10,
                poll_interval: Duration::from_millis(50),
                retry: RetryPolicy {
                    max_attempts: MaxAttempts::new(max_receives)?,
                    backoff: BackoffPolicy::new(
                        Duration::from_millis(100),
                        Duration::from_secs(2),
                    )?,
                },
                faults: FaultPlan::NONE.with_transient(Probability::new(0.1)?),
            },
            sink: gallery,
            counter: stats.clone(),
            seed: seed.derive(2),
        };
        let host = run_consumer(host, move |_| Ok(host_queue.clone()));
        // A panic is raised below, from the task's outcome.
        work.spawn(async move {
            if let Err(error) = host.await {
                eprintln!("the consumer host stopped: {error}");
            }
        });
    }
    let mut console = Console::start(REFRESH);
    let mut rehearsals = [
        Rehearsal::kill_leader(kill_at, restart_after),
        Rehearsal::freeze_leader(pause_at, pause_for),
    ];
    let mut seen = Seen::default();
    let mut last_line = Instant::now();
    loop {
        if let Some(typed) = console.next().await {
            if typed == ConsoleCommand::Quit {
                break;
            }
            act(typed, cluster, warden, &mut seen);
        }
        // A worker that stops at an unfinished exercise panics in its task:
        // raised here, so the demo names the exercise.
        while let Some(finished) = work.try_join_next() {
            if let Err(error) = finished
                && error.is_panic()
            {
                std::panic::resume_unwind(error.into_panic());
            }
        }
        let elapsed = console.elapsed();
        for rehearsal in &mut rehearsals {
            if let Some(command) = rehearsal.due(elapsed) {
                let hit = act(command, cluster, warden, &mut seen);
                rehearsal.played(elapsed, hit);
            }
        }
        let look = look(&mut handles).await;
        record(&look, &mut seen);
        if !quiet {
            let view = render(cluster, &look, &seen, &stats, &sent, elapsed, terminal);
            // Home the cursor and clear the screen: the view stays in place.
            print!(
                "\x1b[H\x1b[2J{view}\nk [N]: kill   p [N]: freeze or resume   r [N]: restart   \
                 q: quit\n"
            );
        } else if last_line.elapsed() >= Duration::from_secs(1) {
            last_line = Instant::now();
            println!(
                "{:>5.1} s  stream leader {}  published {}  dead letters {}",
                elapsed.as_secs_f64(),
                look.leader.as_deref().unwrap_or("none"),
                stats.read().published,
                seen.dead_letters
            );
        }
        if !duration.is_zero() && elapsed >= duration {
            break;
        }
    }
    work.abort_all();
    while work.join_next().await.is_some() {}
    let look = look(&mut handles).await;
    record(&look, &mut seen);
    // Bars still open run to the end of the run, so the picture does too.
    if let Some((_, span)) = seen.leadership.take() {
        timeline::end(span, Outcome::Ended);
    }
    // The maps stay as they are: the summary reads them.
    for &span in seen.down.values().chain(seen.frozen.values()) {
        timeline::end(span, Outcome::Ended);
    }
    let published = stats.read().published;
    if rate > 0.0 && published == 0 {
        return Err(format!(
            "nothing was published in {:.1} s: the service never got through to the cluster",
            console.elapsed().as_secs_f64()
        )
        .into());
    }
    Ok(summary(cluster, &seen, &stats, &sent))
}

/// A client of every server, which notices a frozen server within a few
/// seconds (pings every second, not every minute) and moves to another.
async fn connect(cluster: &ServerCluster) -> Result<async_nats::Client, String> {
    let servers: Vec<ServerAddr> = cluster
        .client_urls()
        .iter()
        .filter_map(|url| url.parse().ok())
        .collect();
    async_nats::ConnectOptions::new()
        .ping_interval(Duration::from_secs(1))
        .connection_timeout(Duration::from_secs(2))
        .retry_on_initial_connect()
        .max_reconnects(None)
        .connect(servers)
        .await
        .map_err(|error| format!("connecting to the cluster: {error}"))
}

/// Asks the cluster how the stream, its consumer and the dead letters are
/// doing, each question within [`LOOK_LIMIT`].
async fn look(handles: &mut Handles) -> Look {
    let Handles {
        queue,
        dead,
        consumer,
    } = handles;
    // Asked at once: while a leader is being elected each may take the
    // whole limit.
    let (queue, consumer, dead) = tokio::join!(
        tokio::time::timeout(LOOK_LIMIT, queue.info()),
        tokio::time::timeout(LOOK_LIMIT, consumer.info()),
        tokio::time::timeout(LOOK_LIMIT, dead.info()),
    );
    let mut look = Look::default();
    if let Ok(Ok(info)) = queue {
        look.messages = Some(info.state.messages);
        if let Some(cluster) = &info.cluster {
            look.leader.clone_from(&cluster.leader);
            for peer in &cluster.replicas {
                let standing = if peer.offline {
                    "offline".to_string()
                } else if peer.current {
                    "follows, current".to_string()
                } else {
                    format!("follows, {} behind", peer.lag.unwrap_or(0))
                };
                look.replicas.insert(peer.name.clone(), standing);
            }
        }
    }
    if let Ok(Ok(info)) = consumer {
        // Every delivery takes a consumer sequence; only a first delivery
        // moves the stream sequence on.
        let redeliveries = info
            .delivered
            .consumer_sequence
            .saturating_sub(info.delivered.stream_sequence);
        look.consumer = Some((info.num_pending, info.num_ack_pending, redeliveries));
    }
    if let Ok(Ok(info)) = dead {
        look.dead_letters = Some(info.state.messages);
    }
    look
}

/// Draws the stream's leaderships and the dead letters on the timeline as
/// the looks show them, and keeps the last complete look.
fn record(look: &Look, seen: &mut Seen) {
    let current = seen.leadership.as_ref().map(|(name, _)| name.clone());
    if look.messages.is_some() && look.leader != current {
        if let Some((_, span)) = seen.leadership.take() {
            timeline::end(span, Outcome::Ended);
        }
        if let Some(leader) = &look.leader {
            seen.leaders.push(leader.clone());
            let number = seen.leaders.len() as u64;
            // JetStream does not report the stream group's Raft term in the
            // stream's information: the leaderships are numbered as seen.
            timeline::point(
                leader.as_str(),
                Mark::LeaderElected { term: number },
                format!("leads {QUEUE_STREAM}"),
            );
            let span = timeline::begin(leader.as_str(), Activity::Leadership, number);
            seen.leadership = Some((leader.clone(), span));
        }
    }
    if let Some(dead_letters) = look.dead_letters
        && dead_letters > seen.dead_letters
    {
        seen.dead_letters = dead_letters;
        timeline::point(
            DEAD_LETTER_LANE,
            Mark::DeadLettered,
            format!("{dead_letters} dead letters"),
        );
    }
    if look.messages.is_some() && look.consumer.is_some() {
        seen.last = look.clone();
    }
}

/// Kills, freezes (or resumes) or restarts what `command` names; returns
/// the server killed or frozen, if any.
fn act(
    command: ConsoleCommand,
    cluster: &mut ServerCluster,
    warden: &mut Warden,
    seen: &mut Seen,
) -> Option<NodeId> {
    let leader = || {
        let (name, _) = seen.leadership.as_ref()?;
        cluster.index_of(name)
    };
    let index_of = |node: NodeId| (node.get() as usize).checked_sub(1);
    match command {
        ConsoleCommand::Kill(node) => {
            let index = node.map_or_else(leader, index_of)?;
            if !cluster.is_running(index) || cluster.kill(index).is_err() {
                return None;
            }
            let name = cluster.name(index)?.to_string();
            *seen.kills.entry(index).or_default() += 1;
            if let Some(frozen) = seen.frozen.remove(&index) {
                timeline::end(frozen, Outcome::Ended);
            }
            // A dead server leads nothing, whatever the next look says.
            if seen
                .leadership
                .as_ref()
                .is_some_and(|(leader, _)| *leader == name)
                && let Some((_, leadership)) = seen.leadership.take()
            {
                timeline::end(leadership, Outcome::Ended);
            }
            warden.watch(cluster);
            timeline::point(name.as_str(), Mark::Crashed, "SIGKILL");
            seen.down.insert(
                index,
                timeline::begin(name.as_str(), Activity::Paused, "down"),
            );
            Some(server_node(index))
        }
        ConsoleCommand::Pause(node) => {
            let index = node.map_or_else(leader, index_of)?;
            let name = cluster.name(index)?.to_string();
            if let Some(frozen) = seen.frozen.remove(&index) {
                cluster.resume(index).ok()?;
                timeline::end(frozen, Outcome::Ended);
                timeline::point(name.as_str(), Mark::Note, "SIGCONT");
                return None;
            }
            if !cluster.is_running(index) || cluster.pause(index).is_err() {
                return None;
            }
            *seen.freezes.entry(index).or_default() += 1;
            seen.frozen.insert(
                index,
                timeline::begin(name.as_str(), Activity::Paused, "frozen (SIGSTOP)"),
            );
            Some(server_node(index))
        }
        ConsoleCommand::Restart(node) => {
            let targets = match node {
                Some(node) => vec![index_of(node)?],
                None => (0..cluster.len()).collect(),
            };
            for index in targets {
                if cluster.is_running(index) || cluster.restart(index).is_err() {
                    continue;
                }
                warden.watch(cluster);
                if let Some(down) = seen.down.remove(&index) {
                    timeline::end(down, Outcome::Ended);
                }
                if let Some(name) = cluster.name(index) {
                    timeline::point(name, Mark::Restarted, "restarted from its store");
                }
            }
            None
        }
        ConsoleCommand::Quit => None,
    }
}

/// The keyboard's number for server `index` (`n1` is 1).
fn server_node(index: usize) -> NodeId {
    NodeId::new(u32::try_from(index + 1).unwrap_or(u32::MAX))
}

/// How server `index`'s process is: up, frozen or killed.
fn process_state(cluster: &mut ServerCluster, seen: &Seen, index: usize) -> &'static str {
    if seen.frozen.contains_key(&index) {
        "frozen"
    } else if cluster.is_running(index) {
        "up"
    } else {
        "killed"
    }
}

/// The live view: one row per server, then the stream's and the
/// consumers' counts. Colour marks the leader's row (green), frozen
/// servers' (orange) and killed servers' (red).
fn render(
    cluster: &mut ServerCluster,
    look: &Look,
    seen: &Seen,
    stats: &ConsumerCounter,
    sent: &Mutex<u64>,
    elapsed: Duration,
    terminal: Terminal,
) -> String {
    let mut table = Table::new(["server", "process", "stream role"]);
    let mut colours = BTreeMap::new();
    for index in 0..cluster.len() {
        let name = cluster.name(index).unwrap_or("?").to_string();
        let process = process_state(cluster, seen, index);
        let role = if look.leader.as_deref() == Some(name.as_str()) {
            colours.insert(name.clone(), GREEN);
            "leader".to_string()
        } else {
            look.replicas
                .get(&name)
                .cloned()
                .unwrap_or_else(|| "-".to_string())
        };
        match process {
            "frozen" => colours.insert(name.clone(), ORANGE),
            "killed" => colours.insert(name.clone(), RED),
            _ => None,
        };
        table.row([name, process.to_string(), role]);
    }
    let table = painted(&table, &colours, terminal);
    let count = |value: Option<String>| value.unwrap_or_else(|| "?".to_string());
    let (waiting, in_flight, redeliveries) = match look.consumer {
        Some((waiting, in_flight, redeliveries)) => (
            Some(waiting.to_string()),
            Some(in_flight.to_string()),
            Some(redeliveries.to_string()),
        ),
        None => (None, None, None),
    };
    let stats = stats.read();
    format!(
        "Photo service on JetStream, {} servers, stream {QUEUE_STREAM} ({} replicas), {:.1} s\n\n\
         {table}\nstream leader {}  messages {}  waiting {}  in flight {}  redeliveries {}  \
         dead letters {}\nsent {}  published {}  repeats absorbed {}  backed off {}  \
         dead-lettered {}\n",
        cluster.len(),
        cluster.len(),
        elapsed.as_secs_f64(),
        look.leader.as_deref().unwrap_or("(electing)"),
        count(look.messages.map(|messages| messages.to_string())),
        count(waiting),
        count(in_flight),
        count(redeliveries),
        count(look.dead_letters.map(|dead| dead.to_string())),
        *lock(sent),
        stats.published,
        stats.already_published,
        stats.backed_off,
        stats.dead_lettered
    )
}

/// The table at the end.
fn summary(
    cluster: &mut ServerCluster,
    seen: &Seen,
    stats: &ConsumerCounter,
    sent: &Mutex<u64>,
) -> String {
    let mut table = Table::new([
        "server",
        "process",
        "kills",
        "freezes",
        "stream role, last seen",
    ]);
    for index in 0..cluster.len() {
        let name = cluster.name(index).unwrap_or("?").to_string();
        let process = process_state(cluster, seen, index);
        // The last complete look may predate a kill.
        let role = if process == "killed" {
            "-".to_string()
        } else if seen.last.leader.as_deref() == Some(name.as_str()) {
            "leader".to_string()
        } else {
            seen.last
                .replicas
                .get(&name)
                .cloned()
                .unwrap_or_else(|| "-".to_string())
        };
        table.row([
            name,
            process.to_string(),
            seen.kills.get(&index).copied().unwrap_or(0).to_string(),
            seen.freezes.get(&index).copied().unwrap_or(0).to_string(),
            role,
        ]);
    }
    let (_, in_flight, redeliveries) = seen.last.consumer.unwrap_or_default();
    let stats = stats.read();
    format!(
        "{table}\nstream leaders seen, in order: {}\nsent {}, published {}, repeats absorbed {}, \
         in flight at the end {in_flight}, redeliveries {redeliveries}, dead letters {}",
        if seen.leaders.is_empty() {
            "none".to_string()
        } else {
            seen.leaders.join(", ")
        },
        *lock(sent),
        stats.published,
        stats.already_published,
        seen.dead_letters
    )
}

/// Locks a counter shared with the tasks.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A process of its own that stops the servers if this program cannot:
/// on Ctrl-C (the terminal's SIGINT reaches every process of the
/// foreground group, but a frozen server only acts on it once resumed, so
/// it would stay frozen forever) and on SIGKILL (no code of this program
/// runs at all).
///
/// It is this program started again (`jetstream warden FOLDER`) in a
/// process group of its own, so Ctrl-C does not reach it. It reads the
/// servers' process ids from its standard input, a line each; when that
/// input ends (this program ended, however it ended) without a `done`
/// line first, it resumes and kills every process it was told of and
/// removes the folder. It reads its input to the end and signals only the
/// last process id of each server. Standard library only: the signals go through the
/// `kill` program, as the cluster's own do.
struct Warden {
    /// The warden process.
    child: Child,
    /// Its standard input; dropped last.
    input: Option<ChildStdin>,
}

impl Warden {
    /// Starts the warden for servers keeping their files in `folder`.
    fn start(program: &Path, folder: &Path) -> std::io::Result<Self> {
        let mut command = Command::new(program);
        command
            .arg(WARDEN_MODE)
            .arg(folder)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            // Out of the terminal's foreground group: Ctrl-C is for the
            // demo, and the warden must outlive it.
            command.process_group(0);
        }
        let mut child = command.spawn()?;
        let input = child.stdin.take();
        Ok(Self { child, input })
    }

    /// Tells the warden which process each server runs as now (`INDEX
    /// PID`, or `INDEX -` for a killed one), so it never signals a process
    /// id the system may have given to another program since.
    fn watch(&mut self, cluster: &ServerCluster) {
        let Some(input) = self.input.as_mut() else {
            return;
        };
        for index in 0..cluster.len() {
            let _ = match cluster.pid(index) {
                Some(pid) => writeln!(input, "{index} {pid}"),
                None => writeln!(input, "{index} -"),
            };
        }
        let _ = input.flush();
    }

    /// Tells the warden every server was stopped, and waits for it to go.
    fn dismiss(mut self) {
        if let Some(mut input) = self.input.take() {
            let _ = writeln!(input, "done");
        }
        let _ = self.child.wait();
    }

    /// The warden's own `main`: see the type's documentation.
    fn serve() {
        let folder = std::env::args().nth(2).map(PathBuf::from);
        let mut pids = BTreeMap::new();
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if line.trim() == "done" {
                return;
            }
            let mut words = line.split_whitespace();
            if let Some(index) = words.next() {
                pids.insert(
                    index.to_string(),
                    words.next().and_then(|pid| pid.parse::<u32>().ok()),
                );
            }
        }
        for pid in pids.into_values().flatten() {
            for signal in ["-CONT", "-KILL"] {
                let _ = Command::new("kill")
                    .args([signal, &pid.to_string()])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
        if let Some(folder) = folder {
            let _ = std::fs::remove_dir_all(folder);
        }
    }
}

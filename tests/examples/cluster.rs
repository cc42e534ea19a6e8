//! Three queue nodes as real processes in one terminal, with a live view of
//! who leads, the term, the commit index and the queue's depth; kill and
//! restart them while a producer and a consumer keep working.
//!
//! The nodes are this program started again in node mode (`cluster node
//! --id 1 ...`, the same `main` as the `queue-node` binary), on ports the
//! operating system picks on 127.0.0.1. A producer sends uploads at
//! `--rate` per second; a consumer host of four workers processes them
//! (Workshop 1's image workers, Workshop 2's placement and stealing) and
//! publishes to a fenced, idempotent gallery.
//!
//! While it runs, type a command and Enter:
//!
//! ```text
//! k      kill the leader's process        k 2    kill node-2's process
//! r      restart every killed node        r 2    restart node-2
//! q      quit (and stop every node)
//! ```
//!
//! `--kill-leader-at 5 --restart-after 3 --duration 12` plays the same
//! without a keyboard, for a rehearsed talk or a check. Real processes and
//! a real clock: the seed sets the nodes' election timeouts and the
//! uploads, but the operating system's timing differs from run to run.
//!
//! ```text
//! cargo run -p capstone --features solution --example cluster
//! cargo run -p capstone --features solution --example cluster -- --kill-leader-at 4 --duration 10 --svg cluster.svg
//! ```

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use capstone::net::console::{
    Console, ConsoleCommand, DURATION, KILL_LEADER_AT, QUIET, RATE, RESTART_AFTER, Rehearsal,
    painted, produce_at_rate,
};
use capstone::net::process::NODE_MODE;
use capstone::net::watch::{leader_of, reports};
use capstone::net::{LocalCluster, TcpTransport};
use capstone::{
    ClientSettings, ConsumerCounter, ConsumerHost, ConsumerSettings, FencedGallery, NodeReport,
    QueueClient, QueueConfig, run_consumer,
};
use coordination::demo::{self, Flag, Flags, SEED, SVG, Table, save_picture, unless_unfinished};
use coordination::picture::palette::{GREEN, RED};
use coordination::picture::{Picture, Terminal};
use coordination::sim::{FaultPlan, clock};
use coordination::timeline::{self, Activity, Mark, Outcome, Recording, SpanId};
use coordination::{NodeId, Probability, Seed};
use tokio::time::Instant;
use workshop1::{BackoffPolicy, RetryPolicy};
use workshop4::{Role, Term};

const ABOUT: &str =
    "cluster: three queue nodes as processes, a live view, and a keyboard to kill them";

const NODES: Flag = Flag::value("nodes", "3", "how many node processes");
const NO_SYNC: Flag = Flag::switch(
    "no-sync",
    "nodes skip the sync of each journal write: faster on slow disks, not durable",
);
const FLAGS: [Flag; 9] = [
    SEED,
    NODES,
    RATE,
    DURATION,
    KILL_LEADER_AT,
    RESTART_AFTER,
    NO_SYNC,
    QUIET,
    SVG,
];

/// How often the view asks every node for its report.
const REFRESH: Duration = Duration::from_millis(250);

fn main() {
    // Started again by itself as one of the nodes: be that node.
    capstone::net::process::serve_if_asked();
    demo::launch(ABOUT, &FLAGS, run);
}

fn run(flags: &Flags) -> Result<(), Box<dyn std::error::Error>> {
    let seed = Seed::new(flags.get(SEED)?);
    let program = std::env::current_exe()?;
    let folder = program
        .parent()
        .unwrap_or(&program)
        .join(format!("cluster-{}", std::process::id()));
    let cluster = LocalCluster::start(
        &program,
        &[NODE_MODE],
        flags.get(NODES)?,
        &folder,
        !flags.switch(NO_SYNC),
    )?;
    let recording = Recording::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let summary = match unless_unfinished(|| runtime.block_on(live(cluster, flags, seed))) {
        Ok(summary) => summary?,
        Err(exercise) => {
            println!("The cluster cannot run yet: {exercise}.");
            println!("Finish the workshops' exercises, or add --features solution.");
            return Ok(());
        }
    };
    let timeline = recording.finish();
    println!("\n{summary}");
    save_picture(flags, || {
        let mut picture = Picture::new(format!(
            "cluster: {} node processes, kills and restarts, seed {seed}",
            flags.get::<u32>(NODES).unwrap_or(3)
        ));
        picture.add("leaderships (bars, by term), kills and restarts", timeline);
        picture
    })?;
    let _ = std::fs::remove_dir_all(&folder);
    Ok(())
}

/// What the view has seen of each node.
#[derive(Default)]
struct Seen {
    /// The leadership bar open on each node's lane, with its term.
    leaderships: BTreeMap<NodeId, (Term, SpanId)>,
    /// The down bar open on each killed node's lane.
    down: BTreeMap<NodeId, SpanId>,
    /// Terms in which a leader was seen, with the leader.
    leaders: BTreeMap<Term, NodeId>,
    /// Kills per node.
    kills: BTreeMap<NodeId, u32>,
}

/// Runs the view until the duration passes or `q` is typed; returns the
/// summary.
async fn live(
    mut cluster: LocalCluster,
    flags: &Flags,
    seed: Seed,
) -> Result<String, Box<dyn std::error::Error>> {
    let terminal = Terminal::detect();
    let quiet = flags.switch(QUIET) || !std::io::stdout().is_terminal();
    let duration = Duration::from_secs_f64(flags.get(DURATION)?);
    let kill_at = Duration::from_secs_f64(flags.get(KILL_LEADER_AT)?);
    let restart_after = Duration::from_secs_f64(flags.get(RESTART_AFTER)?);
    let rate: f64 = flags.get(RATE)?;
    let nodes = cluster.nodes();
    let transport = TcpTransport::new(cluster.addresses());
    let settings = ClientSettings::standard()?;
    let stats = ConsumerCounter::default();
    let sent = Arc::new(Mutex::new(0_u64));
    let mut work = tokio::task::JoinSet::new();
    if rate > 0.0 {
        let client = QueueClient::new(transport.clone(), &nodes, settings, seed.derive(1))?;
        work.spawn(produce_at_rate(
            client,
            rate,
            Probability::new(0.01)?,
            seed.derive(3),
            Arc::clone(&sent),
        ));
        let consumer = ConsumerSettings {
            workers: 4,
            max_messages: 10,
            poll_interval: Duration::from_millis(50),
            retry: RetryPolicy {
                max_attempts: QueueConfig::standard().max_receive_count(),
                backoff: BackoffPolicy::new(Duration::from_millis(100), Duration::from_secs(2))?,
            },
            faults: FaultPlan::NONE.with_transient(Probability::new(0.1)?),
        };
        let host = ConsumerHost {
            settings: consumer,
            sink: Arc::new(Mutex::new(FencedGallery::new())),
            counter: stats.clone(),
            seed: seed.derive(2),
        };
        let (transport, nodes) = (transport.clone(), nodes.clone());
        let host = run_consumer(host, move |seed| {
            QueueClient::new(transport.clone(), &nodes, settings, seed)
        });
        work.spawn(async move {
            let _ = host.await;
        });
    }
    let mut console = Console::start(REFRESH);
    let mut kill = Rehearsal::kill_leader(kill_at, restart_after);
    let mut seen = Seen::default();
    let mut last_line = Instant::now();
    loop {
        match console.next().await {
            Some(ConsoleCommand::Quit) => break,
            Some(command) => {
                act(command, &mut cluster, &transport, &mut seen).await;
            }
            None => {}
        }
        let elapsed = console.elapsed();
        if let Some(command) = kill.due(elapsed) {
            let hit = act(command, &mut cluster, &transport, &mut seen).await;
            kill.played(elapsed, hit);
        }
        for node in cluster.nodes() {
            if let Some(failure) = cluster.failure(node) {
                work.abort_all();
                return Err(format!(
                    "{failure}\nThe nodes run your workshops' code: finish the exercise it names, \
                     or add --features solution."
                )
                .into());
            }
        }
        let current = reports(&transport, &nodes, Duration::from_millis(150)).await;
        record(&current, &mut seen);
        let view = render(&mut cluster, &current, &stats, &sent, terminal);
        if !quiet {
            // Home the cursor and clear the screen: the view stays in place.
            print!("\x1b[H\x1b[2J{view}\nk [N]: kill   r [N]: restart   q: quit\n");
        } else if last_line.elapsed() >= Duration::from_secs(1) {
            last_line = Instant::now();
            let leader = leader_of(&current).map_or("none".to_string(), |(node, term)| {
                format!("{node} ({term})")
            });
            println!(
                "{:>5.1} s  leader {leader}  published {}",
                elapsed.as_secs_f64(),
                stats.read().published
            );
        }
        if !duration.is_zero() && elapsed >= duration {
            break;
        }
    }
    work.abort_all();
    let current = reports(&transport, &nodes, Duration::from_millis(300)).await;
    // Bars still open run to the end of the run, so the picture does too.
    for (_, (_, span)) in std::mem::take(&mut seen.leaderships) {
        timeline::end(span, Outcome::Ended);
    }
    for (_, span) in std::mem::take(&mut seen.down) {
        timeline::end(span, Outcome::Ended);
    }
    Ok(summary(&mut cluster, &current, &seen, &stats, &sent))
}

/// Kills or restarts what `command` names; returns the node killed, if any.
async fn act(
    command: ConsoleCommand,
    cluster: &mut LocalCluster,
    transport: &TcpTransport,
    seen: &mut Seen,
) -> Option<NodeId> {
    match command {
        ConsoleCommand::Kill(node) => {
            let node = match node {
                Some(node) => node,
                None => {
                    leader_of(
                        &reports(transport, &cluster.nodes(), Duration::from_millis(150)).await,
                    )?
                    .0
                }
            };
            if !cluster.is_running(node) || cluster.kill(node).is_err() {
                return None;
            }
            *seen.kills.entry(node).or_default() += 1;
            if let Some((_, leadership)) = seen.leaderships.remove(&node) {
                timeline::end(leadership, Outcome::Ended);
            }
            timeline::point(node, Mark::Crashed, "process killed");
            seen.down
                .insert(node, timeline::begin(node, Activity::Paused, "down"));
            Some(node)
        }
        ConsoleCommand::Restart(node) => {
            let targets = match node {
                Some(node) => vec![node],
                None => cluster.nodes(),
            };
            for node in targets {
                if cluster.is_running(node) || cluster.restart(node).is_err() {
                    continue;
                }
                if let Some(down) = seen.down.remove(&node) {
                    timeline::end(down, Outcome::Ended);
                }
                timeline::point(node, Mark::Restarted, "restarted from its journal");
            }
            None
        }
        // This demo only kills; freezing a process is the JetStream demo's.
        ConsoleCommand::Pause(_) | ConsoleCommand::Quit => None,
    }
}

/// Draws leaderships on the timeline as the reports show them.
fn record(current: &BTreeMap<NodeId, NodeReport>, seen: &mut Seen) {
    for (&node, report) in current {
        let leads = report.role == Role::Leader;
        let open = seen.leaderships.get(&node).map(|(term, _)| *term);
        if open.is_some()
            && (!leads || open != Some(report.term))
            && let Some((_, span)) = seen.leaderships.remove(&node)
        {
            timeline::end(span, Outcome::Ended);
        }
        if leads && !seen.leaderships.contains_key(&node) {
            timeline::point(
                node,
                Mark::LeaderElected {
                    term: report.term.get(),
                },
                report.term,
            );
            let span = timeline::begin(node, Activity::Leadership, report.term);
            seen.leaderships.insert(node, (report.term, span));
            seen.leaders.entry(report.term).or_insert(node);
        }
    }
}

/// The live view: one row per node, and the consumers' counts. Colour
/// marks the leader's row (green) and killed nodes' rows (red); the table
/// is laid out first, so colour codes never shift its columns.
fn render(
    cluster: &mut LocalCluster,
    current: &BTreeMap<NodeId, NodeReport>,
    stats: &ConsumerCounter,
    sent: &Mutex<u64>,
    terminal: Terminal,
) -> String {
    let mut table = Table::new([
        "node",
        "process",
        "role",
        "term",
        "leader",
        "commit",
        "log",
        "depth",
        "visible",
        "in flight",
        "dead letters",
    ]);
    let mut colours = BTreeMap::new();
    for node in cluster.nodes() {
        let running = cluster.is_running(node);
        let process = if running { "up" } else { "killed" };
        match current.get(&node) {
            Some(report) => {
                if report.role == Role::Leader {
                    colours.insert(node.to_string(), GREEN);
                }
                table.row([
                    node.to_string(),
                    process.to_string(),
                    report.role.to_string(),
                    report.term.get().to_string(),
                    report
                        .leader
                        .map_or("-".to_string(), |leader| leader.to_string()),
                    report.commit_index.get().to_string(),
                    report.log_length.to_string(),
                    report.attributes.depth().to_string(),
                    report.attributes.visible.to_string(),
                    report.attributes.in_flight.to_string(),
                    report.attributes.dead_lettered.to_string(),
                ])
            }
            None => table.row([
                node.to_string(),
                process.to_string(),
                "no answer".to_string(),
            ]),
        };
        if !running {
            colours.insert(node.to_string(), RED);
        }
    }
    let table = painted(&table, &colours, terminal);
    let stats = stats.read();
    format!(
        "Replicated queue, {} node processes, {:.1} s\n\n{table}\nsent {}  published {}  \
         repeats absorbed {}  backed off {}  dead-lettered {}\n",
        cluster.nodes().len(),
        clock::elapsed().as_secs_f64(),
        *lock(sent),
        stats.published,
        stats.already_published,
        stats.backed_off,
        stats.dead_lettered
    )
}

/// The table at the end.
fn summary(
    cluster: &mut LocalCluster,
    current: &BTreeMap<NodeId, NodeReport>,
    seen: &Seen,
    stats: &ConsumerCounter,
    sent: &Mutex<u64>,
) -> String {
    let mut table = Table::new([
        "node",
        "process",
        "kills",
        "role",
        "term",
        "commit index",
        "queue depth",
    ]);
    for node in cluster.nodes() {
        let process = if cluster.is_running(node) {
            "up"
        } else {
            "killed"
        };
        let kills = seen.kills.get(&node).copied().unwrap_or(0).to_string();
        match current.get(&node) {
            Some(report) => table.row([
                node.to_string(),
                process.to_string(),
                kills,
                report.role.to_string(),
                report.term.get().to_string(),
                report.commit_index.get().to_string(),
                report.attributes.depth().to_string(),
            ]),
            None => table.row([
                node.to_string(),
                process.to_string(),
                kills,
                "-".to_string(),
            ]),
        };
    }
    let leaders: Vec<String> = seen
        .leaders
        .iter()
        .map(|(term, node)| format!("{node} in {term}"))
        .collect();
    let stats = stats.read();
    format!(
        "{table}\nleaders seen: {}\nsent {}, published {}, repeats absorbed {}, dead-lettered {}",
        if leaders.is_empty() {
            "none".to_string()
        } else {
            leaders.join(", ")
        },
        *lock(sent),
        stats.published,
        stats.already_published,
        stats.dead_lettered
    )
}

/// Locks a counter shared with the tasks.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

//! What the live demos share: the keyboard that kills, pauses and restarts
//! processes, the faults a rehearsed run plays without it, the view's
//! coloured rows, and a producer that sends uploads at a steady rate.
//!
//! Two demos put a cluster of real processes in front of a room: the
//! series' own queue nodes (`--example cluster`) and a three-server NATS
//! JetStream cluster (`--example jetstream`). Their clusters differ; the
//! way an instructor drives them, and the way the view reads, do not.
//!
//! Left out: a raw-mode terminal (a key without Enter). Reading whole lines
//! keeps the terminal in its ordinary mode, so Ctrl-C and a crash leave it
//! usable, and a script can type the same commands into standard input.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use coordination::demo::{Flag, Table};
use coordination::picture::Terminal;
use coordination::picture::palette::Colour;
use coordination::{NodeId, Probability, Seed};
use rand::RngExt;
use tokio::sync::mpsc;
use tokio::time::Instant;
use workshop4::pipeline::ImageId;

use crate::queue_config::MAX_BATCH;
use crate::{NewMessage, QueueService, Upload, lock};

/// `--rate`: uploads the producer sends per second.
pub const RATE: Flag = Flag::value(
    "rate",
    "40",
    "uploads the producer sends per second (0: none)",
);

/// `--duration`: when a rehearsed run stops.
pub const DURATION: Flag = Flag::value(
    "duration",
    "0",
    "stop after this many seconds (0: when you type q)",
);

/// `--kill-leader-at`: see [`Rehearsal::kill_leader`].
pub const KILL_LEADER_AT: Flag = Flag::value(
    "kill-leader-at",
    "0",
    "kill the leader's process after this many seconds (0: never)",
);

/// `--restart-after`: see [`Rehearsal::kill_leader`].
pub const RESTART_AFTER: Flag = Flag::value(
    "restart-after",
    "3",
    "restart a process killed by --kill-leader-at this many seconds later",
);

/// `--quiet`: no live view.
pub const QUIET: Flag = Flag::switch(
    "quiet",
    "no live view: a line a second, then the summary (for scripts and checks)",
);

/// What the keyboard asks for; a missing number means "the leader" (kill,
/// pause) or "every one" (restart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleCommand {
    /// `k [N]`: kill this process, or the leader's.
    Kill(Option<NodeId>),
    /// `p [N]`: freeze this process, or the leader's (SIGSTOP), or let a
    /// frozen one go on (SIGCONT).
    Pause(Option<NodeId>),
    /// `r [N]`: restart this process, or every killed one.
    Restart(Option<NodeId>),
    /// `q`: stop.
    Quit,
}

impl ConsoleCommand {
    /// Reads one typed line (`k`, `k 2`, `p`, `r 3`, `q`); `None` for
    /// anything else.
    pub fn parse(line: &str) -> Option<Self> {
        let mut words = line.split_whitespace();
        let verb = words.next()?;
        let node = words
            .next()
            .and_then(|word| word.trim_start_matches(['n', 'N']).parse().ok())
            .map(NodeId::new);
        match verb {
            "k" => Some(Self::Kill(node)),
            "p" => Some(Self::Pause(node)),
            "r" => Some(Self::Restart(node)),
            "q" => Some(Self::Quit),
            _ => None,
        }
    }
}

/// Reads commands from standard input, one per line, on a thread of its
/// own (reading a terminal blocks). The channel closes when input ends.
pub fn keyboard() -> mpsc::UnboundedReceiver<ConsoleCommand> {
    let (commands, received) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { return };
            let Some(command) = ConsoleCommand::parse(&line) else {
                continue;
            };
            if commands.send(command).is_err() {
                return;
            }
        }
    });
    received
}

/// The keyboard and the view's refresh, for a demo's loop.
#[derive(Debug)]
pub struct Console {
    /// What is typed.
    commands: mpsc::UnboundedReceiver<ConsoleCommand>,
    /// When the view is drawn again.
    ticks: tokio::time::Interval,
    /// When the demo started.
    started: Instant,
}

impl Console {
    /// Starts reading the keyboard; the view is refreshed every `refresh`.
    pub fn start(refresh: Duration) -> Self {
        Self {
            commands: keyboard(),
            ticks: tokio::time::interval(refresh),
            started: Instant::now(),
        }
    }

    /// Waits for a typed command, or for the next refresh (`None`). A
    /// command comes first when both are ready; once input ends (a script,
    /// or no terminal) only refreshes come.
    pub async fn next(&mut self) -> Option<ConsoleCommand> {
        tokio::select! {
            biased;
            Some(command) = self.commands.recv() => Some(command),
            _ = self.ticks.tick() => None,
        }
    }

    /// The time since the demo started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// A fault played without a keyboard, for a rehearsed talk or a check: a
/// command at a set time (`--kill-leader-at`), tried again on every
/// refresh until it finds its target (there may be no leader yet), then
/// undone a set time later (`--restart-after`).
#[derive(Debug, Clone, Copy)]
pub struct Rehearsal {
    /// The command that plays the fault.
    fault: ConsoleCommand,
    /// How the node it hit is brought back.
    undo: fn(NodeId) -> ConsoleCommand,
    /// How long the node stays hit.
    undo_after: Duration,
    /// Where the rehearsal stands.
    stage: Stage,
}

/// Where a [`Rehearsal`] stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The fault is due at this time.
    Waiting(Duration),
    /// The fault hit this node; it is undone at this time.
    Hit(NodeId, Duration),
    /// Played and undone, or never asked for.
    Over,
}

impl Rehearsal {
    /// `fault` at `at` (zero: never), undone by `undo` `undo_after` later.
    pub fn new(
        fault: ConsoleCommand,
        at: Duration,
        undo: fn(NodeId) -> ConsoleCommand,
        undo_after: Duration,
    ) -> Self {
        Self {
            fault,
            undo,
            undo_after,
            stage: if at.is_zero() {
                Stage::Over
            } else {
                Stage::Waiting(at)
            },
        }
    }

    /// Kill the leader at `at` (zero: never); restart it `after` later.
    pub fn kill_leader(at: Duration, after: Duration) -> Self {
        Self::new(
            ConsoleCommand::Kill(None),
            at,
            |node| ConsoleCommand::Restart(Some(node)),
            after,
        )
    }

    /// Freeze the leader at `at` (zero: never); let it go on `after` later
    /// (a second `p` on a frozen process resumes it).
    pub fn freeze_leader(at: Duration, after: Duration) -> Self {
        Self::new(
            ConsoleCommand::Pause(None),
            at,
            |node| ConsoleCommand::Pause(Some(node)),
            after,
        )
    }

    /// The command due at `elapsed`, if any; say what came of it with
    /// [`played`](Self::played).
    pub fn due(&self, elapsed: Duration) -> Option<ConsoleCommand> {
        match self.stage {
            Stage::Waiting(at) if elapsed >= at => Some(self.fault),
            Stage::Hit(node, at) if elapsed >= at => Some((self.undo)(node)),
            _ => None,
        }
    }

    /// Records what the command [`due`](Self::due) gave did, at `elapsed`:
    /// the node the fault hit, or `None` when it found no target (it is
    /// tried again).
    pub fn played(&mut self, elapsed: Duration, hit: Option<NodeId>) {
        self.stage = match (self.stage, hit) {
            (Stage::Waiting(_), Some(node)) => Stage::Hit(node, elapsed + self.undo_after),
            (Stage::Waiting(at), None) => Stage::Waiting(at),
            (Stage::Hit(..) | Stage::Over, _) => Stage::Over,
        };
    }
}

/// `table` as text, each row painted in the colour `colours` gives the
/// first word of the row. The table is laid out first, so colour codes
/// never shift its columns.
pub fn painted(table: &Table, colours: &BTreeMap<String, Colour>, terminal: Terminal) -> String {
    table
        .to_string()
        .lines()
        .map(|line| {
            let first = line.split_whitespace().next().unwrap_or_default();
            match colours.get(first) {
                Some(&colour) => format!("{}\n", terminal.paint(line, colour)),
                None => format!("{line}\n"),
            }
        })
        .collect()
}

/// Sends uploads to `queue` at `rate` per second, a batch of ten at a time,
/// until stopped; a share `poison` of them corrupt (each a dead letter to
/// be). Counts the acknowledged ones in `sent`. A batch the queue does not
/// acknowledge (its cluster is failing over) is dropped and the next one
/// goes on time, as a camera that keeps shooting would.
pub async fn produce_at_rate(
    mut queue: impl QueueService,
    rate: f64,
    poison: Probability,
    seed: Seed,
    sent: Arc<Mutex<u64>>,
) {
    let mut rng = seed.rng();
    let batch = MAX_BATCH as u64;
    let mut batches = tokio::time::interval(Duration::from_secs_f64(
        batch as f64 / rate.max(f64::EPSILON),
    ));
    for first in (1_u64..).step_by(MAX_BATCH) {
        batches.tick().await;
        let messages = (first..first + batch)
            .map(|image| {
                let upload = Upload {
                    image: ImageId::new(image),
                    size_kb: rng.random_range(50..=500),
                    corrupt: rng.random_bool(poison.get()),
                };
                NewMessage {
                    body: upload.body(),
                    deduplication_id: Some(upload.deduplication_id()),
                }
            })
            .collect();
        if queue.send(messages).await.is_ok() {
            *lock(&sent) += batch;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_lines_read_as_commands() {
        let node = |number| Some(NodeId::new(number));
        assert_eq!(ConsoleCommand::parse("k"), Some(ConsoleCommand::Kill(None)));
        assert_eq!(
            ConsoleCommand::parse(" k 2 "),
            Some(ConsoleCommand::Kill(node(2)))
        );
        assert_eq!(
            ConsoleCommand::parse("p n3"),
            Some(ConsoleCommand::Pause(node(3)))
        );
        assert_eq!(
            ConsoleCommand::parse("r"),
            Some(ConsoleCommand::Restart(None))
        );
        assert_eq!(ConsoleCommand::parse("q"), Some(ConsoleCommand::Quit));
        assert_eq!(ConsoleCommand::parse("kill"), None);
        assert_eq!(ConsoleCommand::parse(""), None);
    }

    #[test]
    fn a_rehearsal_waits_for_its_target_then_undoes_the_fault() {
        let seconds = Duration::from_secs;
        let mut kill = Rehearsal::new(
            ConsoleCommand::Kill(None),
            seconds(2),
            |node| ConsoleCommand::Restart(Some(node)),
            seconds(3),
        );
        assert_eq!(kill.due(seconds(1)), None, "played before its time");
        assert_eq!(kill.due(seconds(2)), Some(ConsoleCommand::Kill(None)));
        kill.played(seconds(2), None);
        assert_eq!(
            kill.due(seconds(3)),
            Some(ConsoleCommand::Kill(None)),
            "a fault that found no leader must be tried again"
        );
        kill.played(seconds(3), Some(NodeId::new(2)));
        assert_eq!(kill.due(seconds(5)), None, "undone too early");
        assert_eq!(
            kill.due(seconds(6)),
            Some(ConsoleCommand::Restart(Some(NodeId::new(2))))
        );
        kill.played(seconds(6), None);
        assert_eq!(kill.due(seconds(60)), None, "played twice");
        let never = Rehearsal::new(
            ConsoleCommand::Kill(None),
            Duration::ZERO,
            |node| ConsoleCommand::Restart(Some(node)),
            seconds(3),
        );
        assert_eq!(never.due(seconds(60)), None);
    }
}

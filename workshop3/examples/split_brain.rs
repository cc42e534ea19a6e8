//! Split brain, and fencing tokens: the same scenario without and with them.
//!
//! Three replicas elect a leader (3.1-3.3) that writes an entry to storage
//! every half second (3.4). The leader is paused, like a process in a long
//! garbage-collection pause, just after it checked that it leads and while
//! it prepares its next entry. Its lease expires, another replica takes
//! over and writes. Then the old leader wakes and writes the entry it was
//! preparing, under its old token. Without fencing, storage accepts it; with
//! fencing (3.5), storage refuses it.
//!
//! `--timeline` draws both runs in the terminal, `--svg FILE` into one
//! picture: leases on the lease store's lane, beliefs and pauses on the
//! nodes' lanes, writes as arrows into storage, where a stale write that got
//! in is a red `!` and a refused one a red triangle.
//!
//! ```text
//! cargo run -p workshop3 --features solution --example split_brain
//! cargo run -p workshop3 --example split_brain -- --pause 20 --seed 3
//! cargo run -p workshop3 --features solution --example split_brain -- --svg split_brain.svg
//! ```

use std::time::Duration;

use coordination::demo::{
    self, Flag, Flags, SEED, SVG, TIMELINE, Table, VERBOSE, save_picture, unless_unfinished,
};
use coordination::picture::{Picture, Terminal};
use coordination::sim::{logging, simulate};
use coordination::{FencingToken, NodeId, Seed};
use workshop3::testing::{first_leader, pause_mid_entry};
use workshop3::{
    Chapter, Cluster, ClusterConfig, Event, Fencing, StoredWrite, Story, run_candidate_and_work,
};

const ABOUT: &str =
    "split_brain: a paused leader's stale write, accepted without fencing and refused with it";

const PAUSE: Flag = Flag::value("pause", "30", "how long the leader is paused, in seconds");
const CANDIDATES: Flag = Flag::value("candidates", "3", "how many replicas compete to lead");
const FLAGS: [Flag; 6] = [SEED, PAUSE, CANDIDATES, VERBOSE, TIMELINE, SVG];

/// What one run of the scenario produced.
struct Outcome {
    /// Everything that mattered, in time order.
    story: Story,
    /// Storage's accepted writes.
    accepted: Vec<StoredWrite>,
    /// How many writes storage refused.
    refused: usize,
    /// Every leader and its token, in the order they began.
    leaders: Vec<(NodeId, FencingToken)>,
    /// The paused leader, and when the pause began and ended.
    paused: (NodeId, Duration, Duration),
}

fn main() {
    demo::launch(ABOUT, &FLAGS, run);
}

fn run(flags: &Flags) -> Result<(), Box<dyn std::error::Error>> {
    let seed = Seed::new(flags.get(SEED)?);
    let pause = Duration::from_secs(flags.get(PAUSE)?);
    let candidates: u32 = flags.count(CANDIDATES)?;
    logging::init_for_demo(flags.switch(VERBOSE));

    let mut table = Table::new([
        "storage",
        "accepted",
        "refused",
        "stale accepted",
        "leaders (token)",
    ]);
    let mut unfinished = Vec::new();
    let mut stories = Vec::new();
    for (name, fencing) in [
        ("no fencing (3.4)", Fencing::Off),
        ("fencing tokens (3.5)", Fencing::On),
    ] {
        match unless_unfinished(|| scenario(seed, candidates, fencing, pause)) {
            Ok(outcome) => {
                let leaders: Vec<String> = outcome
                    .leaders
                    .iter()
                    .map(|(node, token)| format!("{node} ({token})"))
                    .collect();
                table.row([
                    name.to_string(),
                    outcome.accepted.len().to_string(),
                    outcome.refused.to_string(),
                    stale_accepted(&outcome.accepted).to_string(),
                    leaders.join(", "),
                ]);
                stories.push((name, outcome));
            }
            Err(exercise) => {
                table.row([name, "-", "-", "-", "not done yet"]);
                unfinished.push(exercise);
            }
        }
    }

    for (name, outcome) in &stories {
        let (leader, from, until) = outcome.paused;
        println!(
            "\n{name}: {leader} paused from {:.3} s to {:.3} s\n",
            from.as_secs_f64(),
            until.as_secs_f64()
        );
        for line in highlights(outcome) {
            println!("  {}", paint(&line));
        }
        if flags.switch(TIMELINE) {
            println!(
                "\n{}",
                outcome.story.timeline().swimlane(Terminal::detect())
            );
        }
    }
    println!("\n{candidates} replicas, a {pause:?} pause, seed {seed}\n\n{table}");
    unfinished.dedup();
    for exercise in unfinished {
        println!("  {exercise}");
    }
    save_picture(flags, || {
        let mut picture = Picture::new(format!(
            "split_brain: {candidates} replicas, the leader paused for {pause:?}, seed {seed}"
        ));
        for (name, outcome) in &stories {
            let (leader, _, _) = outcome.paused;
            picture.add(
                format!("{name}: {leader} paused while preparing an entry"),
                outcome.story.timeline(),
            );
        }
        picture
    })?;
    Ok(())
}

/// Runs the scenario once: elect, pause the leader mid-entry, let it wake,
/// and collect what happened.
fn scenario(seed: Seed, candidates: u32, fencing: Fencing, pause: Duration) -> Outcome {
    simulate(async move {
        let config = ClusterConfig {
            fencing,
            ..ClusterConfig::new(candidates)
        };
        let cluster = Cluster::start(seed, config, run_candidate_and_work)
            .expect("the demo starts at least one candidate");
        let leader = first_leader(&cluster, "split_brain").await;
        let resumed_at = pause_mid_entry(&cluster, leader, pause, "split_brain").await;
        cluster.run_for(Duration::from_secs(5)).await;
        outcome(&cluster, (leader, resumed_at - pause, resumed_at))
    })
}

fn outcome(cluster: &Cluster, paused: (NodeId, Duration, Duration)) -> Outcome {
    let storage = cluster.storage();
    Outcome {
        story: Story::of(cluster),
        accepted: storage.accepted().to_vec(),
        refused: storage.refused().len(),
        leaders: cluster
            .journal()
            .beliefs()
            .iter()
            .map(|belief| (belief.node, belief.token))
            .collect(),
        paused,
    }
}

/// How many accepted writes carry a token lower than one accepted before
/// them: writes of a leader that had been replaced.
fn stale_accepted(accepted: &[StoredWrite]) -> usize {
    let mut highest = None;
    let mut stale = 0;
    for write in accepted {
        if write.token < highest {
            stale += 1;
        }
        highest = highest.max(write.token);
    }
    stale
}

/// How a highlighted line is shown.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tone {
    /// An ordinary event.
    Plain,
    /// A write with a token lower than one storage had already accepted:
    /// split brain, in storage.
    Stale,
    /// A write storage refused.
    Refused,
}

/// The chapters worth reading, from one second before the pause on: every
/// change of lease, belief and fault; of the writes, only the new leader's
/// first, and every write of the paused leader after it woke.
fn highlights(outcome: &Outcome) -> Vec<(Chapter, Tone)> {
    let (paused, from, until) = outcome.paused;
    let mut new_leader_wrote = false;
    let mut highest = None;
    let mut lines = Vec::new();
    for chapter in outcome.story.chapters() {
        let shown = match chapter.event {
            Event::WriteAccepted { writer, token, .. } => {
                let stale = token < highest;
                highest = highest.max(token);
                if stale {
                    Some(Tone::Stale)
                } else if writer == paused {
                    // The paused leader's writes after it woke.
                    (chapter.at >= until).then_some(Tone::Plain)
                } else if chapter.at >= from && !new_leader_wrote {
                    // The new leader's first write.
                    new_leader_wrote = true;
                    Some(Tone::Plain)
                } else {
                    None
                }
            }
            Event::WriteRefused { .. } => Some(Tone::Refused),
            _ => Some(Tone::Plain),
        };
        if let Some(tone) = shown
            && chapter.at + Duration::from_secs(1) >= from
        {
            lines.push((chapter.clone(), tone));
        }
    }
    lines
}

/// A chapter's line, with colour where it carries the lesson: red for a
/// stale write that got in, green for one that was refused.
fn paint((chapter, tone): &(Chapter, Tone)) -> String {
    let line = chapter.to_string();
    let colour = match tone {
        Tone::Plain => return line,
        Tone::Stale => "31",
        Tone::Refused => "32",
    };
    let marked = match tone {
        Tone::Stale => format!("{line}   <- stale, accepted"),
        _ => line,
    };
    if logging::colour_wanted() {
        format!("\x1b[{colour}m{marked}\x1b[0m")
    } else {
        marked
    }
}

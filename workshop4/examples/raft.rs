//! Raft-lite through a bad afternoon: five nodes, the leader killed, a
//! partition, a heal.
//!
//! Phase by phase: the cluster elects a leader and commits commands; the
//! leader crashes and the others elect a new one; the new leader is cut off
//! from the other three, and its writes go nowhere while the three, a
//! majority of the five, elect a leader of their own and go on; the
//! partition heals and everyone converges on the majority's log. The timeline
//! shows every change of role and term; the table sums up each phase.
//!
//! Needs exercises 4.1 to 4.3 (or `--features solution`).
//!
//! `--timeline` draws the nodes' lanes in the terminal (terms started,
//! leaderships as bars, commit indexes, faults); `--svg FILE` draws them
//! into a standalone SVG file.
//!
//! ```text
//! cargo run -p workshop4 --features solution --example raft
//! cargo run -p workshop4 --features solution --example raft -- --seed 7 --svg raft.svg
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use coordination::NodeId;
use coordination::Seed;
use coordination::demo::{
    self, Flag, Flags, SEED, SVG, TIMELINE, Table, save_picture, unless_unfinished,
};
use coordination::picture::{Picture, Terminal};
use coordination::sim::{NetworkConditions, simulate};
use coordination::timeline::Recording;
use workshop4::{ClusterEvent, LogIndex, RaftCluster, Role};

const ABOUT: &str = "raft: five Raft-lite nodes through a crash, a partition and a heal";

const COMMANDS: Flag = Flag::value("commands", "10", "commands to commit in each phase");
const FLAGS: [Flag; 4] = [SEED, COMMANDS, TIMELINE, SVG];

fn main() {
    demo::launch(ABOUT, &FLAGS, run);
}

fn run(flags: &Flags) -> Result<(), Box<dyn std::error::Error>> {
    let seed = Seed::new(flags.get(SEED)?);
    let commands = flags.count(COMMANDS)?;
    let recording = Recording::start();
    let outcome = unless_unfinished(|| simulate(afternoon(seed, commands)));
    let timeline = recording.finish();
    let story = match outcome {
        Ok(story) => story?,
        Err(exercise) => {
            println!("The cluster cannot run yet: {exercise}");
            println!("Finish exercises 4.1 to 4.3, or add --features solution.");
            return Ok(());
        }
    };
    print!("{story}");
    if flags.switch(TIMELINE) {
        println!("\n{}", timeline.swimlane(Terminal::detect()));
    }
    save_picture(flags, || {
        let mut picture = Picture::new(format!(
            "raft: five nodes through a crash, a partition and a heal, seed {seed}"
        ));
        picture.add("terms, leaderships, commit indexes and faults", timeline);
        picture
    })?;
    Ok(())
}

/// One row of the summary table.
struct Phase {
    what: &'static str,
    leader: String,
    term: String,
    committed: String,
    refused: String,
    took: Duration,
}

/// Runs the phases and returns the timeline and the table, as text.
async fn afternoon(seed: Seed, commands: u64) -> Result<String, workshop4::ClusterError> {
    let mut raft: RaftCluster<u64> = RaftCluster::new(5, seed, NetworkConditions::reliable());
    let mut phases = Vec::new();
    let mut next_command = 0;

    let started = tokio::time::Instant::now();
    let leader = raft.check_one_leader().await?;
    let mut last = LogIndex::ZERO;
    for _ in 0..commands {
        next_command += 1;
        last = raft.agree(next_command, 3).await?;
    }
    phases.push(phase(
        "elect, then commit",
        &raft,
        leader,
        last,
        "-",
        started,
    ));

    let started = tokio::time::Instant::now();
    raft.crash(leader)?;
    let second = raft.check_one_leader().await?;
    for _ in 0..commands {
        next_command += 1;
        last = raft.agree(next_command, 3).await?;
    }
    phases.push(phase("kill the leader", &raft, second, last, "-", started));

    let started = tokio::time::Instant::now();
    // Four nodes are alive: the leader alone on one side, three on the
    // other, which is a majority of the five members.
    raft.partition(&[&[second]])?;
    let mut refused = 0;
    for command in 0..commands {
        if raft.propose(second, 1_000 + command).is_ok() {
            refused += 1;
        }
    }
    let third = majority_leader(&mut raft, second).await?;
    for _ in 0..commands {
        next_command += 1;
        last = raft.agree(next_command, 3).await?;
    }
    phases.push(phase(
        "partition: leader | 3 others",
        &raft,
        third,
        last,
        &format!("{refused} never committed"),
        started,
    ));

    let started = tokio::time::Instant::now();
    raft.heal();
    for _ in 0..commands {
        next_command += 1;
        last = raft.agree(next_command, 3).await?;
    }
    raft.run_for(Duration::from_millis(300)).await;
    let leader = raft.check_one_leader().await?;
    phases.push(phase("heal", &raft, leader, last, "-", started));

    let mut text = String::from("Timeline (role and term changes, faults):\n");
    for record in raft.timeline() {
        let line = match &record.event {
            ClusterEvent::Role { role, term } => format!("{role} in {term}"),
            ClusterEvent::Fault(what) => what.to_string(),
            ClusterEvent::LostEntries(report) => report.to_string(),
            ClusterEvent::Committed(_) => continue,
        };
        text.push_str(&format!(
            "  {:>8.3}s  {}  {line}\n",
            record.at.as_secs_f64(),
            record.node
        ));
    }
    let mut table = Table::new([
        "phase",
        "leader",
        "term",
        "committed",
        "minority writes",
        "took",
    ]);
    for phase in phases {
        table.row([
            phase.what.to_string(),
            phase.leader,
            phase.term,
            phase.committed,
            phase.refused,
            format!("{:.2} s", phase.took.as_secs_f64()),
        ]);
    }
    text.push_str(&format!("\nSeed {seed}, 5 nodes\n\n{table}\n"));
    let mut nodes = Table::new(["node", "role", "term", "commit index", "log length"]);
    for member in raft.members().to_vec() {
        match raft.node(member) {
            Some(node) => nodes.row([
                member.to_string(),
                node.role().to_string(),
                node.term().get().to_string(),
                node.commit_index().get().to_string(),
                node.log().len().to_string(),
            ]),
            None => nodes.row([member.to_string(), "crashed".into()]),
        };
    }
    text.push_str(&format!("{nodes}"));
    text.push_str(&format!("\nMessages:\n{}", raft.counts()));
    Ok(text)
}

/// Waits for a leader other than `minority_leader`, which still believes it
/// leads on its side of the partition.
async fn majority_leader(
    raft: &mut RaftCluster<u64>,
    minority_leader: NodeId,
) -> Result<NodeId, workshop4::ClusterError> {
    for _ in 0..50 {
        raft.run_for(Duration::from_millis(100)).await;
        let leaders: BTreeMap<_, _> = raft.leaders();
        if let Some((_, nodes)) = leaders.last_key_value()
            && nodes[0] != minority_leader
        {
            return Ok(nodes[0]);
        }
    }
    raft.check_one_leader().await
}

fn phase(
    what: &'static str,
    raft: &RaftCluster<u64>,
    leader: NodeId,
    last: LogIndex,
    refused: &str,
    started: tokio::time::Instant,
) -> Phase {
    let term = raft
        .node(leader)
        .filter(|node| node.role() == Role::Leader)
        .map_or("-".to_string(), |node| node.term().get().to_string());
    let on = raft.committed(last).map_or(0, |(count, _)| count);
    Phase {
        what,
        leader: leader.to_string(),
        term,
        committed: format!("up to {} on {on} nodes", last.get()),
        refused: refused.to_string(),
        took: started.elapsed(),
    }
}

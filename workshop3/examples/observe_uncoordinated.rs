//! Observe: replicas that do not coordinate all act as leader.
//!
//! Three replicas of a service each believe they are the one instance, as a
//! cron job copied onto three machines would. Every one of them prepares an
//! entry every half second and writes it to storage. Storage accepts
//! everything, so its log holds all three writers' entries, interleaved.
//!
//! ```text
//! cargo run -p workshop3 --example observe_uncoordinated
//! cargo run -p workshop3 --example observe_uncoordinated -- --replicas 2 --seconds 5 --timeline
//! cargo run -p workshop3 --example observe_uncoordinated -- --svg observe.svg
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use coordination::demo::{self, Flag, Flags, SEED, SVG, TIMELINE, Table, VERBOSE, save_picture};
use coordination::picture::{Picture, Terminal};
use coordination::sim::{logging, simulate};
use coordination::{NodeId, Seed};
use workshop3::{Cluster, ClusterConfig, StoredWrite, Story, act_without_election};

const ABOUT: &str =
    "observe_uncoordinated: without an election every replica writes, and storage takes it all";

const REPLICAS: Flag = Flag::value("replicas", "3", "how many replicas of the service");
const SECONDS: Flag = Flag::value("seconds", "10", "how long to run, in simulated seconds");
const FLAGS: [Flag; 6] = [SEED, REPLICAS, SECONDS, VERBOSE, TIMELINE, SVG];

fn main() {
    demo::launch(ABOUT, &FLAGS, run);
}

fn run(flags: &Flags) -> Result<(), Box<dyn std::error::Error>> {
    let seed = Seed::new(flags.get(SEED)?);
    let replicas: u32 = flags.count(REPLICAS)?;
    let seconds: u64 = flags.count(SECONDS)?;
    logging::init_for_demo(flags.switch(VERBOSE));

    let (log, story): (Vec<StoredWrite>, Story) = simulate(async move {
        let cluster = Cluster::start(seed, ClusterConfig::new(replicas), act_without_election)?;
        cluster.run_for(Duration::from_secs(seconds)).await;
        let log = cluster.storage().accepted().to_vec();
        Ok::<_, workshop3::ClusterError>((log, Story::of(&cluster)))
    })?;
    let timeline = story.timeline();
    if flags.switch(TIMELINE) {
        println!("{}", timeline.swimlane(Terminal::detect()));
    }

    println!("The first entries of storage's log:\n");
    let mut first = Table::new(["position", "at", "writer", "entry", "token"]);
    for write in log.iter().take(9) {
        first.row([
            write.position.to_string(),
            format!("{:.3} s", write.at.as_secs_f64()),
            write.writer.to_string(),
            write.entry.to_string(),
            "none".to_string(),
        ]);
    }
    println!("{first}");

    let mut per_writer: BTreeMap<NodeId, usize> = BTreeMap::new();
    for write in &log {
        *per_writer.entry(write.writer).or_default() += 1;
    }
    let mut summary = Table::new(["writer", "entries accepted"]);
    for (writer, count) in &per_writer {
        summary.row([writer.to_string(), count.to_string()]);
    }
    let switches = log
        .windows(2)
        .filter(|pair| pair[0].writer != pair[1].writer)
        .count();
    println!("{summary}");
    println!(
        "{} writers, {} entries, and the writer changes {switches} times between neighbouring \
         entries. Every replica acted as the leader.",
        per_writer.len(),
        log.len()
    );
    save_picture(flags, || {
        let mut picture = Picture::new(format!(
            "observe_uncoordinated: {replicas} replicas without an election, {seconds} s, seed {seed}"
        ));
        picture.add(
            format!("every replica writes to storage: {} entries", log.len()),
            timeline,
        );
        picture
    })?;
    Ok(())
}

//! Observe: replicas that do not coordinate all act as leader.
//!
//! These tests describe the starting point, not an exercise: they pass before
//! you change anything and keep passing after. Read them with
//! `workshop3/README.md`, section "Observe".

use coordination::sim::{NetworkConditions, simulate};
use coordination::{NodeId, Seed};
use workshop3::testing::{for_each_seed, secs, start, writes_by};
use workshop3::{ClusterConfig, Story, act_without_election};

/// Without an election every replica believes it is the one: all three
/// write, and storage ends up with their entries interleaved.
#[test]
fn without_an_election_every_replica_writes_and_their_entries_interleave() {
    for_each_seed(|seed| async move {
        let cluster = start(seed, ClusterConfig::new(3), act_without_election);
        cluster.run_for(secs(10)).await;
        for replica in cluster.candidates() {
            assert!(
                writes_by(&cluster, replica).len() >= 15,
                "{replica} writes an entry every half second, as every replica does"
            );
        }
        let storage = cluster.storage();
        let writers: Vec<NodeId> = storage
            .accepted()
            .iter()
            .map(|write| write.writer)
            .collect();
        let switches = writers.windows(2).filter(|pair| pair[0] != pair[1]).count();
        assert!(
            switches >= 20,
            "entries from different writers alternate in storage: {writers:?}"
        );
        assert!(
            storage.accepted().iter().all(|write| write.token.is_none()),
            "nobody holds a lease, so no write carries a token"
        );
    });
}

/// Determinism, the property every test here relies on: the same seed gives
/// the same run, message for message, even on a network that loses and
/// delays; another seed gives another run.
#[test]
fn the_same_seed_gives_the_same_run_byte_for_byte() {
    let run = |seed: u64| {
        simulate(async move {
            let config = ClusterConfig {
                conditions: NetworkConditions::unreliable(),
                ..ClusterConfig::new(3)
            };
            let cluster = start(Seed::new(seed), config, act_without_election);
            cluster.run_for(secs(20)).await;
            format!("{}\n{}", Story::of(&cluster), cluster.network().trace())
        })
    };
    assert_eq!(
        run(7),
        run(7),
        "seed 7 told two different stories: something in the simulation is not decided by \
         the seed (a real clock, a hash map's order, an unseeded random number)"
    );
    assert_ne!(
        run(7),
        run(8),
        "seeds 7 and 8 told the same story on a lossy network: the seed does not reach the \
         network's randomness"
    );
}

//! Which of the workshops' exercises the capstone needs, and whether each is
//! written: the first thing to look at when the capstone's other tests stop
//! at an unfinished exercise.
//!
//! Each probe calls one exercise's code the way the capstone does and
//! catches a `todo!()`; it does not judge the code (each exercise's own
//! tests do). This file holds one test, so that silencing the panic hook
//! while it probes never hides another test's output.

use std::collections::BTreeMap;

use coordination::demo::unless_unfinished;
use coordination::sim::{NetworkConditions, simulate};
use coordination::{Attempt, FencingToken, Seed, WorkItemId, WorkerId};
use std::time::Duration;
use workshop1::BackoffPolicy;
use workshop2::{Candidate, Placement, PowerOfChoices, StealingDeques};
use workshop3::FencingGate;
use workshop4::idempotent_stage::publication_key;
use workshop4::pipeline::ImageId;
use workshop4::{
    Account, AccountOperation, ClientId, ClientRequest, ExactlyOnce, RaftCluster, SequenceNumber,
};

/// What each probe stands for: the exercise and what the capstone uses it
/// for.
const USES: [(&str, &str); 9] = [
    ("1.3", "backoff between retries of clients and consumers"),
    ("2.2", "placing received messages on a host's workers"),
    ("2.3", "workers stealing from each other's backlog"),
    ("3.5", "fencing stale writers out of the gallery"),
    ("4.1", "electing the queue's leader"),
    ("4.2", "replicating the queue's log"),
    ("4.3", "committing the queue's operations"),
    ("4.4", "applying each client request once"),
    ("4.5", "publishing each photo once"),
];

/// Every exercise the capstone runs on is written (it may still be wrong:
/// its own tests say so).
#[test]
fn every_exercise_the_capstone_runs_on_is_written() {
    let mut unfinished: BTreeMap<String, String> = BTreeMap::new();
    let mut probe = |run: &dyn Fn()| {
        if let Err(exercise) = unless_unfinished(run) {
            unfinished
                .entry(exercise.id.clone())
                .or_insert(exercise.message);
        }
    };
    probe(&|| {
        let policy = BackoffPolicy::new(Duration::from_millis(10), Duration::from_secs(1))
            .expect("10 ms below 1 s");
        let _ = policy.delay(Attempt::FIRST, &mut Seed::new(1).rng());
    });
    probe(&|| {
        let candidates = [Candidate {
            worker: WorkerId::new(1),
            outstanding: 0,
        }];
        let _ =
            PowerOfChoices::two().place(WorkItemId::new(1), &candidates, &mut Seed::new(1).rng());
    });
    probe(&|| {
        let deques = StealingDeques::new(2).expect("two workers");
        deques.push(0, 1);
        let _ = deques.next(1, &mut Seed::new(1).rng());
    });
    probe(&|| {
        let _ = FencingGate::new().admit(Some(FencingToken::new(1)));
    });
    probe(&|| {
        simulate(async {
            let mut raft: RaftCluster<u64> =
                RaftCluster::new(3, Seed::new(1), NetworkConditions::reliable());
            let _ = raft.check_one_leader().await;
            let _ = raft.agree(7, 3).await;
        });
    });
    probe(&|| {
        let request = ClientRequest {
            client: ClientId::new(1),
            sequence: SequenceNumber::new(1),
            operation: AccountOperation::Deposit(1),
        };
        let _ = ExactlyOnce::new(Account::new()).apply(&request);
    });
    probe(&|| {
        let _ = publication_key(ImageId::new(1));
    });
    if unfinished.is_empty() {
        return;
    }
    let mut message = String::from(
        "the capstone runs on your own workshop code, and these exercises are not written yet:\n",
    );
    for (id, exercise) in &unfinished {
        let used_for = USES
            .iter()
            .find(|(used, _)| used == id)
            .map_or("", |(_, what)| what);
        message.push_str(&format!("  - {exercise}\n      used for {used_for}\n"));
    }
    if unfinished.contains_key("4.1") {
        message.push_str(
            "  (4.2 and 4.3, replication and commit, can only be probed once 4.1 elects a \
             leader)\n",
        );
    }
    message.push_str(
        "Finish them in order (`cargo workshop` shows where you are), or see the capstone run \
         on the reference solutions: cargo test -p capstone --features solution",
    );
    panic!("{message}");
}

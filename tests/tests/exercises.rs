//! Which of the workshops' exercises the capstone needs, and whether each is
//! written: the first thing to look at when the capstone's other tests stop
//! at an unfinished exercise.
//!
//! Each probe calls one exercise's code the way the capstone does and
//! catches a `todo!()`; it does not judge the code (each exercise's own
//! tests do). This file holds one test, so that silencing the panic hook
//! while it probes never hides another test's output.

use std::collections::BTreeMap;

use capstone::testing::EXERCISE_PROBES;
use coordination::demo::unless_unfinished;

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
    for (_, probe) in EXERCISE_PROBES {
        if let Err(exercise) = unless_unfinished(probe) {
            unfinished
                .entry(exercise.id.clone())
                .or_insert(exercise.message);
        }
    }
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

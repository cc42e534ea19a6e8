//! Helpers for the capstone's tests: seeds, the exam's coaching, and the
//! assertions the tests share.
//!
//! The capstone runs on the learner's own workshop code, so on an
//! unfinished tree its tests stop at the first `todo!()` they reach. The
//! helpers here turn that panic into a message that names the exercise and
//! says what to do, instead of a backtrace into another crate.

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};

use std::time::Duration;

use coordination::demo::unless_unfinished;
use coordination::sim::{NetworkConditions, simulate};
use coordination::unfinished::UnfinishedExercise;
use coordination::{Attempt, FencingToken, Seed, WorkItemId, WorkerId};
use workshop1::BackoffPolicy;
use workshop2::{Candidate, Placement, PowerOfChoices, StealingDeques};
use workshop3::FencingGate;
use workshop4::idempotent_stage::publication_key;
use workshop4::pipeline::ImageId;
use workshop4::{
    Account, AccountOperation, ClientId, ClientRequest, ExactlyOnce, RaftCluster, SequenceNumber,
};

use crate::sim::{ScenarioReport, Violation};

/// How many seeds a scenario of ten thousand messages runs by default: each
/// takes one to three seconds of real time, and the whole capstone's test
/// run should stay within about fifteen. `DWC_SEEDS` asks for more.
pub const SCENARIO_SEEDS: usize = 2;

// This crate's `sweep()` and `for_each_seed()`, which name it in the
// commands that replay a failing seed.
coordination::seed_sweep!();

/// Runs a scenario test once per seed of a sweep sized for scenarios
/// ([`SCENARIO_SEEDS`] by default); on failure, prints the seed and the
/// command that replays it, and names an unfinished exercise if that is
/// what stopped it.
pub fn for_each_scenario_seed<F, Fut>(test: F)
where
    F: Fn(Seed) -> Fut,
    Fut: Future<Output = ()>,
{
    exam(|| sweep().by_default(SCENARIO_SEEDS).run(test));
}

/// Runs `test`; if it stops at an exercise that is not done (a `todo!()`
/// panic, here or in a node process's log), fails with a message that names
/// the exercise and says what to do. Any other panic goes on as it was.
///
/// # Panics
/// When `test` panics.
pub fn exam<T>(test: impl FnOnce() -> T) -> T {
    match panic::catch_unwind(AssertUnwindSafe(test)) {
        Ok(value) => value,
        Err(payload) => match UnfinishedExercise::from_panic(payload.as_ref()) {
            Some(exercise) => panic!("{}", coaching(&exercise, "solution")),
            None => panic::resume_unwind(payload),
        },
    }
}

/// One probe per exercise the capstone runs on, in the catalogue's order:
/// each calls the exercise's code the way the capstone does, and stops at
/// its `todo!()` if it is not written. A probe does not judge the code
/// (each exercise's own tests do). The Raft probe stands for 4.1 to 4.3:
/// replication and commit can only be reached once 4.1 elects a leader.
pub const EXERCISE_PROBES: [(&str, fn()); 7] = [
    ("1.3", || {
        let policy = BackoffPolicy::new(Duration::from_millis(10), Duration::from_secs(1))
            .expect("10 ms below 1 s");
        let _ = policy.delay(Attempt::FIRST, &mut Seed::new(1).rng());
    }),
    ("2.2", || {
        let candidates = [Candidate {
            worker: WorkerId::new(1),
            outstanding: 0,
        }];
        let _ =
            PowerOfChoices::two().place(WorkItemId::new(1), &candidates, &mut Seed::new(1).rng());
    }),
    ("2.3", || {
        let deques = StealingDeques::new(2).expect("two workers");
        deques.push(0, 1);
        let _ = deques.next(1, &mut Seed::new(1).rng());
    }),
    ("3.5", || {
        let _ = FencingGate::new().admit(Some(FencingToken::new(1)));
    }),
    ("4.1", || {
        simulate(async {
            let mut raft: RaftCluster<u64> =
                RaftCluster::new(3, Seed::new(1), NetworkConditions::reliable());
            let _ = raft.check_one_leader().await;
            let _ = raft.agree(7, 3).await;
        });
    }),
    ("4.4", || {
        let request = ClientRequest {
            client: ClientId::new(1),
            sequence: SequenceNumber::new(1),
            operation: AccountOperation::Deposit(1),
        };
        let _ = ExactlyOnce::new(Account::new()).apply(&request);
    }),
    ("4.5", || {
        let _ = publication_key(ImageId::new(1));
    }),
];

/// Probes the exercises `needed` (ids such as `"2.3"`), in the catalogue's
/// order, before a run that would otherwise meet them mid-way, in tasks
/// whose order the machine decides. `features` are the capstone's features
/// the run needs besides `solution`, for the command the message gives.
///
/// # Panics
/// At the first one not written, with a message that names it and says
/// what to do.
pub fn stop_at_first_unfinished(needed: &[&str], features: &str) {
    for (id, probe) in EXERCISE_PROBES {
        if needed.contains(&id)
            && let Err(exercise) = unless_unfinished(probe)
        {
            panic!("{}", coaching(&exercise, &format!("{features},solution")));
        }
    }
}

/// What to tell a learner whose tree stops at `exercise`; `features` are
/// the ones that run the same test on the reference solutions.
fn coaching(exercise: &UnfinishedExercise, features: &str) -> String {
    let id = &exercise.id;
    format!(
        "the capstone runs on your own workshop code, and {exercise} is not done yet.\n\
         Finish it first (`cargo workshop check {id}`); `cargo test -p capstone --test \
         exercises` lists every exercise the capstone needs. To see the capstone run on the \
         reference solutions instead: cargo test -p capstone --features {features}"
    )
}

/// Fails with every broken rule of `report`, each naming its message, and
/// the run's summary.
///
/// # Panics
/// When the run broke a rule.
#[track_caller]
pub fn assert_every_rule_held(report: &ScenarioReport) {
    let broken = report.violations();
    if broken.is_empty() {
        return;
    }
    let shown: Vec<&Violation> = broken.iter().take(12).collect();
    let more = broken.len().saturating_sub(shown.len());
    let mut message = format!("{} rule(s) broken in {}:\n", broken.len(), report.name);
    for line in shown {
        message.push_str(&format!("  - {line}\n"));
    }
    if more > 0 {
        message.push_str(&format!("  ... and {more} more\n"));
    }
    message.push_str(&format!("{report}"));
    panic!("{message}");
}

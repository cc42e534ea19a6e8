//! Workshop 4's tests, one module per file, in one test binary.
//!
//! `exN_M_*` checks exercise N.M and nothing else; `observe_*` shows the
//! problem the workshop solves, and `given_code` checks the code you are
//! given; both pass before you change anything. Run one exercise's tests
//! with `cargo workshop check 4.1` or
//! `cargo test -p workshop4 --test workshop ex4_1_election`.

mod ex4_1_election;
mod ex4_2_replication;
mod ex4_3_commit;
mod ex4_4_exactly_once;
mod ex4_5_idempotent_stage;

mod given_code;
mod observe_duplicates;

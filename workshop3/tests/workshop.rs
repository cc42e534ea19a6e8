//! Workshop 3's tests, one module per file, in one test binary.
//!
//! `exN_M_*` checks exercise N.M and nothing else; `observe_*` shows the
//! problem the workshop solves, and `given_code` checks the code you are
//! given; both pass before you change anything. Run one exercise's tests
//! with `cargo workshop check 3.1` or
//! `cargo test -p workshop3 --test workshop ex3_1_lease_elector`.

mod ex3_1_lease_elector;
mod ex3_2_failure_detector;
mod ex3_3_failover;
mod ex3_4_leader_work;
mod ex3_5_fencing;

mod given_code;
mod observe_uncoordinated;

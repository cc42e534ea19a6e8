//! Workshop 2's tests, one module per file, in one test binary.
//!
//! `exN_M_*` checks exercise N.M and nothing else; `observe_*` shows the
//! problem the workshop solves, and `given_code` checks the code you are
//! given; both pass before you change anything. Run one exercise's tests
//! with `cargo workshop check 2.1` or
//! `cargo test -p workshop2 --test workshop ex2_1_round_robin`.

mod ex2_1_round_robin;
mod ex2_2_least_loaded;
mod ex2_3_work_stealing;
mod ex2_4_backpressure;
mod ex2_5_circuit_breaker;
mod ex2_6_autoscaler;

mod given_code;
mod observe_round_robin;

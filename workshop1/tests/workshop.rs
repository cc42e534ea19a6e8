//! Workshop 1's tests, one module per file, in one test binary.
//!
//! `exN_M_*` checks exercise N.M and nothing else; `observe_*` shows the
//! problem the workshop solves, and `given_code` checks the code you are
//! given; both pass before you change anything. Run one exercise's tests
//! with `cargo workshop check 1.1` or
//! `cargo test -p workshop1 --test workshop ex1_1_immediate_retry`.

mod ex1_1_immediate_retry;
mod ex1_2_requeue;
mod ex1_3_backoff;
mod ex1_4_backoff_distributor;
mod ex1_5_dead_letter_queue;
mod ex1_6_visibility_timeout;

mod given_code;
mod observe_naive;

//! The given code keeps its promises: the lease store's compare-and-set
//! rules, storage's log, the typed clients, the cluster's set-up, and typed
//! errors for bad input. These tests pass in every state of the workshop.

use std::time::Duration;

use coordination::sim::{CallError, NetworkConditions, NetworkError, simulate};
use coordination::{ConfigError, FencingToken, Seed};
use tokio::time::Instant;
use workshop3::testing::{millis, node, secs, start, sweep};
use workshop3::{
    Cluster, ClusterConfig, ClusterError, ClusterMessage, Fencing, Heartbeat, HeartbeatConfig,
    Journal, Leadership, LeaseAnswer, LeaseCallError, LeaseChange, LeaseError, LeaseRequest,
    LeaseStore, NodeEvent, StepDown, Storage, Write, WriteError, WriteRefused,
    act_without_election,
};

const LEASE: Duration = Duration::from_secs(15);

fn acquire() -> LeaseRequest {
    LeaseRequest::Acquire {
        lease_duration: LEASE,
    }
}

fn renew(token: u64) -> LeaseRequest {
    LeaseRequest::Renew {
        token: FencingToken::new(token),
        lease_duration: LEASE,
    }
}

fn store() -> LeaseStore {
    LeaseStore::new([node(1), node(2)])
}

/// The first acquire is granted under the store's first revision; while it
/// lasts, another candidate is told who holds it and for how long.
#[test]
fn a_granted_lease_is_held_until_it_expires() {
    let mut store = store();
    let granted = store.handle(node(1), acquire(), secs(0));
    assert_eq!(
        granted,
        Ok(LeaseAnswer::Granted {
            token: FencingToken::new(1)
        }),
        "given code: the first acquire of a free lease is granted under the store's first revision, token-1"
    );
    assert_eq!(
        store.handle(node(2), acquire(), secs(5)),
        Ok(LeaseAnswer::HeldBy {
            holder: node(1),
            token: FencingToken::new(1),
            expires_in: secs(10)
        }),
        "given code: while node-1's lease lasts, node-2 is told who holds it, under which token, and for how much longer"
    );
    let taken = store.handle(node(2), acquire(), secs(15));
    assert!(
        matches!(taken, Ok(LeaseAnswer::Granted { token }) if token > FencingToken::new(1)),
        "at expiry the lease is free, and a new lease gets a larger token: {taken:?}"
    );
}

/// Renewing keeps the token and moves the expiry; an expired lease cannot be
/// renewed, even if nobody took it.
#[test]
fn renewals_keep_the_token_and_expired_leases_stay_lost() {
    let mut store = store();
    store.handle(node(1), acquire(), secs(0)).expect("valid");
    assert_eq!(
        store.handle(node(1), renew(1), secs(10)),
        Ok(LeaseAnswer::Granted {
            token: FencingToken::new(1)
        }),
        "given code: the holder's renewal before expiry keeps its token"
    );
    assert_eq!(
        store.holder_at(secs(24)).map(|record| record.holder),
        Some(node(1)),
        "given code: renewed at 10 s for 15 s, node-1 still holds the lease at 24 s"
    );
    assert_eq!(store.holder_at(secs(25)), None, "renewed at 10 s for 15 s");
    assert_eq!(
        store.handle(node(1), renew(1), secs(25)),
        Ok(LeaseAnswer::Lost {
            token: FencingToken::new(1)
        }),
        "given code: a lease that expired cannot be renewed, even if nobody took it"
    );
    assert_eq!(
        store.handle(node(2), renew(1), secs(1)),
        Ok(LeaseAnswer::Lost {
            token: FencingToken::new(1)
        }),
        "only the holder can renew"
    );
}

/// Asking again for a lease you hold is harmless: the same token, extended.
/// A retried acquire after a lost answer must not look like a new leader.
#[test]
fn a_retried_acquire_gets_the_same_lease_back() {
    let mut store = store();
    store.handle(node(1), acquire(), secs(0)).expect("valid");
    assert_eq!(
        store.handle(node(1), acquire(), secs(3)),
        Ok(LeaseAnswer::Granted {
            token: FencingToken::new(1)
        }),
        "given code: a retried acquire by the holder gets the same token back, not a new lease"
    );
    assert_eq!(
        store.tenures().len(),
        1,
        "given code: a retried acquire extends the one tenure instead of starting a second"
    );
    assert_eq!(
        store.tenures()[0].until,
        secs(18),
        "given code: acquired again at 3 s for 15 s, the lease runs until 18 s"
    );
}

/// A release frees the lease at once; a revocation takes it away; both are
/// in the history and end the tenure.
#[test]
fn release_and_revoke_end_the_lease_early() {
    let mut store = store();
    store.handle(node(1), acquire(), secs(0)).expect("valid");
    assert_eq!(
        store.handle(
            node(1),
            LeaseRequest::Release {
                token: FencingToken::new(1)
            },
            secs(2)
        ),
        Ok(LeaseAnswer::Released),
        "given code: the holder's release is answered Released"
    );
    assert_eq!(
        store.holder_at(secs(2)),
        None,
        "given code: after a release nobody holds the lease"
    );
    store.handle(node(2), acquire(), secs(3)).expect("valid");
    store.revoke(secs(4));
    assert_eq!(
        store.holder_at(secs(4)),
        None,
        "given code: after a revocation nobody holds the lease"
    );
    let changes: Vec<_> = store.history().iter().map(|event| event.change).collect();
    assert!(
        matches!(
            changes.as_slice(),
            [
                LeaseChange::Acquired { .. },
                LeaseChange::Released,
                LeaseChange::Acquired { .. },
                LeaseChange::Revoked
            ]
        ),
        "given code: the history records acquire, release, acquire, revoke, in that order"
    );
    let ends: Vec<_> = store.tenures().iter().map(|tenure| tenure.until).collect();
    assert_eq!(
        ends,
        vec![secs(2), secs(4)],
        "given code: a release and a revocation each end their tenure at that instant"
    );
}

/// Bad input gets a typed error: an unknown node, a zero duration, a message
/// that is not a lease request.
#[test]
fn the_lease_store_refuses_bad_requests_with_typed_errors() {
    let mut store = store();
    assert_eq!(
        store.handle(node(9), acquire(), secs(0)),
        Err(LeaseError::UnknownNode(node(9))),
        "given code: a node the store does not know is refused by name"
    );
    assert_eq!(
        store.handle(
            node(1),
            LeaseRequest::Acquire {
                lease_duration: Duration::ZERO
            },
            secs(0)
        ),
        Err(LeaseError::ZeroDuration),
        "given code: a lease of zero duration is refused"
    );
    let answer = store.answer(
        node(1),
        ClusterMessage::Heartbeat(Heartbeat {
            token: FencingToken::new(1),
        }),
        secs(0),
    );
    assert_eq!(
        answer,
        ClusterMessage::LeaseAnswer(Err(LeaseError::NotALeaseRequest { kind: "heartbeat" })),
        "given code: a message that is not a lease request gets a typed refusal naming its kind"
    );
    assert!(
        !LeaseError::ZeroDuration.is_retryable(),
        "given code: a malformed request stays malformed: trying again cannot help"
    );
    assert!(store.history().is_empty(), "refusals change nothing");
}

/// Whatever candidates ask, and whenever, the store never lets two leases
/// overlap, and tokens only go up: checked over at least 500 random request
/// sequences.
#[test]
fn the_lease_store_never_grants_overlapping_leases() {
    sweep().at_least(500).run(|seed| async move {
        let mut store = LeaseStore::new([node(1), node(2), node(3)]);
        let mut now = Duration::ZERO;
        for step in 0..200 {
            let draw = seed.derive(step).value();
            now += millis(draw % 4000);
            let caller = node(1 + (draw >> 12) as u32 % 3);
            let token = FencingToken::new((draw >> 16) % 8);
            let lease_duration = millis(1 + (draw >> 24) % 15_000);
            let request = match (draw >> 40) % 4 {
                0 | 1 => LeaseRequest::Acquire { lease_duration },
                2 => LeaseRequest::Renew {
                    token,
                    lease_duration,
                },
                _ => LeaseRequest::Release { token },
            };
            store.handle(caller, request, now).expect("a valid request");
        }
        let tenures = store.tenures();
        for (earlier, later) in tenures.iter().zip(tenures.iter().skip(1)) {
            assert!(
                later.from >= earlier.until && later.token > earlier.token,
                "leases overlap or tokens went back: {earlier:?} then {later:?}"
            );
        }
    });
}

/// Without fencing, storage accepts every write, in order, and answers
/// anything else with a typed refusal.
#[test]
fn storage_without_fencing_accepts_every_write_in_order() {
    let mut storage = Storage::new(Fencing::Off);
    let tokens = [
        Some(FencingToken::new(34)),
        None,
        Some(FencingToken::new(33)),
    ];
    for (entry, token) in (1..).zip(tokens) {
        let ack = storage.write(node(1), Write { entry, token }, secs(entry));
        assert_eq!(
            ack.map(|ack| ack.position),
            Ok(entry),
            "given code: without fencing every write is accepted, at the next position"
        );
    }
    assert_eq!(
        storage.accepted().len(),
        3,
        "given code: three writes, three accepted entries"
    );
    assert!(
        storage.refused().is_empty(),
        "given code: without fencing storage refuses nothing"
    );
    assert_eq!(
        storage.fencing(),
        Fencing::Off,
        "given code: storage reports the fencing it was started with"
    );
    let answer = storage.answer(node(1), ClusterMessage::Lease(acquire()), secs(9));
    assert_eq!(
        answer,
        ClusterMessage::WriteAnswer(Err(WriteRefused::NotAWrite { kind: "acquire" })),
        "given code: a message that is not a write gets a typed refusal naming its kind"
    );
    assert!(
        WriteRefused::StaleToken {
            token: FencingToken::new(1),
            highest: FencingToken::new(2)
        }
        .means_superseded(),
        "given code: a stale token means a newer leader has written"
    );
}

/// The clients turn answers into typed results: a grant, a refusal, an
/// unknown node, a timeout, each with the right `is_retryable`.
#[test]
fn the_clients_turn_answers_into_typed_results() {
    simulate(async {
        let config = ClusterConfig {
            call_timeout: millis(200),
            ..ClusterConfig::new(2)
        };
        let cluster = start(Seed::new(1), config, |_context| async {});
        let (stranger, _inbox) = cluster.network().add_node(node(9)).expect("a new node");
        let lease_client =
            workshop3::LeaseClient::new(stranger.clone(), workshop3::LEASE_STORE, millis(200));
        let refused = lease_client.acquire(LEASE).await;
        assert_eq!(
            refused,
            Err(LeaseCallError::Refused(LeaseError::UnknownNode(node(9)))),
            "given code: the lease store refuses a node it does not know, and the client says so"
        );
        assert!(
            !refused.expect_err("refused").is_retryable(),
            "given code: a refusal of an unknown node is final: trying again cannot help"
        );

        cluster
            .network()
            .partition(&[&[node(9)]])
            .expect("known node");
        let unanswered = lease_client.acquire(LEASE).await;
        assert!(
            matches!(
                unanswered,
                Err(LeaseCallError::Call(CallError::TimedOut { .. }))
            ),
            "{unanswered:?}"
        );
        assert!(
            unanswered.expect_err("timed out").is_retryable(),
            "given code: a call with no answer may succeed next time"
        );
        cluster.network().heal();

        let storage = workshop3::StorageClient::new(stranger, workshop3::STORAGE, millis(200));
        let ack = storage.write(None, 1).await;
        assert_eq!(
            ack.map(|ack| ack.position),
            Ok(1),
            "given code: a write from a node storage does not know is still accepted without fencing"
        );
        cluster.network().crash(node(9)).expect("running");
        let down = storage.write(None, 2).await;
        assert!(
            down.as_ref().is_err_and(WriteError::is_node_down),
            "a crashed node's handle refuses to call: {down:?}"
        );
    });
}

/// A lease held by another node is worth trying again; a lost one is not.
#[test]
fn lease_errors_say_whether_to_try_again() {
    let held = LeaseCallError::HeldBy {
        holder: node(1),
        token: FencingToken::new(3),
        expires_in: secs(4),
    };
    assert!(
        held.is_retryable(),
        "given code: a lease held by another node may expire: worth trying again"
    );
    assert!(
        !LeaseCallError::Lost {
            token: FencingToken::new(3)
        }
        .is_retryable(),
        "given code: a lost lease stays lost: trying again cannot help"
    );
    let down = LeaseCallError::Call(CallError::Network(NetworkError::NodeCrashed(node(1))));
    assert!(
        down.is_node_down() && !down.is_retryable(),
        "given code: a crashed node's error says it is down, and that trying again cannot help"
    );
}

/// A belief runs out at its deadline even before anyone steps down, and
/// every change of mind is in the journal, with the span of the belief.
#[test]
fn a_belief_runs_out_by_itself_and_is_journaled() {
    simulate(async {
        let journal = Journal::new();
        let leadership = Leadership::new(node(1), journal.clone());
        assert_eq!(
            leadership.token(),
            None,
            "given code: a belief not yet begun gives no token"
        );
        let token = FencingToken::new(5);
        leadership.lead(token, Instant::now() + secs(10));
        assert_eq!(
            leadership.token(),
            Some(token),
            "given code: a node that leads under token-5 acts under token-5"
        );
        tokio::time::sleep(secs(4)).await;
        leadership.lead(token, Instant::now() + secs(10));
        tokio::time::sleep(secs(10)).await;
        assert_eq!(leadership.token(), None, "the belief ran out at 14 s");
        assert!(
            leadership.valid_until().is_some(),
            "but nobody stepped down yet"
        );
        assert_eq!(
            leadership.step_down(StepDown::RenewDeadlinePassed),
            StepDown::RenewDeadlinePassed,
            "given code: step_down returns the reason it was given"
        );
        leadership.step_down(StepDown::LeaseLost);
        let events: Vec<_> = journal.entries().iter().map(|entry| entry.event).collect();
        assert_eq!(
            events,
            vec![
                NodeEvent::BecameLeader { token },
                NodeEvent::SteppedDown {
                    token,
                    reason: StepDown::RenewDeadlinePassed
                }
            ],
            "one belief, one step-down: stepping down twice records nothing"
        );
        let beliefs = journal.beliefs();
        assert_eq!(
            (beliefs[0].from, beliefs[0].until),
            (secs(0), secs(14)),
            "given code: the journal's belief spans from when the node began to believe to when the extended belief ran out"
        );
    });
}

/// Bad cluster set-ups and operations get typed errors.
#[test]
fn the_cluster_refuses_bad_input_with_typed_errors() {
    simulate(async {
        let refused = Cluster::start(Seed::new(1), ClusterConfig::new(0), act_without_election);
        assert!(
            matches!(refused, Err(ClusterError::NoCandidates)),
            "given code: a cluster without candidates cannot start"
        );
        let instant = ClusterConfig {
            work_time: Duration::ZERO,
            ..ClusterConfig::new(2)
        };
        let refused = Cluster::start(Seed::new(1), instant, act_without_election);
        assert!(
            matches!(
                refused,
                Err(ClusterError::Config(ConfigError::ZeroDuration {
                    setting: "work time"
                }))
            ),
            "given code: a zero work time is refused, naming the setting"
        );
        let mut cluster = start(Seed::new(1), ClusterConfig::new(2), act_without_election);
        assert_eq!(
            cluster.crash(node(7)),
            Err(ClusterError::UnknownCandidate(node(7))),
            "given code: crashing a node that is not a candidate is refused by name"
        );
        assert!(
            matches!(
                cluster.crash(workshop3::LEASE_STORE),
                Err(ClusterError::UnknownCandidate(_))
            ),
            "given code: the lease store is not a candidate, so the cluster does not crash it"
        );
        assert!(
            matches!(
                cluster.restart(node(1)),
                Err(ClusterError::Network(
                    NetworkError::IllegalTransition { .. }
                ))
            ),
            "given code: restarting a node that is running is an illegal transition"
        );
        assert!(
            cluster.leadership(node(3)).is_err(),
            "given code: a node that is not a candidate has no leadership to look at"
        );
    });
}

/// Heartbeat timings are checked: a zero interval, or a suspicion timeout
/// no longer than the interval, is refused.
#[test]
fn heartbeat_timings_are_checked() {
    assert_eq!(
        HeartbeatConfig::new(secs(1), secs(3)),
        Ok(HeartbeatConfig::DEFAULT),
        "given code: a heartbeat every second with suspicion after three is the default"
    );
    assert_eq!(
        HeartbeatConfig::new(Duration::ZERO, secs(3)),
        Err(ConfigError::ZeroDuration {
            setting: "heartbeat interval"
        }),
        "given code: a zero heartbeat interval is refused, naming the setting"
    );
    assert!(
        matches!(
            HeartbeatConfig::new(secs(3), secs(3)),
            Err(ConfigError::NotLonger { .. })
        ),
        "given code: a suspicion timeout no longer than the interval is refused: no heartbeat could arrive in time"
    );
}

/// The network conditions a cluster is started with are the network's.
#[test]
fn a_cluster_runs_on_the_conditions_it_was_given() {
    simulate(async {
        let config = ClusterConfig {
            conditions: NetworkConditions::unreliable(),
            ..ClusterConfig::new(2)
        };
        let cluster = start(Seed::new(3), config, act_without_election);
        assert_eq!(
            cluster.network().conditions(),
            NetworkConditions::unreliable(),
            "given code: the cluster's network runs on the conditions the configuration gave"
        );
        assert_eq!(
            cluster.candidates(),
            vec![node(1), node(2)],
            "given code: a cluster of two candidates has node-1 and node-2"
        );
    });
}

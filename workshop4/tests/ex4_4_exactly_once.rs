//! Exercise 4.4: exactly-once on top of at-least-once. Edit
//! `workshop4/src/exactly_once.rs`.
//!
//! Read `workshop4/README.md`, "Implement", 4.4. Run just these tests with
//! `cargo test -p workshop4 --test workshop ex4_4_exactly_once`. The first tests call
//! the table directly; then clients retry deposits over an unreliable
//! network; the last test replicates the table with Raft-lite (4.1-4.3).

use std::time::Duration;

use coordination::sim::NetworkConditions;
use workshop4::testing::{expect_ok, for_each_seed};
use workshop4::{
    Account, AccountOperation, ClientId, ClientRequest, Deduplication, ExactlyOnce, RaftCluster,
    Reply, SequenceNumber, run_account_service,
};

const LESSON: &str = "exercise 4.4 (exactly-once)";

fn deposit(client: u64, sequence: u64, cents: u64) -> ClientRequest<AccountOperation> {
    ClientRequest {
        client: ClientId::new(client),
        sequence: SequenceNumber::new(sequence),
        operation: AccountOperation::Deposit(cents),
    }
}

/// A retry of a client's last request is answered with the reply it got
/// the first time, and not applied again.
#[test]
fn a_retry_gets_the_first_reply_and_is_not_applied_again() {
    let mut account = ExactlyOnce::new(Account::new());
    assert_eq!(
        account.apply(&deposit(1, 1, 500)),
        Reply::Applied(Ok(500)),
        "{LESSON}: client-1's first request is new: apply it"
    );
    assert_eq!(
        account.apply(&deposit(1, 1, 500)),
        Reply::Duplicate(Ok(500)),
        "{LESSON}: client-1 sent request #1 again (its reply was lost); answer with the kept \
         reply and do not apply it"
    );
    assert_eq!(
        account.machine().balance(),
        500,
        "{LESSON}: the deposit of 500 cents was credited twice"
    );
    assert_eq!(
        account.apply(&deposit(1, 2, 250)),
        Reply::Applied(Ok(750)),
        "{LESSON}: client-1's request #2 is new: apply it"
    );
    assert_eq!(
        account.apply(&deposit(2, 1, 100)),
        Reply::Applied(Ok(850)),
        "{LESSON}: client-2's request #1 is not client-1's: sequence numbers are per client"
    );
}

/// A request older than the client's last one is a straggler: it is not
/// applied, and its reply is gone.
#[test]
fn a_request_older_than_the_clients_last_is_refused() {
    let mut account = ExactlyOnce::new(Account::new());
    account.apply(&deposit(1, 1, 500));
    account.apply(&deposit(1, 2, 250));
    assert_eq!(
        account.apply(&deposit(1, 1, 500)),
        Reply::Expired {
            last: SequenceNumber::new(2)
        },
        "{LESSON}: a long-delayed copy of request #1 arrives after #2 was applied; the client \
         has its answer already. Applying it would credit 500 again"
    );
    assert_eq!(
        account.machine().balance(),
        750,
        "{LESSON}: 500 and 250 were deposited once each; the straggler must not be applied"
    );
    assert_eq!(
        account.machine().operations_applied(),
        2,
        "{LESSON}: two requests, two operations applied"
    );
}

/// The table keeps one reply per client, however many requests each makes:
/// memory is bounded by clients, not requests.
#[test]
fn the_table_keeps_one_reply_per_client() {
    let mut account = ExactlyOnce::new(Account::new());
    for sequence in 1..=1_000 {
        for client in 1..=3 {
            account.apply(&deposit(client, sequence, 1));
        }
    }
    assert_eq!(
        account.clients_remembered(),
        3,
        "{LESSON}: 3 clients made 1,000 requests each; keep only the last reply per client"
    );
    let last = account
        .last_reply(ClientId::new(2))
        .expect("client-2 was seen");
    assert_eq!(
        (last.sequence, last.output),
        (SequenceNumber::new(1_000), Ok(2_999)),
        "{LESSON}: the kept reply is the client's latest"
    );
}

/// Over a network that loses replies after the deposit was applied, clients
/// that retry make every deposit count exactly once.
#[test]
fn retried_deposits_over_an_unreliable_network_count_once() {
    for_each_seed(|seed| async move {
        let run = run_account_service(
            seed,
            NetworkConditions::unreliable(),
            4,
            25,
            Deduplication::ByClientAndSequence,
        )
        .await
        .expect("the service sets up");
        assert!(
            run.replies_lost > 0 && run.retries > 0,
            "set-up: the network should have lost replies and clients retried: {run:?}"
        );
        assert_eq!(
            run.balance, run.intended,
            "{LESSON}: the clients deposited {} cents in all, the account holds {}. Retries \
             after lost replies were applied again\n{run:?}",
            run.intended, run.balance
        );
        assert_eq!(
            run.operations_applied, run.deposits,
            "{LESSON}: {} deposits, {} applied\n{run:?}",
            run.deposits, run.operations_applied
        );
        assert!(
            run.clients_remembered <= 4,
            "{LESSON}: 4 clients, {} kept replies",
            run.clients_remembered
        );
    });
}

/// Duplicates that reach the replicated log are applied once on every
/// replica, and every replica's table and balance agree: deduplication is
/// part of the replicated state machine.
#[test]
fn duplicates_in_the_replicated_log_are_applied_once_on_every_replica() {
    for_each_seed(|seed| async move {
        let mut raft: RaftCluster<ClientRequest<AccountOperation>> =
            RaftCluster::new(3, seed, NetworkConditions::reliable());
        let mut intended = 0;
        for sequence in 1..=5 {
            let request = deposit(7, sequence, sequence * 100);
            intended += sequence * 100;
            expect_ok(raft.agree(request.clone(), 3).await, LESSON);
            // The reply to the client was lost: it sends the same request
            // again, and it is committed again.
            expect_ok(raft.agree(request, 3).await, LESSON);
        }
        raft.run_for(Duration::from_millis(200)).await;
        for member in raft.members().to_vec() {
            let mut replica = ExactlyOnce::new(Account::new());
            let replies: Vec<_> = raft
                .applied(member)
                .iter()
                .map(|request| replica.apply(request))
                .collect();
            assert_eq!(
                replies.len(),
                10,
                "set-up: 10 entries committed on {member}"
            );
            assert_eq!(
                replica.machine().balance(),
                intended,
                "{LESSON}: {member} applied the log's 10 entries (5 deposits, each twice) and \
                 holds {} cents, not {intended}\nreplies: {replies:?}",
                replica.machine().balance()
            );
        }
    });
}

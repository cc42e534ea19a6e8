//! The account as a service on the simulated network: one server, clients
//! that retry.
//!
//! This is where duplicates come from. A client deposits money with a call;
//! the network (the unreliable preset) loses some requests, which is
//! harmless, and some replies *after the server applied the deposit*, which
//! is not: the client cannot tell the two apart, so it retries, and the
//! server sees the same deposit twice. With [`Deduplication::None`] it credits
//! it twice; with [`Deduplication::ByClientAndSequence`] it answers the retry
//! from exercise 4.4's table.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use coordination::sim::{DropReason, Message, Network, NetworkConditions, NetworkError, Outcome};
use coordination::{NodeId, Seed};
use rand::RngExt;

use crate::{
    Account, AccountError, AccountOperation, ClientId, ClientRequest, ExactlyOnce, Reply,
    SequenceNumber, StateMachine,
};

/// The server's node.
const SERVER: NodeId = NodeId::new(100);

/// How long a client waits for a reply before it retries.
const CALL_TIMEOUT: Duration = Duration::from_millis(100);

/// How long a run may take before the clients are declared stuck.
const RUN_LIMIT: Duration = Duration::from_secs(600);

/// What travels between the clients and the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountMessage {
    /// A client's request.
    Request(ClientRequest<AccountOperation>),
    /// The server's answer: the balance or a refusal; `None` for a request
    /// the server recognised as older than the client's last.
    Reply(Option<Result<u64, AccountError>>),
}

impl Message for AccountMessage {
    fn kind(&self) -> &'static str {
        match self {
            Self::Request(_) => "request",
            Self::Reply(_) => "reply",
        }
    }
}

/// How the server treats a request it has seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deduplication {
    /// It applies every request that arrives: at-least-once delivery becomes
    /// at-least-once effect.
    None,
    /// It remembers each client's last request and reply (exercise 4.4).
    ByClientAndSequence,
}

/// What happened in a run of the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRun {
    /// The account's final balance, in cents.
    pub balance: u64,
    /// What the balance should be: every deposit the clients made, once.
    pub intended: u64,
    /// How many operations the account applied.
    pub operations_applied: u64,
    /// How many deposits the clients made (each with its retries).
    pub deposits: u64,
    /// How many times a client sent a request again after a timeout.
    pub retries: u64,
    /// How many replies the network lost after the server had applied the
    /// request.
    pub replies_lost: usize,
    /// How many requests the server answered from its table instead of
    /// applying them.
    pub duplicates_answered: u64,
    /// How many requests the server refused as older than their client's
    /// last.
    pub expired: u64,
    /// How many clients the server's table remembers.
    pub clients_remembered: usize,
}

/// The server's state: the account, bare or behind exercise 4.4's table.
enum Server {
    Bare(Account),
    Deduplicated(ExactlyOnce<Account>),
}

/// The server and what it counted.
struct ServerState {
    server: Server,
    duplicates_answered: u64,
    expired: u64,
}

impl ServerState {
    fn handle(&mut self, request: &ClientRequest<AccountOperation>) -> AccountMessage {
        match &mut self.server {
            Server::Bare(account) => AccountMessage::Reply(Some(account.apply(&request.operation))),
            Server::Deduplicated(table) => match table.apply(request) {
                Reply::Applied(output) => AccountMessage::Reply(Some(output)),
                Reply::Duplicate(output) => {
                    self.duplicates_answered += 1;
                    AccountMessage::Reply(Some(output))
                }
                Reply::Expired { .. } => {
                    self.expired += 1;
                    AccountMessage::Reply(None)
                }
            },
        }
    }

    fn account(&self) -> &Account {
        match &self.server {
            Server::Bare(account) => account,
            Server::Deduplicated(table) => table.machine(),
        }
    }
}

/// What the clients counted.
#[derive(Default)]
struct ClientTally {
    intended: u64,
    deposits: u64,
    retries: u64,
    finished: u64,
}

/// Runs `clients` clients (ids 1..=clients), each making `deposits` deposits
/// of 1 to 100 cents one after the other, against one account server, on a
/// network with `conditions`, until every client is done.
///
/// # Errors
/// [`NetworkError`] only if the set-up is wrong (it is not, for any
/// arguments).
///
/// # Panics
/// When the clients are still not done after ten simulated minutes: a
/// network that loses every message.
pub async fn run_account_service(
    seed: Seed,
    conditions: NetworkConditions,
    clients: u64,
    deposits: u64,
    deduplication: Deduplication,
) -> Result<ServiceRun, NetworkError> {
    let network = Network::new(seed, conditions);
    let server = Arc::new(Mutex::new(ServerState {
        server: match deduplication {
            Deduplication::None => Server::Bare(Account::new()),
            Deduplication::ByClientAndSequence => {
                Server::Deduplicated(ExactlyOnce::new(Account::new()))
            }
        },
        duplicates_answered: 0,
        expired: 0,
    }));
    let (server_node, server_inbox) = network.add_node(SERVER)?;
    let state = Arc::clone(&server);
    server_node.serve(server_inbox, move |_caller, message| match message {
        AccountMessage::Request(request) => state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .handle(&request),
        // A client never sends a reply; answering one with nothing is harmless.
        AccountMessage::Reply(_) => AccountMessage::Reply(None),
    })?;

    let tally = Arc::new(Mutex::new(ClientTally::default()));
    for client in 1..=clients {
        let id = u32::try_from(client).map_or(NodeId::new(u32::MAX), NodeId::new);
        let (node, _inbox) = network.add_node(id)?;
        let me = node.clone();
        let tally = Arc::clone(&tally);
        let mut rng = seed.derive(client).rng();
        node.spawn(async move {
            let mut sequence = SequenceNumber::new(0);
            for _ in 0..deposits {
                sequence = sequence.next();
                let amount = rng.random_range(1..=100);
                let request = ClientRequest {
                    client: ClientId::new(client),
                    sequence,
                    operation: AccountOperation::Deposit(amount),
                };
                let mut first = true;
                loop {
                    if !first {
                        tally.lock().unwrap_or_else(PoisonError::into_inner).retries += 1;
                    }
                    first = false;
                    let call = me.call(
                        SERVER,
                        AccountMessage::Request(request.clone()),
                        CALL_TIMEOUT,
                    );
                    match call.await {
                        Ok(_) => break,
                        Err(error) if error.is_retryable() => {}
                        Err(_) => return,
                    }
                }
                let mut tally = tally.lock().unwrap_or_else(PoisonError::into_inner);
                tally.intended += amount;
                tally.deposits += 1;
            }
            tally
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .finished += 1;
        })?;
    }

    let started = tokio::time::Instant::now();
    loop {
        network.run_for(Duration::from_millis(100)).await;
        let finished = tally
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .finished;
        if finished == clients {
            break;
        }
        assert!(
            started.elapsed() < RUN_LIMIT,
            "the clients are still not done after {RUN_LIMIT:?}: {finished} of {clients} finished"
        );
    }
    let replies_lost = network
        .trace()
        .count_outcomes(|outcome| *outcome == Outcome::Dropped(DropReason::ReplyLost));
    let server = server.lock().unwrap_or_else(PoisonError::into_inner);
    let tally = tally.lock().unwrap_or_else(PoisonError::into_inner);
    Ok(ServiceRun {
        balance: server.account().balance(),
        intended: tally.intended,
        operations_applied: server.account().operations_applied(),
        deposits: tally.deposits,
        retries: tally.retries,
        replies_lost,
        duplicates_answered: server.duplicates_answered,
        expired: server.expired,
        clients_remembered: match &server.server {
            Server::Bare(_) => 0,
            Server::Deduplicated(table) => table.clients_remembered(),
        },
    })
}

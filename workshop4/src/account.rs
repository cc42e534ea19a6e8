//! A state machine where a duplicate costs money, and the requests that reach
//! it.
//!
//! Raft makes replicas agree on a log of commands; a state machine gives the
//! commands meaning. [`Account`] is the smallest one where applying a command
//! twice is visibly wrong: a deposit applied twice credits the money twice.
//!
//! Clients reach it through a network that loses replies after the request
//! took effect, so a careful client retries, and a retry is a duplicate.
//! Every request therefore carries who sent it ([`ClientId`]) and which of
//! its requests it is ([`SequenceNumber`]): a retry repeats both, a new
//! request takes the next number. What the service does with them is exercise
//! 4.4.

use std::fmt;

/// Applies commands, one at a time, in log order, deterministically: every
/// replica that applies the same commands ends in the same state with the
/// same outputs.
pub trait StateMachine {
    /// What it applies.
    type Operation;
    /// What applying one returns to the client.
    type Output: Clone;

    /// Applies `operation` and returns its output.
    fn apply(&mut self, operation: &Self::Operation) -> Self::Output;
}

/// Identifies one client for its whole life, across every retry: a producer
/// process, a browser session, an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId(u64);

impl ClientId {
    /// Wraps a raw number as a client id.
    pub const fn new(raw: u64) -> Self {
        Self(raw)
    }

    /// The raw number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "client-{}", self.0)
    }
}

/// Numbers a client's requests 1, 2, 3, …; a retry keeps its request's
/// number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SequenceNumber(u64);

impl SequenceNumber {
    /// Wraps a raw number as a sequence number.
    pub const fn new(raw: u64) -> Self {
        Self(raw)
    }

    /// The raw number.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The number of the client's next request.
    pub const fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

impl fmt::Display for SequenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// An operation, with who asks and which of their requests it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRequest<O> {
    /// Who sent it.
    pub client: ClientId,
    /// Which of the client's requests this is; the same for every retry.
    pub sequence: SequenceNumber,
    /// What to do.
    pub operation: O,
}

/// What an [`Account`] can be asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountOperation {
    /// Add this many cents.
    Deposit(u64),
    /// Take this many cents out, if they are there.
    Withdraw(u64),
}

/// Why an account refused an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// A withdrawal larger than the balance.
    #[error("cannot withdraw {requested} cents from a balance of {balance}")]
    InsufficientFunds {
        /// The balance at the time.
        balance: u64,
        /// What was asked for.
        requested: u64,
    },
    /// A deposit that would overflow the balance.
    #[error("a deposit of {deposit} cents would overflow the balance of {balance}")]
    Overflow {
        /// The balance at the time.
        balance: u64,
        /// What was deposited.
        deposit: u64,
    },
}

/// A bank account, in cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Account {
    balance: u64,
    /// How many operations were applied, refused ones included.
    applied: u64,
}

impl Account {
    /// An empty account.
    pub fn new() -> Self {
        Self::default()
    }

    /// The balance, in cents.
    pub fn balance(&self) -> u64 {
        self.balance
    }

    /// How many operations were applied to it, refused ones included.
    pub fn operations_applied(&self) -> u64 {
        self.applied
    }
}

impl StateMachine for Account {
    type Operation = AccountOperation;
    /// The balance after the operation, or why it was refused.
    type Output = Result<u64, AccountError>;

    fn apply(&mut self, operation: &AccountOperation) -> Self::Output {
        self.applied += 1;
        match *operation {
            AccountOperation::Deposit(deposit) => {
                self.balance = self
                    .balance
                    .checked_add(deposit)
                    .ok_or(AccountError::Overflow {
                        balance: self.balance,
                        deposit,
                    })?;
            }
            AccountOperation::Withdraw(requested) => {
                self.balance =
                    self.balance
                        .checked_sub(requested)
                        .ok_or(AccountError::InsufficientFunds {
                            balance: self.balance,
                            requested,
                        })?;
            }
        }
        Ok(self.balance)
    }
}

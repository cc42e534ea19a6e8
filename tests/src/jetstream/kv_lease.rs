//! Workshop 3's lease and fencing on a JetStream key-value bucket.
//!
//! ## The design
//!
//! - **Acquire if absent**: `create` writes the key only if it has no
//!   value (the server checks that the key's last sequence is zero, or its
//!   last entry a deletion).
//! - **Renew by compare-and-swap**: `update` with the revision the holder
//!   last wrote; a holder that lost the lease finds a newer revision and is
//!   refused.
//! - **Expire by TTL**: the bucket's maximum age removes a value that was
//!   not renewed in time, so the next `create` succeeds.
//! - **The revision is the fencing token**: every write to a key gets a
//!   higher one (it is the stream sequence), so a later holder always has
//!   a higher token.
//! - **The storage refuses stale tokens**: [`FencedRecord`] keeps, with
//!   each value, the token it was written under, and writes by
//!   compare-and-swap on the record's own revision, only when the token is
//!   at least the one stored: Workshop 3's fencing gate, kept by the engine
//!   instead of by a process that could lose it.

use std::time::Duration;

use async_nats::jetstream::Context;
use async_nats::jetstream::kv::{self, Store};
use coordination::FencingToken;

/// Why a lease or fenced operation did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeaseError {
    /// Someone else holds the lease (acquire), or took it since (renew).
    #[error("the lease is held by someone else")]
    Held,
    /// The write carried a token older than one the record has admitted.
    #[error("stale token {presented}: the record was written under {stored}")]
    StaleToken {
        /// The token presented.
        presented: FencingToken,
        /// The token already stored.
        stored: FencingToken,
    },
    /// The cluster did not answer as expected.
    #[error("the key-value bucket failed: {0}")]
    Bucket(String),
}

/// A lease named `key` in a bucket whose values live `ttl`; see the module
/// documentation.
#[derive(Clone)]
pub struct KvLease {
    /// The bucket.
    store: Store,
    /// The lease's key.
    key: String,
    /// Who asks: written as the value.
    holder: String,
}

impl std::fmt::Debug for KvLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KvLease")
            .field("key", &self.key)
            .field("holder", &self.holder)
            .finish_non_exhaustive()
    }
}

impl KvLease {
    /// Creates (or opens) the bucket `bucket`, replicated `replicas` times,
    /// whose values expire `ttl` after their last write.
    ///
    /// # Errors
    /// [`LeaseError::Bucket`].
    pub async fn bucket(
        context: &Context,
        bucket: &str,
        ttl: Duration,
        replicas: usize,
    ) -> Result<Store, LeaseError> {
        context
            .create_key_value(kv::Config {
                bucket: bucket.into(),
                history: 1,
                max_age: ttl,
                num_replicas: replicas,
                ..Default::default()
            })
            .await
            .map_err(|error| LeaseError::Bucket(error.to_string()))
    }

    /// `holder`'s handle on the lease `key` in `store`.
    pub fn new(store: Store, key: &str, holder: &str) -> Self {
        Self {
            store,
            key: key.into(),
            holder: holder.into(),
        }
    }

    /// Takes the lease if nobody holds it; returns the fencing token.
    ///
    /// # Errors
    /// [`LeaseError::Held`] while someone holds it.
    pub async fn acquire(&self) -> Result<FencingToken, LeaseError> {
        match self
            .store
            .create(&self.key, self.holder.clone().into_bytes().into())
            .await
        {
            Ok(revision) => Ok(FencingToken::new(revision)),
            Err(error) if error.kind() == kv::CreateErrorKind::AlreadyExists => {
                Err(LeaseError::Held)
            }
            Err(error) => Err(LeaseError::Bucket(error.to_string())),
        }
    }

    /// Renews the lease held under `token`; returns the new token.
    ///
    /// # Errors
    /// [`LeaseError::Held`] when someone wrote the key since (the lease
    /// expired and was taken).
    pub async fn renew(&self, token: FencingToken) -> Result<FencingToken, LeaseError> {
        match self
            .store
            .update(
                &self.key,
                self.holder.clone().into_bytes().into(),
                token.get(),
            )
            .await
        {
            Ok(revision) => Ok(FencingToken::new(revision)),
            Err(error) if error.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                Err(LeaseError::Held)
            }
            Err(error) => Err(LeaseError::Bucket(error.to_string())),
        }
    }
}

/// A record in a bucket that admits a write only under a token at least as
/// new as the one it was last written under; see the module documentation.
#[derive(Clone)]
pub struct FencedRecord {
    /// The bucket.
    store: Store,
    /// The record's key.
    key: String,
}

impl std::fmt::Debug for FencedRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FencedRecord")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl FencedRecord {
    /// The record `key` in `store`.
    pub fn new(store: Store, key: &str) -> Self {
        Self {
            store,
            key: key.into(),
        }
    }

    /// Writes `value` under `token`, unless a newer token wrote first.
    ///
    /// # Errors
    /// [`LeaseError::StaleToken`] for a stale token;
    /// [`LeaseError::Bucket`].
    pub async fn write(&self, token: FencingToken, value: &str) -> Result<(), LeaseError> {
        let bucket = |error: &dyn std::fmt::Display| LeaseError::Bucket(error.to_string());
        // A compare-and-swap can lose to a concurrent writer; the loop reads
        // again and decides again, and ends because every lost race means
        // another write landed.
        for _ in 0..100 {
            let entry = self.store.entry(&self.key).await.map_err(|e| bucket(&e))?;
            let record = format!("{} {value}", token.get()).into_bytes();
            let written = match entry {
                Some(entry) if entry.operation == kv::Operation::Put => {
                    let stored = String::from_utf8_lossy(&entry.value)
                        .split(' ')
                        .next()
                        .and_then(|word| word.parse().ok())
                        .map(FencingToken::new)
                        .unwrap_or(FencingToken::new(0));
                    if token < stored {
                        return Err(LeaseError::StaleToken {
                            presented: token,
                            stored,
                        });
                    }
                    self.store
                        .update(&self.key, record.into(), entry.revision)
                        .await
                        .map(|_| ())
                        .map_err(|error| error.kind() == kv::UpdateErrorKind::WrongLastRevision)
                }
                _ => self
                    .store
                    .create(&self.key, record.into())
                    .await
                    .map(|_| ())
                    .map_err(|error| error.kind() == kv::CreateErrorKind::AlreadyExists),
            };
            match written {
                Ok(()) => return Ok(()),
                Err(true) => {}
                Err(false) => return Err(LeaseError::Bucket("a write failed".into())),
            }
        }
        Err(LeaseError::Bucket("100 writes in a row lost a race".into()))
    }

    /// The value and the token it was written under, if any.
    ///
    /// # Errors
    /// [`LeaseError::Bucket`].
    pub async fn read(&self) -> Result<Option<(FencingToken, String)>, LeaseError> {
        // Through the stream's leader, not the bucket's direct get: a direct
        // get may be answered by a replica that has not applied the last
        // write yet, and a test that reads back what it just wrote would
        // see the value before it.
        let subject = format!("{}{}", self.store.prefix, self.key);
        let entry = match self
            .store
            .stream
            .get_last_raw_message_by_subject(&subject)
            .await
        {
            Ok(message) => Some(message.payload),
            Err(error)
                if error.kind()
                    == async_nats::jetstream::stream::LastRawMessageErrorKind::NoMessageFound =>
            {
                None
            }
            Err(error) => return Err(LeaseError::Bucket(error.to_string())),
        };
        Ok(entry.and_then(|bytes| {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let (token, value) = text.split_once(' ')?;
            Some((FencingToken::new(token.parse().ok()?), value.to_string()))
        }))
    }
}

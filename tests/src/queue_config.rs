//! A queue's settings, with the limits Amazon SQS documents.

use std::time::Duration;

use coordination::{ConfigError, MaxAttempts};

/// The most messages one send or one receive may carry: SQS's limit for
/// `SendMessageBatch` and for `MaxNumberOfMessages`.
pub const MAX_BATCH: usize = 10;

/// The largest message body, in bytes: 256 KiB, Amazon SQS's message size
/// limit until 2025. A node refuses a larger one before it enters the log,
/// which bounds every log entry (ten of these) and so every append a leader
/// sends.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// The most entries a node's append carries
/// ([`RaftConfig::with_max_entries_per_append`](workshop4::RaftConfig::with_max_entries_per_append)):
/// with bodies of at most [`MAX_MESSAGE_BYTES`] in batches of ten, an append
/// stays under the largest frame a peer accepts.
pub const ENTRIES_PER_APPEND: u64 = 64;

/// The longest visibility timeout: SQS's 12 hours.
pub const MAX_VISIBILITY_TIMEOUT: Duration = Duration::from_secs(12 * 60 * 60);

/// How a queue behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueConfig {
    /// How long a received message stays hidden from other consumers unless
    /// the receive asks for another timeout.
    visibility_timeout: Duration,
    /// The redrive policy: a message received this many times without being
    /// deleted goes to the dead-letter queue at its next receive (SQS's
    /// `maxReceiveCount`).
    max_receive_count: MaxAttempts,
    /// How long a deduplication id is remembered.
    deduplication_window: Duration,
}

impl QueueConfig {
    /// SQS's defaults where it has them: a 30-second visibility timeout and a
    /// 5-minute deduplication window; and a maximum receive count of 10,
    /// Azure Service Bus's default `MaxDeliveryCount` (SQS has no default).
    pub fn standard() -> Self {
        Self {
            visibility_timeout: Duration::from_secs(30),
            max_receive_count: MaxAttempts::new(10).expect("10 is not zero"),
            deduplication_window: Duration::from_secs(5 * 60),
        }
    }

    /// The standard settings with `visibility_timeout` and
    /// `max_receive_count`.
    ///
    /// # Errors
    /// [`ConfigError::ZeroDuration`] for a zero visibility timeout (every
    /// message would be handed to every consumer at once) or one above
    /// [`MAX_VISIBILITY_TIMEOUT`], reported as [`ConfigError::NotLonger`].
    pub fn new(
        visibility_timeout: Duration,
        max_receive_count: MaxAttempts,
    ) -> Result<Self, ConfigError> {
        ConfigError::ensure_positive("visibility timeout", visibility_timeout)?;
        if visibility_timeout > MAX_VISIBILITY_TIMEOUT {
            return Err(ConfigError::NotLonger {
                longer: "the longest visibility timeout",
                longer_value: MAX_VISIBILITY_TIMEOUT,
                shorter: "visibility timeout",
                shorter_value: visibility_timeout,
            });
        }
        Ok(Self {
            visibility_timeout,
            max_receive_count,
            ..Self::standard()
        })
    }

    /// How long a received message stays hidden, by default.
    pub fn visibility_timeout(&self) -> Duration {
        self.visibility_timeout
    }

    /// How many receives a message gets before the dead-letter queue.
    pub fn max_receive_count(&self) -> MaxAttempts {
        self.max_receive_count
    }

    /// How long a deduplication id is remembered.
    pub fn deduplication_window(&self) -> Duration {
        self.deduplication_window
    }
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self::standard()
    }
}

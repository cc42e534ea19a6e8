//! What a scenario did, and the rules it must have kept.
//!
//! The rules, checked by [`ScenarioReport::violations`]:
//!
//! 1. every upload was queued exactly once (deduplication held through
//!    producer crashes and retries);
//! 2. every healthy upload was published exactly once, and none was
//!    dead-lettered;
//! 3. every poison upload is in the dead-letter queue, with its receive
//!    count, and was never published;
//! 4. nothing is left in the queue: nothing lost in flight;
//! 5. no two replicas applied different commands at one index, and the
//!    replicas' logs agree on every committed index.
//!
//! Which message was queued for which upload is read from the log itself:
//! the report applies the committed commands again to a fresh state
//! machine, which gives the same answers the replicas gave, and notes every
//! message a send queued.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use coordination::sim::MessageCounts;
use coordination::{NodeId, Seed};
use workshop4::pipeline::ImageId;
use workshop4::{Reply, Term};

use crate::sim::scenario::Clients;
use crate::sim::{
    LogDisagreement, QueueCluster, SafetyViolation, Scenario, StillQueued, Violation,
};
use crate::{
    Command, CommandOutput, ConsumerStats, DeadLetteredMessage, MessageId, QueueAttributes,
    QueueOperation, QueueOutput, QueueStateMachine, SendOutcome, Upload, lock,
};

/// Everything a scenario run left behind; see the module documentation.
#[derive(Debug, Clone)]
pub struct ScenarioReport {
    /// The scenario's name.
    pub name: &'static str,
    /// The seed it ran with.
    pub seed: Seed,
    /// Whether all the work was done before the time limit.
    pub finished: bool,
    /// The uploads the producers had to send.
    pub uploads: Vec<Upload>,
    /// For each image, the messages queued for it, in order.
    pub queued: BTreeMap<ImageId, Vec<MessageId>>,
    /// For each image, how many posts the gallery shows.
    pub posts: BTreeMap<ImageId, usize>,
    /// The dead-letter queue, by message.
    pub dead_letters: BTreeMap<MessageId, DeadLetteredMessage>,
    /// Messages still in the queue at the end, with their receive counts.
    pub left_in_queue: BTreeMap<MessageId, u32>,
    /// The queue's counts at the end.
    pub attributes: QueueAttributes,
    /// The first safety violation the cluster saw, if any.
    pub safety: Result<(), SafetyViolation>,
    /// Whether the replicas' logs agree on every committed index.
    pub logs_agree: Result<(), LogDisagreement>,
    /// The commit index at the end.
    pub commit_index: u64,
    /// The leader of each term.
    pub leaders: BTreeMap<Term, NodeId>,
    /// What the consumers counted.
    pub consumers: ConsumerStats,
    /// Sends the queue recognised as duplicates by deduplication id.
    pub duplicate_sends: u64,
    /// Requests the exactly-once table answered instead of applying again.
    pub retries_answered: u64,
    /// How many times client hosts crashed.
    pub client_crashes: u64,
    /// Messages on the network, by kind.
    pub network: MessageCounts,
    /// Simulated time until the work was done.
    pub simulated: Duration,
    /// Real time the run took.
    pub wall: Duration,
}

impl ScenarioReport {
    /// Gathers the report of a finished run.
    #[allow(
        clippy::too_many_arguments,
        reason = "the pieces of a finished run, gathered once"
    )]
    pub(crate) fn gather(
        scenario: &Scenario,
        seed: Seed,
        cluster: &QueueCluster,
        uploads: Vec<Upload>,
        clients: &Clients,
        finished: bool,
        simulated: Duration,
        wall: Duration,
    ) -> Self {
        let state = cluster.state();
        let sink = lock(&clients.sink);
        let duplicate_sends = clients
            .producers
            .iter()
            .map(|producer| producer.progress.read().duplicates)
            .sum();
        Self {
            name: scenario.name,
            seed,
            finished,
            queued: queued_per_image(cluster.applied(), scenario),
            posts: sink.posts_per_image(),
            dead_letters: state.map_or_else(BTreeMap::new, |state| {
                state
                    .queue()
                    .dead_letters()
                    .map(|letter| (letter.id, letter.clone()))
                    .collect()
            }),
            left_in_queue: state
                .map_or_else(BTreeMap::new, |state| state.queue().queued().collect()),
            attributes: state.map(QueueStateMachine::attributes).unwrap_or_default(),
            uploads,
            safety: cluster.check_safety(),
            logs_agree: cluster.check_logs_agree(),
            commit_index: cluster.commit_index().get(),
            leaders: cluster.leaders().clone(),
            consumers: clients.consumer_stats(),
            duplicate_sends,
            retries_answered: state.map_or(0, QueueStateMachine::retries_answered),
            client_crashes: clients.crashes,
            network: cluster.network().counts(),
            simulated,
            wall,
        }
    }

    /// Every broken rule, each naming the message that broke it (its
    /// `Display` is one line); empty when the run kept every rule.
    pub fn violations(&self) -> Vec<Violation> {
        let mut broken = Vec::new();
        if !self.finished {
            broken.push(Violation::Unfinished {
                left_in_queue: self.left_in_queue.len(),
            });
        }
        if let Err(violation) = &self.safety {
            broken.push(Violation::Safety(violation.clone()));
        }
        if let Err(disagreement) = &self.logs_agree {
            broken.push(Violation::LogsDisagree(disagreement.clone()));
        }
        let dead_letters_per_image = self.dead_letters_per_image();
        for upload in &self.uploads {
            let image = upload.image;
            let queued = self.queued.get(&image).map_or(&[][..], Vec::as_slice);
            let posts = self.posts.get(&image).copied().unwrap_or(0);
            let message = match queued {
                [] => {
                    broken.push(Violation::NeverQueued { image });
                    continue;
                }
                [message] => *message,
                [first, ..] => {
                    broken.push(Violation::QueuedMoreThanOnce {
                        image,
                        messages: queued.to_vec(),
                    });
                    *first
                }
            };
            let letter = dead_letters_per_image.get(&image);
            let still_queued = queued.iter().find_map(|&id| {
                self.left_in_queue.get(&id).map(|&receives| StillQueued {
                    message: id,
                    receives,
                })
            });
            if upload.corrupt {
                if posts > 0 {
                    broken.push(Violation::PoisonPublished {
                        image,
                        message,
                        posts,
                    });
                }
                match letter {
                    None => broken.push(Violation::PoisonNotDeadLettered {
                        image,
                        message,
                        still_queued,
                    }),
                    Some(letter) if letter.receive_count == 0 => {
                        broken.push(Violation::DeadLetteredWithoutReceives {
                            image,
                            message: letter.id,
                        });
                    }
                    Some(_) => {}
                }
            } else {
                match posts {
                    1 => {}
                    0 => broken.push(Violation::Lost {
                        image,
                        message,
                        still_queued,
                    }),
                    many => broken.push(Violation::PublishedMoreThanOnce {
                        image,
                        message,
                        posts: many,
                    }),
                }
                if let Some(letter) = letter {
                    broken.push(Violation::HealthyDeadLettered {
                        image,
                        message: letter.id,
                        receive_count: letter.receive_count,
                        reason: letter.reason,
                        last_error: letter.last_error.clone(),
                    });
                }
            }
        }
        broken
    }

    /// Messages per second of simulated time, from the first send until the
    /// queue was empty.
    pub fn messages_per_simulated_second(&self) -> f64 {
        self.uploads.len() as f64 / self.simulated.as_secs_f64().max(f64::EPSILON)
    }

    /// Messages per second of real time: what the machine did.
    pub fn messages_per_wall_second(&self) -> f64 {
        self.uploads.len() as f64 / self.wall.as_secs_f64().max(f64::EPSILON)
    }

    /// How many uploads were poison.
    pub fn poison(&self) -> usize {
        self.uploads.iter().filter(|upload| upload.corrupt).count()
    }

    /// The dead letters, by the image their body names.
    fn dead_letters_per_image(&self) -> BTreeMap<ImageId, &DeadLetteredMessage> {
        self.dead_letters
            .values()
            .filter_map(|letter| Some((Upload::parse(&letter.body).ok()?.image, letter)))
            .collect()
    }
}

impl fmt::Display for ScenarioReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stats = &self.consumers;
        writeln!(
            f,
            "{}, seed {}: {} messages ({} poison) in {:.1} s simulated, {:.2} s real",
            self.name,
            self.seed,
            self.uploads.len(),
            self.poison(),
            self.simulated.as_secs_f64(),
            self.wall.as_secs_f64()
        )?;
        writeln!(
            f,
            "  published {} (+{} repeats absorbed), dead-lettered {}, stale writes refused {}",
            stats.published,
            stats.already_published,
            self.dead_letters.len(),
            stats.stale_writes_refused
        )?;
        writeln!(
            f,
            "  received {}, backed off {}, receipts outdated {}, steals {}, client crashes {}, \
             duplicate sends {}, retries answered from the table {}",
            stats.received,
            stats.backed_off,
            stats.receipts_outdated,
            stats.steals,
            self.client_crashes,
            self.duplicate_sends,
            self.retries_answered
        )?;
        let network = self.network.total();
        write!(
            f,
            "  {} leaders over {} terms, commit index {}; network: {} sent, {} copies made, {} \
             dropped",
            self.leaders.len(),
            self.leaders.keys().next_back().map_or(0, |term| term.get()),
            self.commit_index,
            network.sent,
            network.duplicated,
            network.dropped
        )
    }
}

/// Applies the committed commands again and notes, per image, every
/// message a send queued (duplicates by id queue nothing).
fn queued_per_image(applied: &[Command], scenario: &Scenario) -> BTreeMap<ImageId, Vec<MessageId>> {
    let mut replay = QueueStateMachine::new(scenario.queue);
    let mut queued: BTreeMap<ImageId, Vec<MessageId>> = BTreeMap::new();
    for command in applied {
        let output = replay.apply(command);
        let (Command::Request(request), CommandOutput::Reply(Reply::Applied(Ok(result)))) =
            (command, output)
        else {
            continue;
        };
        let (QueueOperation::Send(messages), QueueOutput::Sent(outcomes)) =
            (&request.operation.operation, result)
        else {
            continue;
        };
        for (message, outcome) in messages.iter().zip(outcomes) {
            if let (SendOutcome::Queued(id), Ok(upload)) = (outcome, Upload::parse(&message.body)) {
                queued.entry(upload.image).or_default().push(id);
            }
        }
    }
    queued
}

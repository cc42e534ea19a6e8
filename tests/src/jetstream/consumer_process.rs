//! A consumer in a process of its own, so that the exam can stop it with
//! SIGSTOP or kill it with SIGKILL as an operating system would.
//!
//! ## The problem
//!
//! The exam's consumer hosts are tasks of the test's own process; a task
//! can be aborted, but not frozen. The fault fencing exists for is a
//! process that stops without knowing it (a long garbage-collection pause,
//! a stalled virtual machine): its heartbeats stop, its message is
//! delivered to someone else, then it wakes up and writes as if nothing
//! happened. Only a real process, really stopped, shows that.
//!
//! ## The design
//!
//! The `jetstream-consumer` program connects to the cluster, takes one
//! healthy upload from the shared consumer, and works on it until the exam
//! says the work is done, extending the message's visibility (an
//! in-progress acknowledgement) every quarter of the acknowledgement wait,
//! so that nothing but a pause can make it lose the message. It speaks in
//! lines:
//!
//! ```text
//! program -> exam   took SEQUENCE RECEIVE BODY    one message is in hand
//! exam -> program   finish                        the work is done
//! program -> exam   write SEQUENCE RECEIVE BODY   the thumbnail, under token RECEIVE
//! exam -> program   admitted | refused            the gallery's verdict
//! program -> exam   deleted                       after an admitted write
//! ```
//!
//! The gallery lives in the exam's process, as a storage service lives
//! outside its clients: the program's write goes to it over the pipe, and
//! the same fencing gate as every other consumer's judges it. The exam
//! decides when the work ends, so the late write comes after the
//! redelivery whatever the machine's load, and the run cannot race.
//!
//! [`ConsumerProcess`] is the exam's side: it starts the program, reads
//! its lines on a thread of its own, pauses, resumes and kills it, and
//! kills it when dropped, panics included. The program talks to the
//! servers on 127.0.0.1 only, the addresses it is given.
//!
//! ## What is left out
//!
//! The program takes one message and ends; whole consumer hosts (a
//! fetcher and its workers) stay tasks of the exam's process.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::{self};
use coordination::demo::{Flag, Flags};
use tokio::sync::mpsc as channel;

use super::server_cluster::send_signal;
use super::{CONSUMER, JetStreamQueue, JetStreamSettings, QUEUE_STREAM, connect_to};
use crate::{MessageId, QueueService, ReceiptHandle, Upload};

/// The cluster to connect to.
const SERVERS: Flag = Flag::value(
    "servers",
    "nats://127.0.0.1:4222",
    "the cluster's client addresses, comma-separated",
);
/// The acknowledgement wait the exam's consumer was created with.
const ACK_WAIT_MS: Flag = Flag::value(
    "ack-wait-ms",
    "2000",
    "the consumer's acknowledgement wait, in milliseconds",
);
/// The receives after which the exam's consumer dead-letters a message.
const MAX_RECEIVES: Flag = Flag::value(
    "max-receives",
    "10",
    "receives before a message is dead-lettered",
);

/// The flags of the consumer program.
pub const CONSUMER_FLAGS: [Flag; 3] = [SERVERS, ACK_WAIT_MS, MAX_RECEIVES];

/// The longest the program lives: whatever its peers do, it ends.
const LIFETIME: Duration = Duration::from_secs(120);

/// A line the program says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumerLine {
    /// It holds this message.
    Took {
        /// The receipt it holds it by; its receive is the fencing token.
        receipt: ReceiptHandle,
        /// The message's body.
        body: String,
    },
    /// It writes this message's thumbnail, under the receipt's token.
    Write {
        /// The receipt it held the message by.
        receipt: ReceiptHandle,
        /// The message's body.
        body: String,
    },
    /// It deleted its message.
    Deleted,
}

impl ConsumerLine {
    /// Reads one line; `None` for anything else.
    pub fn parse(line: &str) -> Option<Self> {
        let mut words = line.splitn(4, ' ');
        let verb = words.next()?;
        if verb == "deleted" {
            return Some(Self::Deleted);
        }
        let sequence = words.next()?.parse().ok()?;
        let receive = words.next()?.parse().ok()?;
        let receipt = ReceiptHandle::new(MessageId::new(sequence), receive);
        let body = words.next()?.to_string();
        match verb {
            "took" => Some(Self::Took { receipt, body }),
            "write" => Some(Self::Write { receipt, body }),
            _ => None,
        }
    }
}

/// The exam's handle on one running `jetstream-consumer`; see the module
/// documentation.
#[derive(Debug)]
pub struct ConsumerProcess {
    /// The process.
    child: Child,
    /// Where the exam's answers go.
    stdin: ChildStdin,
    /// The program's lines, read by a thread of their own so that a slow
    /// exam never blocks the program and a silent program never blocks
    /// the exam.
    lines: mpsc::Receiver<String>,
    /// Whether it is stopped with SIGSTOP.
    paused: bool,
}

impl ConsumerProcess {
    /// Starts `program` against the servers at `urls`, its standard error
    /// going to `log`.
    ///
    /// # Errors
    /// When the program or its log cannot be opened.
    pub fn start(
        program: &Path,
        urls: &[String],
        settings: JetStreamSettings,
        log: &Path,
    ) -> std::io::Result<Self> {
        let mut child = Command::new(program)
            .arg("--servers")
            .arg(urls.join(","))
            .arg("--ack-wait-ms")
            .arg(settings.ack_wait.as_millis().to_string())
            .arg("--max-receives")
            .arg(settings.max_receives.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log)?)
            .spawn()?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::other("the program's pipes were not made"));
        };
        let (sender, lines) = mpsc::channel();
        // The thread ends when the program's output closes, which killing
        // it does; it is never joined, so a program that lingers cannot
        // hold the exam.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        Ok(Self {
            child,
            stdin,
            lines,
            paused: false,
        })
    }

    /// The next line the program said, if it said one; never waits.
    pub fn next_line(&mut self) -> Option<ConsumerLine> {
        loop {
            let line = self.lines.try_recv().ok()?;
            if let Some(parsed) = ConsumerLine::parse(&line) {
                return Some(parsed);
            }
        }
    }

    /// Tells the program `line` (`finish`, `admitted`, `refused`).
    ///
    /// # Errors
    /// When the program is gone.
    pub fn tell(&mut self, line: &str) -> std::io::Result<()> {
        writeln!(self.stdin, "{line}")?;
        self.stdin.flush()
    }

    /// Freezes the program (SIGSTOP): its sockets stay open, nothing it
    /// runs goes on, its heartbeats included.
    ///
    /// # Errors
    /// When the signal cannot be sent.
    pub fn pause(&mut self) -> std::io::Result<()> {
        send_signal(&self.child, "-STOP")?;
        self.paused = true;
        Ok(())
    }

    /// Lets the program go on (SIGCONT).
    ///
    /// # Errors
    /// When the signal cannot be sent.
    pub fn resume(&mut self) -> std::io::Result<()> {
        send_signal(&self.child, "-CONT")?;
        self.paused = false;
        Ok(())
    }

    /// Kills the program (SIGKILL: it says goodbye to nobody) and waits
    /// for it.
    pub fn kill(&mut self) {
        if self.paused {
            let _ = self.resume();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Whether the program has ended.
    pub fn has_ended(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for ConsumerProcess {
    /// Kills the program, so that none outlives the exam.
    fn drop(&mut self) {
        self.kill();
    }
}

/// The program's `main`: reads `args`, takes one message, and works on it
/// as the module documentation says.
///
/// # Errors
/// A bad command line, a cluster that cannot be reached, an exam that
/// stops talking: each says what it is about.
pub fn consumer_main(args: impl IntoIterator<Item = String>) -> Result<(), String> {
    let flags = Flags::parse_from(args, &CONSUMER_FLAGS).map_err(|error| error.to_string())?;
    let urls: Vec<String> = flags
        .get::<String>(SERVERS)
        .map_err(|error| error.to_string())?
        .split(',')
        .map(str::to_string)
        .collect();
    let ack_wait = Duration::from_millis(flags.get(ACK_WAIT_MS).map_err(|e| e.to_string())?);
    let max_receives = flags.get(MAX_RECEIVES).map_err(|e| e.to_string())?;
    let settings = JetStreamSettings {
        ack_wait,
        max_receives,
        replicas: 3,
        duplicate_window: Duration::from_secs(120),
    };
    // The exam's lines, read by a thread: the runtime has no standard
    // input of its own.
    let (sender, mut exam) = channel::channel(4);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { return };
            if sender.blocking_send(line).is_err() {
                return;
            }
        }
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    runtime.block_on(async {
        tokio::time::timeout(LIFETIME, work_on_one(&urls, settings, &mut exam))
            .await
            .map_err(|_| format!("still running after {LIFETIME:?}"))?
    })
}

/// Takes one healthy upload, works on it until the exam says `finish`,
/// writes, and deletes if the write was admitted.
async fn work_on_one(
    urls: &[String],
    settings: JetStreamSettings,
    exam: &mut channel::Receiver<String>,
) -> Result<(), String> {
    let context = jetstream::new(connect_to(urls).await?);
    let consumer: PullConsumer = loop {
        let found = async {
            context
                .get_stream(QUEUE_STREAM)
                .await
                .map_err(|error| error.to_string())?
                .get_consumer(CONSUMER)
                .await
                .map_err(|error| error.to_string())
        };
        match found.await {
            Ok(consumer) => break consumer,
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    let mut queue = JetStreamQueue::new(context, consumer, settings);
    let message = loop {
        let received = queue.receive(1).await.unwrap_or_default();
        let mut healthy = None;
        for message in received {
            if healthy.is_none() && Upload::parse(&message.body).is_ok_and(|upload| !upload.corrupt)
            {
                healthy = Some(message);
            } else {
                // Not this program's to judge: back to the queue at once.
                let _ = queue
                    .change_visibility(message.receipt, Duration::ZERO)
                    .await;
            }
        }
        if let Some(message) = healthy {
            break message;
        }
        queue.pause(Duration::from_millis(20)).await;
    };
    let receipt = message.receipt;
    let (sequence, receive) = (receipt.message().get(), receipt.receive());
    say(&format!("took {sequence} {receive} {}", message.body))?;
    let mut heartbeat = tokio::time::interval(settings.ack_wait / 4);
    loop {
        tokio::select! {
            biased;
            line = exam.recv() => match line.as_deref() {
                Some("finish") => break,
                Some(_) => {}
                None => return Err("the exam closed its pipe before the work was done".into()),
            },
            _ = heartbeat.tick() => {
                // A failed heartbeat is the visibility timeout's business:
                // the message goes to someone else, and the fencing gate
                // refuses this program's write.
                let _ = queue.extend_visibility(receipt).await;
            }
        }
    }
    say(&format!("write {sequence} {receive} {}", message.body))?;
    match exam.recv().await.as_deref() {
        Some("admitted") => {
            queue
                .delete(receipt)
                .await
                .map_err(|error| error.to_string())?;
            say("deleted")
        }
        Some(_) => Ok(()),
        None => Err("the exam closed its pipe before its verdict".into()),
    }
}

/// Says `line` to the exam.
fn say(line: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|error| format!("the exam stopped listening: {error}"))
}

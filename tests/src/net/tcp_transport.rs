//! The client's [`Transport`] over TCP.
//!
//! A client keeps one connection per node it has talked to, and numbers its
//! calls. A call writes the request and reads frames until the answer with
//! its number comes, or its time is up. A connection that timed out or
//! failed is dropped: a late answer on it could otherwise be taken for the
//! answer to the next call.
//!
//! Cloning a transport gives one with connections of its own, so that each
//! [`QueueClient`](crate::QueueClient) made from a clone has its own, and
//! clients never wait on each other's connections.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use coordination::NodeId;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

use super::frame::{Frame, MAX_CLIENT_FRAME, read_frame, write_frame};
use crate::{QueueRequest, QueueResponse, Transport, TransportError};

/// A client's way to the nodes over TCP; see the module documentation.
#[derive(Debug)]
pub struct TcpTransport {
    /// Where each node listens.
    addresses: Arc<BTreeMap<NodeId, SocketAddr>>,
    /// Open connections, by node, and the number of the last call.
    connections: Mutex<(BTreeMap<NodeId, BufReader<TcpStream>>, u64)>,
}

impl TcpTransport {
    /// A transport to the nodes at `addresses`.
    pub fn new(addresses: BTreeMap<NodeId, SocketAddr>) -> Self {
        Self {
            addresses: Arc::new(addresses),
            connections: Mutex::new((BTreeMap::new(), 0)),
        }
    }

    /// The nodes it knows, sorted.
    pub fn nodes(&self) -> Vec<NodeId> {
        self.addresses.keys().copied().collect()
    }
}

impl Clone for TcpTransport {
    /// The same nodes, with connections of its own.
    fn clone(&self) -> Self {
        Self {
            addresses: Arc::clone(&self.addresses),
            connections: Mutex::new((BTreeMap::new(), 0)),
        }
    }
}

impl Transport for TcpTransport {
    async fn call(
        &self,
        to: NodeId,
        request: QueueRequest,
        timeout: Duration,
    ) -> Result<QueueResponse, TransportError> {
        let Some(&address) = self.addresses.get(&to) else {
            return Err(TransportError::Unreachable {
                to,
                reason: "no address known".to_string(),
            });
        };
        let mut guard = self.connections.lock().await;
        let (connections, calls) = &mut *guard;
        *calls += 1;
        let call = *calls;
        let exchange = async {
            let connection = match connections.remove(&to) {
                Some(connection) => connection,
                None => {
                    let stream = TcpStream::connect(address).await?;
                    stream.set_nodelay(true)?;
                    BufReader::new(stream)
                }
            };
            let mut connection = connection;
            write_frame(&mut connection, &Frame::Request { call, request }).await?;
            connection.flush().await?;
            loop {
                match read_frame(&mut connection, MAX_CLIENT_FRAME).await? {
                    Some(Frame::Response {
                        call: answered,
                        response,
                    }) if answered == call => return Ok((connection, response)),
                    Some(_) => continue,
                    None => {
                        return Err(super::frame::FrameError::Io(std::io::Error::new(
                            std::io::ErrorKind::ConnectionAborted,
                            "the node closed the connection",
                        )));
                    }
                }
            }
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(Ok((connection, response))) => {
                connections.insert(to, connection);
                Ok(response)
            }
            Ok(Err(error)) => Err(TransportError::Unreachable {
                to,
                reason: error.to_string(),
            }),
            Err(_) => Err(TransportError::TimedOut { to, after: timeout }),
        }
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

//! Frames: how the encoded messages travel over a TCP stream.
//!
//! TCP carries bytes, not messages, so every message goes in a frame: a
//! 4-byte big-endian length, then that many bytes of one encoded [`Frame`]
//! (see [`codec`](super::codec) for the encoding). A connection carries
//! frames of one of two conversations:
//!
//! - **between nodes**: the connecting node sends [`Frame::Peer`] with its
//!   id, then [`Frame::Raft`] messages, one way. Each node dials every peer
//!   for what it sends, and reads what its peers dialled in, so no
//!   connection is shared by both directions;
//! - **from a client**: [`Frame::Request`]s, each numbered by the client,
//!   answered on the same connection by a [`Frame::Response`] with the same
//!   number.
//!

use std::io;

use coordination::NodeId;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use workshop4::RaftMessage;

use super::codec::{DecodeError, EncodeError, Wire, from_bytes, tags, to_bytes};
use crate::{Command, QueueRequest, QueueResponse};

/// The largest frame a node accepts from a peer: an append of at most
/// [`ENTRIES_PER_APPEND`](crate::ENTRIES_PER_APPEND) entries,
/// each at most a batch of ten bodies of
/// [`MAX_MESSAGE_BYTES`](crate::MAX_MESSAGE_BYTES), with room to spare.
pub const MAX_FRAME: u32 = 256 * 1024 * 1024;

/// The largest frame a node accepts from a client, and a client from a
/// node: a request or an answer carries at most ten bodies of
/// [`MAX_MESSAGE_BYTES`](crate::MAX_MESSAGE_BYTES). Every connection is a
/// client's until it says it is a peer, so a stranger can make a node wait
/// for no more than this.
pub const MAX_CLIENT_FRAME: u32 = 4 * 1024 * 1024;

/// What one frame carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// The first frame of a connection from a node: who it is.
    Peer(NodeId),
    /// A Raft message, from the node that opened the connection.
    Raft(RaftMessage<Command>),
    /// A client's request, numbered for its answer.
    Request {
        /// The client's number for this call.
        call: u64,
        /// What it asks.
        request: QueueRequest,
    },
    /// The answer to the client's call with this number.
    Response {
        /// The number of the call it answers.
        call: u64,
        /// The answer.
        response: QueueResponse,
    },
}

/// A frame that could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The connection failed.
    #[error("connection failed: {0}")]
    Io(#[from] io::Error),
    /// The frame's bytes are not a frame.
    #[error("malformed frame: {0}")]
    Malformed(#[from] DecodeError),
    /// The frame to write has no bytes in the codec's format.
    #[error("unwritable frame: {0}")]
    Unencodable(#[from] EncodeError),
    /// A length above the limit: the stream is corrupt or not ours.
    #[error("a frame of {0} bytes is above the limit")]
    TooLong(u32),
}

tags! {
    /// [`Frame`]'s variants.
    FrameTag for "frame" { Peer = 0, Raft = 1, Request = 2, Response = 3 }
}

impl Wire for Frame {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Frame::Peer(node) => {
                FrameTag::Peer.encode(out)?;
                node.encode(out)
            }
            Frame::Raft(message) => {
                FrameTag::Raft.encode(out)?;
                message.encode(out)
            }
            Frame::Request { call, request } => {
                FrameTag::Request.encode(out)?;
                call.encode(out)?;
                request.encode(out)
            }
            Frame::Response { call, response } => {
                FrameTag::Response.encode(out)?;
                call.encode(out)?;
                response.encode(out)
            }
        }
    }

    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(match FrameTag::decode(input)? {
            FrameTag::Peer => Frame::Peer(NodeId::decode(input)?),
            FrameTag::Raft => Frame::Raft(RaftMessage::decode(input)?),
            FrameTag::Request => Frame::Request {
                call: u64::decode(input)?,
                request: QueueRequest::decode(input)?,
            },
            FrameTag::Response => Frame::Response {
                call: u64::decode(input)?,
                response: QueueResponse::decode(input)?,
            },
        })
    }
}

/// `value`'s bytes with their length in front: one frame.
///
/// # Errors
/// [`EncodeError`] when `value` has no bytes in the codec's format, or
/// more than a frame's length can say.
pub fn framed<T: Wire>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let payload = to_bytes(value)?;
    let length = u32::try_from(payload.len()).map_err(|_| EncodeError::TooLong {
        length: payload.len(),
    })?;
    let mut bytes = Vec::with_capacity(payload.len() + 4);
    length.encode(&mut bytes)?;
    bytes.extend_from_slice(&payload);
    Ok(bytes)
}

/// Writes one frame.
///
/// # Errors
/// [`FrameError::Io`] when the connection fails, and
/// [`FrameError::Unencodable`], before anything is written, when the frame
/// has no bytes in the codec's format.
pub async fn write_frame<W: AsyncWrite + Unpin>(
    writer: &mut W,
    frame: &Frame,
) -> Result<(), FrameError> {
    writer.write_all(&framed(frame)?).await?;
    Ok(())
}

/// Reads one frame of at most `limit` bytes; `None` when the other side
/// closed the connection between frames.
///
/// # Errors
/// [`FrameError`] for a failed connection, a frame cut off in the middle, a
/// length above `limit` or bytes that are not a frame.
pub async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    limit: u32,
) -> Result<Option<Frame>, FrameError> {
    let mut length = [0; 4];
    match reader.read_exact(&mut length).await {
        Ok(_) => {}
        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(error) => return Err(error.into()),
    }
    let length = u32::from_be_bytes(length);
    if length > limit {
        return Err(FrameError::TooLong(length));
    }
    // The buffer grows with the bytes that arrive, not with what the length
    // prefix claims: a peer that sends a header of 64 MiB and nothing more
    // costs a few bytes, not 64 MiB.
    let mut payload = Vec::new();
    let read = (&mut *reader)
        .take(u64::from(length))
        .read_to_end(&mut payload)
        .await?;
    if read < payload_length(length) {
        return Err(FrameError::Io(io::ErrorKind::UnexpectedEof.into()));
    }
    Ok(Some(from_bytes(&payload)?))
}

/// A length prefix as a count of bytes; every target this runs on has
/// `usize` of at least 32 bits.
fn payload_length(length: u32) -> usize {
    usize::try_from(length).unwrap_or(usize::MAX)
}

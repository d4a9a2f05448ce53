//! [`RawWs`]: a WebSocket client over a bare `TcpStream` that writes
//! frames byte by byte, for what a well-behaved client refuses to do: send
//! malformed or hostile frames, never read, never answer a ping, vanish
//! without a close frame (FIN) or with a reset (RST), and see exactly which
//! close code (or none) ended the connection, even one refused at connect.
//!
//! Everything that speaks the protocol properly goes through
//! [`Client`](crate::Client) instead.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::client::{DEFAULT_TIMEOUT, event_of};
use crate::{Error, Result};

/// WebSocket opcodes (RFC 6455, 5.2).
pub mod opcode {
    /// Continuation frame.
    pub const CONTINUATION: u8 = 0x0;
    /// Text frame.
    pub const TEXT: u8 = 0x1;
    /// Binary frame.
    pub const BINARY: u8 = 0x2;
    /// Close frame.
    pub const CLOSE: u8 = 0x8;
    /// Ping frame.
    pub const PING: u8 = 0x9;
    /// Pong frame.
    pub const PONG: u8 = 0xA;
}

/// Encodes one client frame (masked, as RFC 6455 requires of clients).
pub fn client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
    let mut out = Vec::with_capacity(payload.len() + 14);
    out.push(if fin { 0x80 } else { 0 } | (opcode & 0x0f));
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= usize::from(u16::MAX) {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&MASK);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    out
}

/// One frame the server sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    /// The FIN bit.
    pub fin: bool,
    /// The opcode.
    pub opcode: u8,
    /// The (unmasked) payload.
    pub payload: Vec<u8>,
}

/// What [`RawWs::next_message`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A text (or binary) frame holding JSON.
    Json(Value),
    /// A close frame, with its code when it had one.
    Close(Option<u16>),
    /// The TCP stream ended without a close frame.
    Eof,
}

/// A WebSocket client over a bare `TcpStream`: it upgrades by hand and
/// writes whatever bytes a test wants, valid or not.
pub struct RawWs {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Where the unparsed bytes of `buf` start.
    start: usize,
}

impl RawWs {
    /// Connects to `addr` (`HOST:PORT`) and upgrades on `/ws`.
    pub async fn connect(addr: &str) -> Result<RawWs> {
        RawWs::connect_with(addr, "/ws", &[]).await
    }

    /// Connects to `addr` and upgrades on `path` (which may carry a query,
    /// e.g. `/ws?token=...`) with extra request `headers` (`Authorization`,
    /// `X-API-Key`, `Origin`...).
    pub async fn connect_with(addr: &str, path: &str, headers: &[(&str, &str)]) -> Result<RawWs> {
        let stream = TcpStream::connect(addr).await?;
        RawWs::upgrade(stream, addr, path, headers).await
    }

    /// Like [`RawWs::connect`], with the socket's receive buffer set to
    /// `bytes` before connecting: a client that reads nothing then fills up
    /// after a few KiB instead of several MiB.
    pub async fn connect_small_buffer(addr: &str, bytes: u32) -> Result<RawWs> {
        let target: std::net::SocketAddr = addr
            .parse()
            .map_err(|e| Error::Other(format!("bad address {addr:?}: {e}")))?;
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.set_recv_buffer_size(bytes)?;
        let stream = socket.connect(target).await?;
        RawWs::upgrade(stream, addr, "/ws", &[]).await
    }

    async fn upgrade(
        mut stream: TcpStream,
        addr: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<RawWs> {
        stream.set_nodelay(true)?;
        let mut request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut buf = Vec::new();
        let deadline = tokio::time::Instant::now() + DEFAULT_TIMEOUT;
        let end = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            let mut chunk = [0u8; 1024];
            let n = tokio::time::timeout_at(deadline, stream.read(&mut chunk))
                .await
                .map_err(|_| Error::Timeout("the raw upgrade".to_owned()))??;
            if n == 0 {
                return Err(Error::Closed(None));
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        if !head.starts_with("HTTP/1.1 101") {
            return Err(Error::Other(format!("upgrade refused: {head}")));
        }
        Ok(RawWs {
            stream,
            buf,
            start: end + 4,
        })
    }

    /// Writes `bytes` verbatim.
    pub async fn write_raw(&mut self, bytes: &[u8]) -> Result<()> {
        tokio::time::timeout(DEFAULT_TIMEOUT, self.stream.write_all(bytes))
            .await
            .map_err(|_| Error::Timeout("writing raw bytes".to_owned()))??;
        Ok(())
    }

    /// Writes `bytes` with no time bound (for a test that races it).
    pub async fn write_unbounded(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// Writes one masked frame.
    pub async fn send_frame(&mut self, fin: bool, opcode: u8, payload: &[u8]) -> Result<()> {
        self.write_raw(&client_frame(fin, opcode, payload)).await
    }

    /// Writes one text frame holding `bytes` (which need not be UTF-8).
    pub async fn send_text_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        self.send_frame(true, opcode::TEXT, bytes).await
    }

    /// Writes one text frame holding `value` as JSON.
    pub async fn send_json(&mut self, value: &Value) -> Result<()> {
        self.send_text_bytes(value.to_string().as_bytes()).await
    }

    /// Reads one frame; `Ok(None)` at the end of the stream.
    pub async fn read_frame(&mut self, timeout: Duration) -> Result<Option<RawFrame>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some((frame, used)) = parse_server_frame(&self.buf[self.start..])? {
                self.start += used;
                return Ok(Some(frame));
            }
            // Drop what was parsed before reading more (amortized O(1)).
            self.buf.drain(..self.start);
            self.start = 0;
            let len = self.buf.len();
            self.buf.resize(len + 64 * 1024, 0);
            let read =
                tokio::time::timeout_at(deadline, self.stream.read(&mut self.buf[len..])).await;
            let n = match read {
                Ok(Ok(n)) => n,
                Err(_) | Ok(Err(_)) => 0,
            };
            self.buf.truncate(len + n);
            match read {
                Err(_) => return Err(Error::Timeout(format!("no frame within {timeout:?}"))),
                // A reset is the end of the stream too.
                Ok(Ok(0)) | Ok(Err(_)) => return Ok(None),
                Ok(Ok(_)) => {}
            }
        }
    }

    /// The next JSON message, close frame or end of stream; control frames
    /// other than close are skipped.
    pub async fn next_message(&mut self, timeout: Duration) -> Result<Incoming> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(frame) = self.read_frame(left).await? else {
                return Ok(Incoming::Eof);
            };
            match frame.opcode {
                opcode::TEXT | opcode::BINARY => {
                    let value = serde_json::from_slice(&frame.payload)?;
                    return Ok(Incoming::Json(value));
                }
                opcode::CLOSE => {
                    let code = (frame.payload.len() >= 2)
                        .then(|| u16::from_be_bytes([frame.payload[0], frame.payload[1]]));
                    return Ok(Incoming::Close(code));
                }
                _ => {}
            }
        }
    }

    /// The next message whose `event` is `name`; `__ping__` and other
    /// events are skipped. Fails on a close or the end of the stream.
    pub async fn recv_event(&mut self, name: &str, timeout: Duration) -> Result<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_message(left).await? {
                Incoming::Json(value) if event_of(&value) == name => return Ok(value),
                Incoming::Json(_) => {}
                Incoming::Close(code) => return Err(Error::Closed(code)),
                Incoming::Eof => return Err(Error::Closed(None)),
            }
        }
    }

    /// Reads until the server's close frame or the end of the stream;
    /// returns what ended it. JSON read meanwhile is dropped.
    pub async fn expect_end(&mut self, timeout: Duration) -> Result<Incoming> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_message(left).await {
                Ok(Incoming::Json(_)) => {}
                Ok(end) => return Ok(end),
                Err(Error::Json(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends `echo {seq, data}` and waits for its `echo_reply`.
    pub async fn echo(&mut self, seq: i64) -> Result<()> {
        self.send_json(&json!({"event": "echo", "payload": {"seq": seq, "data": "raw"}}))
            .await?;
        let reply = self.recv_event("echo_reply", DEFAULT_TIMEOUT).await?;
        if reply["payload"]["seq"] == seq {
            Ok(())
        } else {
            Err(Error::Other(format!("echo {seq} answered with {reply}")))
        }
    }

    /// Ends the connection without a close frame: the socket is dropped
    /// and the server sees the TCP stream end (FIN).
    pub fn vanish(self) {
        drop(self.stream);
    }

    /// Ends the connection with a TCP reset (RST): no close frame, no FIN.
    pub fn reset(self) -> Result<()> {
        self.stream.set_zero_linger()?;
        drop(self.stream);
        Ok(())
    }
}

/// Parses one unmasked server frame from the front of `buf`: the frame and
/// how many bytes it took, or `None` when more bytes are needed.
pub fn parse_server_frame(buf: &[u8]) -> Result<Option<(RawFrame, usize)>> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let fin = buf[0] & 0x80 != 0;
    let opcode = buf[0] & 0x0f;
    if buf[1] & 0x80 != 0 {
        return Err(Error::Other("the server sent a masked frame".to_owned()));
    }
    let (len, mut at) = match buf[1] & 0x7f {
        126 => {
            let Some(b) = buf.get(2..4) else {
                return Ok(None);
            };
            (usize::from(u16::from_be_bytes([b[0], b[1]])), 4)
        }
        127 => {
            let Some(b) = buf.get(2..10) else {
                return Ok(None);
            };
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(b);
            let len = usize::try_from(u64::from_be_bytes(bytes))
                .map_err(|_| Error::Other("frame length overflows usize".to_owned()))?;
            (len, 10)
        }
        n => (usize::from(n), 2),
    };
    let Some(payload) = buf.get(at..at + len) else {
        return Ok(None);
    };
    let frame = RawFrame {
        fin,
        opcode,
        payload: payload.to_vec(),
    };
    at += len;
    Ok(Some((frame, at)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Unmasks a client frame as a server would: (fin, opcode, payload).
    fn unmask(frame: &[u8]) -> (bool, u8, Vec<u8>) {
        assert_ne!(frame[1] & 0x80, 0, "client frames are masked");
        let (len, at) = match frame[1] & 0x7f {
            126 => (usize::from(u16::from_be_bytes([frame[2], frame[3]])), 4),
            127 => (
                usize::try_from(u64::from_be_bytes(frame[2..10].try_into().unwrap())).unwrap(),
                10,
            ),
            n => (usize::from(n), 2),
        };
        let mask = &frame[at..at + 4];
        let payload = frame[at + 4..]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[i % 4])
            .collect::<Vec<u8>>();
        assert_eq!(payload.len(), len);
        (frame[0] & 0x80 != 0, frame[0] & 0x0f, payload)
    }

    #[test]
    fn client_frames_carry_fin_opcode_length_and_masked_payload() {
        for len in [0, 125, 126, 65_535, 65_536] {
            let payload = vec![b'a'; len];
            let frame = client_frame(len % 2 == 0, opcode::BINARY, &payload);
            assert_eq!(
                unmask(&frame),
                (len % 2 == 0, opcode::BINARY, payload),
                "{len} bytes"
            );
        }
    }

    #[test]
    fn server_frames_parse_once_complete() {
        let mut bytes = vec![0x81, 126, 0x01, 0x00];
        bytes.extend(vec![b'x'; 256]);
        bytes.extend([0x88, 2, 0x03, 0xe8]);
        assert_eq!(parse_server_frame(&bytes[..100]).unwrap(), None);
        let (frame, used) = parse_server_frame(&bytes).unwrap().unwrap();
        assert_eq!(
            (frame.fin, frame.opcode, frame.payload.len(), used),
            (true, opcode::TEXT, 256, 260)
        );
        let (close, _) = parse_server_frame(&bytes[used..]).unwrap().unwrap();
        assert_eq!(
            (close.opcode, close.payload),
            (opcode::CLOSE, vec![0x03, 0xe8])
        );
        assert!(
            parse_server_frame(&[0x81, 0x80]).is_err(),
            "a masked server frame"
        );
    }
}

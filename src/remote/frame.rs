//! Newline-delimited JSON frames with a size bound, shared by both ends of the socket.
//!
//! serde_json escapes newlines inside strings, so one message is always exactly one line.

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};

/// Why a frame could not be read or written. Any of these ends the connection.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("message longer than the {max}-byte limit")]
    TooLong { max: usize },
    #[error("connection closed in the middle of a message ({received} bytes received)")]
    Truncated { received: usize },
    #[error("malformed message: {0}")]
    Malformed(#[source] serde_json::Error),
    #[error("socket error: {0}")]
    Io(#[from] std::io::Error),
}

/// Read one line (without its newline), never buffering more than `max` bytes of it.
/// `Ok(None)` is a clean end of stream between messages. Not cancel-safe: callers read from
/// a dedicated task.
pub async fn read_line<R>(reader: &mut R, max: usize) -> Result<Option<Vec<u8>>, FrameError>
where
    R: AsyncBufRead + Unpin,
{
    let mut line = Vec::new();
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return match line.len() {
                0 => Ok(None),
                received => Err(FrameError::Truncated { received }),
            };
        }
        let (chunk, consumed, complete) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], i + 1, true),
            None => (available, available.len(), false),
        };
        if line.len() + chunk.len() > max {
            return Err(FrameError::TooLong { max });
        }
        line.extend_from_slice(chunk);
        reader.consume(consumed);
        if complete {
            return Ok(Some(line));
        }
    }
}

/// Read and decode the next message, skipping blank lines (handy with `socat` by hand).
pub async fn read_message<T, R>(reader: &mut R, max: usize) -> Result<Option<T>, FrameError>
where
    T: DeserializeOwned,
    R: AsyncBufRead + Unpin,
{
    loop {
        match read_line(reader, max).await? {
            None => return Ok(None),
            Some(line) if line.iter().all(u8::is_ascii_whitespace) => continue,
            Some(line) => {
                return serde_json::from_slice(&line)
                    .map(Some)
                    .map_err(FrameError::Malformed);
            }
        }
    }
}

/// Encode a message as one line, newline included.
pub fn encode<T: Serialize>(message: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut line = serde_json::to_vec(message)?;
    line.push(b'\n');
    Ok(line)
}

/// Encode and write one message, refusing (before writing anything) one the peer would reject.
pub async fn write_message<T, W>(writer: &mut W, message: &T, max: usize) -> Result<(), FrameError>
where
    T: Serialize,
    W: AsyncWrite + Unpin,
{
    let line = encode(message).map_err(FrameError::Malformed)?;
    if line.len() - 1 > max {
        return Err(FrameError::TooLong { max });
    }
    writer.write_all(&line).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::BufReader;

    async fn lines(input: &[u8], max: usize) -> Vec<Result<Option<Vec<u8>>, String>> {
        let mut reader = BufReader::with_capacity(4, input);
        let mut out = Vec::new();
        loop {
            let r = read_line(&mut reader, max).await.map_err(|e| e.to_string());
            let stop = !matches!(r, Ok(Some(_)));
            out.push(r);
            if stop {
                return out;
            }
        }
    }

    #[tokio::test]
    async fn splits_lines_across_small_buffers() {
        let got = lines(b"hello world\n{}\n", 64).await;
        assert_eq!(
            got,
            vec![
                Ok(Some(b"hello world".to_vec())),
                Ok(Some(b"{}".to_vec())),
                Ok(None)
            ]
        );
    }

    #[tokio::test]
    async fn a_line_exactly_at_the_limit_passes_and_one_byte_more_fails() {
        assert_eq!(lines(b"12345\n", 5).await[0], Ok(Some(b"12345".to_vec())));
        let got = lines(b"123456\n", 5).await;
        assert_eq!(
            got,
            vec![Err("message longer than the 5-byte limit".into())]
        );
    }

    #[tokio::test]
    async fn a_line_cut_off_by_the_end_of_stream_is_an_error() {
        let got = lines(b"{\"type\":", 64).await;
        assert_eq!(
            got,
            vec![Err(
                "connection closed in the middle of a message (8 bytes received)".into()
            )]
        );
    }

    #[tokio::test]
    async fn messages_skip_blank_lines_and_report_malformed_json() {
        let mut reader = BufReader::new(&b"\n  \n[1,2]\nnot json\n"[..]);
        let first: Option<Vec<u8>> = read_message(&mut reader, 64).await.unwrap();
        assert_eq!(first, Some(vec![1, 2]));
        let second = read_message::<Vec<u8>, _>(&mut reader, 64).await;
        assert!(
            matches!(second, Err(FrameError::Malformed(_))),
            "{second:?}"
        );
    }

    #[tokio::test]
    async fn writing_refuses_oversized_messages_without_writing() {
        let mut out = Vec::new();
        let big = "x".repeat(100);
        let r = write_message(&mut out, &big, 50).await;
        assert!(matches!(r, Err(FrameError::TooLong { max: 50 })), "{r:?}");
        assert!(out.is_empty());
        write_message(&mut out, &"ok", 50).await.unwrap();
        assert_eq!(out, b"\"ok\"\n");
    }
}

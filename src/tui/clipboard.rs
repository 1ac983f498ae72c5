//! Copy to the clipboard of the terminal the operator looks at, with OSC 52: it travels
//! over SSH like any other output, so the local terminal sets its clipboard. Inside tmux
//! the sequence is sent plain (taken by tmux with `set-clipboard on`, which forwards it
//! to the outer terminal) and again wrapped in tmux's DCS passthrough (taken with
//! `allow-passthrough on`).
//!
//! The app only records what to copy; the event loop writes the sequence through the
//! terminal backend between frames, never while a frame is being drawn.

use base64::Engine as _;

/// Longest text copied: terminals cap OSC 52 payloads (xterm ~100 KB); a URL, user
/// code or error message is far below this.
pub const MAX_COPY_BYTES: usize = 32 * 1024;

/// Where the output goes, which decides the wrapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Multiplexer {
    None,
    Tmux,
}

impl Multiplexer {
    /// From the environment the TUI runs in (`TMUX` is set inside a tmux session).
    pub fn detect() -> Self {
        if std::env::var_os("TMUX").is_some_and(|v| !v.is_empty()) {
            Multiplexer::Tmux
        } else {
            Multiplexer::None
        }
    }
}

/// The escape sequence that sets the clipboard to `text` (cut at [`MAX_COPY_BYTES`] on a
/// character boundary). The payload is base64, so no control character of `text` can
/// reach the terminal.
pub fn osc52(text: &str, mux: Multiplexer) -> String {
    let mut end = text.len().min(MAX_COPY_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let payload = base64::engine::general_purpose::STANDARD.encode(&text.as_bytes()[..end]);
    let osc = format!("\x1b]52;c;{payload}\x07");
    match mux {
        Multiplexer::None => osc,
        // Both forms: tmux takes the plain one with `set-clipboard on` (and forwards it to
        // the outer terminal), the DCS-wrapped one with `allow-passthrough on`; with
        // neither it drops both, and nothing reaches the screen.
        Multiplexer::Tmux => format!("{osc}\x1bPtmux;{}\x1b\\", osc.replace('\x1b', "\x1b\x1b")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_osc52_carries_base64() {
        assert_eq!(osc52("hi", Multiplexer::None), "\x1b]52;c;aGk=\x07");
    }

    #[test]
    fn tmux_gets_the_plain_form_and_the_dcs_passthrough_with_escapes_doubled() {
        assert_eq!(
            osc52("hi", Multiplexer::Tmux),
            "\x1b]52;c;aGk=\x07\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\"
        );
    }

    #[test]
    fn control_characters_never_pass_and_size_is_bounded() {
        let seq = osc52("a\x1b]0;evil\x07b", Multiplexer::None);
        assert_eq!(seq.matches('\x1b').count(), 1, "{seq:?}");
        let big = "é".repeat(MAX_COPY_BYTES);
        let seq = osc52(&big, Multiplexer::None);
        assert!(seq.len() < MAX_COPY_BYTES * 4 / 3 + 16);
    }
}

//! The one terminal sanitizer: every string that came from a server, a store or a config
//! file passes through here before any output, TUI or CLI.
//!
//! Nothing is silently dropped: ESC becomes `␛` (so `ESC[2J` reads `␛[2J`), other C0
//! controls become their Control Pictures (`␇`), C1 controls, bidi overrides/isolates and
//! zero-width characters become `\u{..}`. This module depends on nothing else in the crate.
//!
//! CLI output goes through this module's `println!`/`eprintln!`/`eprint!`, which
//! shadow std's in every `cli` file: the whole formatted text is cleaned, line breaks kept.

/// Returns `s` on one line with every control, bidi override and zero-width character made
/// visible; line breaks and tabs become spaces because every place that shows these strings
/// lays them out itself.
pub fn clean(s: &str) -> String {
    clean_with(s, |c| matches!(c, '\n' | '\r' | '\t').then_some(' '))
}

/// Like [`clean`] but keeps line breaks and tabs: for whole blocks of CLI output.
pub fn clean_text(s: &str) -> String {
    clean_with(s, |c| matches!(c, '\n' | '\t').then_some(c))
}

/// Serialized JSON made terminal-safe without changing what it decodes to: serde already
/// escapes C0 controls, so the C1 controls and invisible format characters it leaves raw
/// are written as `\uXXXX` escapes (all of them are in the Basic Multilingual Plane and,
/// being non-ASCII, can only occur inside JSON strings).
pub fn json(serialized: &str) -> String {
    if !serialized.chars().any(needs_escaping) {
        return serialized.to_string();
    }
    let mut out = String::with_capacity(serialized.len() + 16);
    for c in serialized.chars() {
        if needs_escaping(c) && !matches!(c, '\n' | '\t' | '\r') {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn clean_with(s: &str, keep: impl Fn(char) -> Option<char>) -> String {
    if !s.chars().any(needs_escaping) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match keep(c) {
            Some(k) => out.push(k),
            None => push_visible(&mut out, c),
        }
    }
    out
}

/// Replaces `s` by its cleaned form only when it needs it (no allocation otherwise).
pub fn clean_in_place(s: &mut String) {
    if s.chars().any(needs_escaping) {
        *s = clean(s);
    }
}

fn needs_escaping(c: char) -> bool {
    c.is_control() || is_invisible_format(c)
}

fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{061C}'
            | '\u{FEFF}'
            | '\u{00AD}'
    )
}

fn push_visible(out: &mut String, c: char) {
    match c {
        '\u{1B}' => out.push('␛'),
        '\u{7F}' => out.push('␡'),
        '\u{0}'..='\u{1F}' => {
            // U+2400 + n is the Control Picture of C0 control n.
            out.push(char::from_u32(0x2400 + c as u32).unwrap_or('�'));
        }
        c if c.is_control() || is_invisible_format(c) => {
            out.push_str(&format!("\\u{{{:X}}}", c as u32));
        }
        c => out.push(c),
    }
}

/// `println!` with the whole text cleaned (line breaks kept).
macro_rules! println {
    () => { ::std::println!() };
    ($($arg:tt)*) => { ::std::println!("{}", $crate::sanitize::clean_text(&::std::format!($($arg)*))) };
}
/// `eprintln!` with the whole text cleaned (line breaks kept).
macro_rules! eprintln {
    () => { ::std::eprintln!() };
    ($($arg:tt)*) => { ::std::eprintln!("{}", $crate::sanitize::clean_text(&::std::format!($($arg)*))) };
}
/// `eprint!` with the whole text cleaned (line breaks kept).
macro_rules! eprint {
    ($($arg:tt)*) => { ::std::eprint!("{}", $crate::sanitize::clean_text(&::std::format!($($arg)*))) };
}
pub(crate) use {eprint, eprintln, println};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_become_visible_text() {
        assert_eq!(clean("Acme\u{1b}[2J Corp"), "Acme␛[2J Corp");
        assert_eq!(clean("\u{1b}]0;pwned\u{7}"), "␛]0;pwned␇");
    }

    #[test]
    fn c1_bidi_and_zero_width_are_spelled_out() {
        assert_eq!(clean("a\u{9b}31m"), "a\\u{9B}31m");
        assert_eq!(clean("evil\u{202E}txt.exe"), "evil\\u{202E}txt.exe");
        assert_eq!(
            clean("iso\u{2066}late\u{2069}"),
            "iso\\u{2066}late\\u{2069}"
        );
        assert_eq!(clean("zero\u{200B}width"), "zero\\u{200B}width");
        assert_eq!(clean("bom\u{FEFF}"), "bom\\u{FEFF}");
    }

    #[test]
    fn line_breaks_and_tabs_become_spaces_and_plain_text_is_untouched() {
        assert_eq!(clean("a\nb\r\tc"), "a b  c");
        assert_eq!(clean("Ünïcødé 東京 ✓"), "Ünïcødé 東京 ✓");
        assert_eq!(clean("\u{0}\u{8}\u{7f}"), "␀␈␡");
    }

    #[test]
    fn text_blocks_keep_lines_but_not_carriage_returns() {
        assert_eq!(clean_text("a\n\tb\rc\u{1b}[2J"), "a\n\tb␍c␛[2J");
    }

    #[test]
    fn cleaned_output_never_contains_control_characters() {
        let nasty: String = (0u32..0x110).filter_map(char::from_u32).collect();
        assert!(!clean(&nasty).chars().any(|c| c.is_control()));
        assert!(
            !clean_text(&nasty)
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t')
        );
    }

    #[test]
    fn json_escapes_what_serde_leaves_raw_and_still_decodes_to_the_original() {
        let original = "evil\u{202E}txt \u{9b}31m \u{2066}x\u{200B} \u{1b}[2J\u{7}";
        let serialized = serde_json::to_string(&original).unwrap();
        let safe = json(&serialized);
        assert!(!safe.chars().any(needs_escaping), "{safe}");
        let decoded: String = serde_json::from_str(&safe).unwrap();
        assert_eq!(decoded, original);
    }
}

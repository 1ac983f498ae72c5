//! Neutralises terminal control sequences in every external string before it enters the
//! UI model (org names, record values, error messages, config values).
//!
//! Nothing is silently dropped: ESC becomes `␛` (so `ESC[2J` reads `␛[2J`), other C0
//! controls become their Control Pictures (`␇`), C1 controls, bidi overrides and
//! zero-width characters become `\u{..}`. Line breaks and tabs become spaces because every
//! place that shows these strings lays them out itself.

use crate::sync::{AuthPrompt, Event, RunSummary, Snapshot, SourceSnapshot, Status};

/// Returns `s` with every control, bidi override and zero-width character made visible.
pub fn clean(s: &str) -> String {
    if !s.chars().any(needs_escaping) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_visible(&mut out, c);
    }
    out
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
        '\n' | '\r' | '\t' => out.push(' '),
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

fn clean_in_place(s: &mut String) {
    if s.chars().any(needs_escaping) {
        *s = clean(s);
    }
}

/// Cleans every string in a snapshot; the App only ever stores the result.
pub fn snapshot(mut snap: Snapshot) -> Snapshot {
    for source in &mut snap.sources {
        source_snapshot(source);
    }
    snap
}

fn source_snapshot(s: &mut SourceSnapshot) {
    clean_in_place(&mut s.id);
    clean_in_place(&mut s.name);
    if let Status::Error(e) = &mut s.status {
        clean_in_place(&mut e.message);
    }
    if let Some(c) = &mut s.connection {
        clean_in_place(&mut c.org_id);
        clean_in_place(&mut c.instance_url);
        clean_in_place(&mut c.username);
    }
    if let Some(run) = &mut s.running {
        for o in &mut run.objects {
            clean_in_place(&mut o.object);
        }
    }
    if let Some(last) = &mut s.last_run {
        run_summary(last);
    }
    for e in &mut s.events {
        event(e);
    }
    if let Some(auth) = &mut s.auth {
        auth_prompt(auth);
    }
}

fn event(e: &mut Event) {
    clean_in_place(&mut e.message);
}

pub fn run_summary(r: &mut RunSummary) {
    if let Some(e) = &mut r.error {
        clean_in_place(e);
    }
}

fn auth_prompt(a: &mut AuthPrompt) {
    match a {
        AuthPrompt::Device {
            verification_uri,
            user_code,
            ..
        } => {
            clean_in_place(verification_uri);
            clean_in_place(user_code);
        }
        AuthPrompt::Web { authorize_url } => clean_in_place(authorize_url),
        AuthPrompt::Succeeded { username } => clean_in_place(username),
        AuthPrompt::Failed { message, .. } => clean_in_place(message),
    }
}

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
    fn cleaned_output_never_contains_control_characters() {
        let nasty: String = (0u32..0x110).filter_map(char::from_u32).collect();
        assert!(!clean(&nasty).chars().any(|c| c.is_control()));
    }
}

//! Human formatting of times and numbers. Every function takes `now` explicitly so
//! rendering is a pure function of the model (and snapshot tests are stable).

use chrono::{DateTime, Utc};

/// "just now", "3m ago", "2h ago", "4d ago".
pub fn ago(now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    let secs = (now - at).num_seconds();
    if secs < 0 {
        return until(now, at);
    }
    if secs < 60 {
        return "just now".into();
    }
    format!("{} ago", span(secs))
}

/// "in 12m", "in 3h", "due" when in the past.
pub fn until(now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    let secs = (at - now).num_seconds();
    if secs <= 0 {
        return "due".into();
    }
    if secs < 60 {
        return "in <1m".into();
    }
    format!("in {}", span(secs))
}

fn span(secs: i64) -> String {
    let m = secs / 60;
    if m < 60 {
        format!("{m}m")
    } else if m < 48 * 60 {
        format!("{}h", m / 60)
    } else {
        format!("{}d", m / (24 * 60))
    }
}

/// "4:59" countdown, "0:00" once expired.
pub fn countdown(now: DateTime<Utc>, until: DateTime<Utc>) -> String {
    let secs = (until - now).num_seconds().max(0);
    format!("{}:{:02}", secs / 60, secs % 60)
}

/// Duration between two instants: "42s", "3m 05s", "1h 02m".
pub fn duration(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let secs = (to - from).num_seconds().max(0);
    if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{}m {:02}s", secs / 60, secs % 60)
    } else {
        format!("{}h {:02}m", secs / 3600, (secs % 3600) / 60)
    }
}

/// "999", "12.3k", "4.5M".
pub fn compact(n: u64) -> String {
    if n < 1_000 {
        n.to_string()
    } else if n < 1_000_000 {
        format!("{:.1}k", n as f64 / 1e3)
    } else {
        format!("{:.1}M", n as f64 / 1e6)
    }
}

/// "1,234,567".
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "2026-11-27 14:05 UTC".
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Cuts `s` to at most `width` terminal columns, ending with '…' when cut.
pub fn truncate(s: &str, width: usize) -> String {
    if display_width(s) <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = char_width(c);
        if used + w + 1 > width {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// Terminal columns `s` occupies (as ratatui counts them).
pub fn display_width(s: &str) -> usize {
    ratatui::text::Span::raw(s).width()
}

fn char_width(c: char) -> usize {
    let mut buf = [0u8; 4];
    display_width(c.encode_utf8(&mut buf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn relative_times() {
        assert_eq!(ago(t(100), t(70)), "just now");
        assert_eq!(ago(t(1000), t(1000 - 180)), "3m ago");
        assert_eq!(ago(t(10_000), t(10_000 - 7_300)), "2h ago");
        assert_eq!(ago(t(1_000_000), t(1_000_000 - 4 * 86_400)), "4d ago");
        assert_eq!(until(t(0), t(725)), "in 12m");
        assert_eq!(until(t(0), t(30)), "in <1m");
        assert_eq!(until(t(10), t(0)), "due");
        assert_eq!(countdown(t(0), t(299)), "4:59");
        assert_eq!(countdown(t(10), t(0)), "0:00");
        assert_eq!(duration(t(0), t(185)), "3m 05s");
    }

    #[test]
    fn numbers() {
        assert_eq!(compact(999), "999");
        assert_eq!(compact(12_345), "12.3k");
        assert_eq!(compact(4_500_000), "4.5M");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(12), "12");
    }

    #[test]
    fn truncation_respects_width() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
        assert_eq!(truncate("東京東京", 5), "東京…");
        assert_eq!(truncate("abc", 0), "");
    }
}

//! Fuzzy matching for the field search: the query's characters in order, case-insensitive.

/// One folded char per input char, so match positions index the original text.
pub(crate) fn fold(s: &str) -> Box<[char]> {
    s.chars().map(fold_char).collect()
}

/// Append `s` folded to `out`; returns how many chars (names are far below 65 536).
pub(crate) fn push_folded(out: &mut Vec<char>, s: &str) -> u16 {
    let start = out.len();
    out.extend(s.chars().take(u16::MAX as usize).map(fold_char));
    (out.len() - start) as u16
}

fn fold_char(c: char) -> char {
    if c.is_ascii() {
        c.to_ascii_lowercase()
    } else {
        c.to_lowercase().next().unwrap_or(c)
    }
}

pub(crate) fn is_subsequence(query: &[char], text: &[char]) -> bool {
    let mut q = query.iter();
    let mut want = q.next();
    for c in text {
        match want {
            None => break,
            Some(w) if w == c => want = q.next(),
            Some(_) => {}
        }
    }
    want.is_none()
}

/// Char positions in `text` of the leftmost fuzzy match, for highlighting; None if no match.
pub(crate) fn match_positions(query: &[char], text: &str) -> Option<Vec<usize>> {
    let mut positions = Vec::with_capacity(query.len());
    let mut q = query.iter().peekable();
    for (i, c) in text.chars().enumerate() {
        match q.peek() {
            None => break,
            Some(&&w) if w == fold_char(c) => {
                positions.push(i);
                q.next();
            }
            Some(_) => {}
        }
    }
    q.peek().is_none().then_some(positions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_in_order_ignoring_case() {
        let q = fold("anrev");
        assert!(is_subsequence(&q, &fold("AnnualRevenue")));
        assert!(!is_subsequence(&q, &fold("RevenueAnnual")));
        assert!(is_subsequence(&[], &fold("x")));
        assert_eq!(
            match_positions(&fold("ar"), "AnnualRevenue"),
            Some(vec![0, 6])
        );
        assert_eq!(match_positions(&fold("zz"), "AnnualRevenue"), None);
    }
}

//! Evaluates WHERE expressions and ORDER BY comparisons on generated values.

use std::cmp::Ordering;

use super::{Expr, FieldRef, Literal, Op};
use crate::sandbox::datagen::Val;

/// Whether a row satisfies `expr`; `get` yields the row's value of a resolved field.
pub fn matches(expr: &Expr, get: &mut dyn FnMut(&FieldRef) -> Val) -> bool {
    match expr {
        Expr::And(a, b) => matches(a, get) && matches(b, get),
        Expr::Or(a, b) => matches(a, get) || matches(b, get),
        Expr::Not(e) => !matches(e, get),
        Expr::Cmp {
            field, op, value, ..
        } => compare(&get(field), *op, value),
        Expr::In {
            field,
            negated,
            values,
            ..
        } => {
            let v = get(field);
            let found = values.iter().any(|lit| compare(&v, Op::Eq, lit));
            found != *negated
        }
    }
}

fn compare(v: &Val, op: Op, lit: &Literal) -> bool {
    if matches!(lit, Literal::Null) || matches!(v, Val::Null) {
        let both_null = matches!(lit, Literal::Null) && matches!(v, Val::Null);
        return match op {
            Op::Eq => both_null,
            Op::Ne => !both_null,
            _ => false,
        };
    }
    if op == Op::Like {
        return match (v, lit) {
            (Val::Str(s), Literal::Str(p)) => like(&s.to_lowercase(), &p.to_lowercase()),
            _ => false,
        };
    }
    let ord = match (v, lit) {
        (Val::Str(s), Literal::Str(l)) => Some(cmp_text(s, l)),
        (Val::Bool(a), Literal::Bool(b)) => Some(a.cmp(b)),
        (Val::Int(a), Literal::Number(b)) => (*a as f64).partial_cmp(b),
        (Val::Num(a), Literal::Number(b)) => a.partial_cmp(b),
        (Val::Date(a), Literal::Date(b)) => Some(a.cmp(b)),
        (Val::DateTime(a), Literal::DateTime(b)) => Some(a.cmp(b)),
        (Val::DateTime(a), Literal::Date(b)) => Some(a.div_euclid(86_400_000).cmp(b)),
        _ => None,
    };
    let Some(ord) = ord else { return false };
    match op {
        Op::Eq => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
        Op::Like => false,
    }
}

/// Text compares case-insensitively, but Ids compare case-sensitively on their 15-character
/// form (so `WHERE Id > :last ORDER BY Id` pages correctly and 15/18-character forms match).
fn cmp_text(a: &str, b: &str) -> Ordering {
    if looks_like_id(a) && looks_like_id(b) {
        return a[..15].cmp(&b[..15]);
    }
    let (mut x, mut y) = (
        a.chars().flat_map(char::to_lowercase),
        b.chars().flat_map(char::to_lowercase),
    );
    loop {
        match (x.next(), y.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) if p != q => return p.cmp(&q),
            _ => {}
        }
    }
}

fn looks_like_id(s: &str) -> bool {
    (s.len() == 15 || s.len() == 18) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// SQL LIKE with `%` (any run) and `_` (one character), on already lower-cased text.
fn like(s: &str, p: &str) -> bool {
    let s: Vec<char> = s.chars().collect();
    let p: Vec<char> = p.chars().collect();
    let (mut si, mut pi) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == '_' || p[pi] == s[si]) {
            si += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '%' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '%' {
        pi += 1;
    }
    pi == p.len()
}

/// Ordering of two non-null values of one field, for ORDER BY.
pub fn compare_vals(a: &Val, b: &Val) -> Ordering {
    match (a, b) {
        (Val::Str(x), Val::Str(y)) => cmp_text(x, y),
        (Val::Bool(x), Val::Bool(y)) => x.cmp(y),
        (Val::Int(x), Val::Int(y)) => x.cmp(y),
        (Val::Num(x), Val::Num(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Val::Date(x), Val::Date(y)) | (Val::DateTime(x), Val::DateTime(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_and_null_semantics() {
        assert!(like("acme labs", "acme%"));
        assert!(like("acme labs", "%m_ l%"));
        assert!(!like("acme", "acme_"));
        assert!(compare(&Val::Null, Op::Eq, &Literal::Null));
        assert!(!compare(&Val::Null, Op::Gt, &Literal::Number(1.0)));
        assert!(compare(
            &Val::Str("Acme".into()),
            Op::Eq,
            &Literal::Str("ACME".into())
        ));
        assert!(compare(&Val::Int(5), Op::Ge, &Literal::Number(5.0)));
        let (lower, upper) = ("001Sb000000000aAAA".to_string(), "001Sb000000000AAAA");
        assert!(compare(
            &Val::Str(lower.clone()),
            Op::Gt,
            &Literal::Str(upper.into())
        ));
        assert!(compare(
            &Val::Str(lower),
            Op::Eq,
            &Literal::Str("001Sb000000000a".into())
        ));
    }
}

//! Recursive-descent parser for the SOQL subset.

use super::lexer::{Tok, tokenize};
use super::{Expr, FieldRef, Literal, Op, OrderItem, Pos, Query, Select, SoqlError};

/// How deep `NOT` and parentheses may nest: far beyond any real filter, and far below
/// what the parser's recursion (and the evaluator's, and the tree's drop) can take.
pub const MAX_NESTING: usize = 64;
/// How tall the filter's tree may grow through `AND`/`OR` chains, each of which adds a
/// level; the evaluator and the tree's drop recurse once per level.
pub const MAX_TREE_HEIGHT: usize = 1_000;

pub fn parse(src: &str) -> Result<Query, SoqlError> {
    let toks = tokenize(src)?;
    let mut p = Parser {
        toks,
        i: 0,
        nesting: 0,
    };
    let q = p.query()?;
    Ok(q)
}

struct Parser {
    toks: Vec<(Tok, Pos)>,
    i: usize,
    /// Current `NOT`/parenthesis nesting, bounded by [`MAX_NESTING`].
    nesting: usize,
}

/// A parsed filter with the height of its tree.
struct Parsed {
    expr: Expr,
    height: usize,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Word(w) => w.clone(),
        Tok::Str(s) => format!("'{s}'"),
        Tok::Number(n) => n.to_string(),
        Tok::Date(_) | Tok::DateTime(_) => "date literal".into(),
        Tok::Comma => ",".into(),
        Tok::Dot => ".".into(),
        Tok::LParen => "(".into(),
        Tok::RParen => ")".into(),
        Tok::Colon => ":".into(),
        Tok::Op(o) => (*o).into(),
        Tok::End => "<EOF>".into(),
    }
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.i].0
    }
    fn pos(&self) -> Pos {
        self.toks[self.i].1
    }
    fn bump(&mut self) -> (Tok, Pos) {
        let t = self.toks[self.i].clone();
        if self.i + 1 < self.toks.len() {
            self.i += 1;
        }
        t
    }
    fn unexpected(&self) -> SoqlError {
        match self.peek() {
            Tok::End => SoqlError::malformed(self.pos(), "unexpected token: <EOF>"),
            t => SoqlError::malformed(self.pos(), format!("unexpected token: '{}'", describe(t))),
        }
    }
    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }
    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.bump();
            true
        } else {
            false
        }
    }
    fn expect_kw(&mut self, kw: &str) -> Result<(), SoqlError> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }
    fn expect(&mut self, t: Tok) -> Result<(), SoqlError> {
        if *self.peek() == t {
            self.bump();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn query(&mut self) -> Result<Query, SoqlError> {
        self.expect_kw("SELECT")?;
        let select = self.select_list()?;
        self.expect_kw("FROM")?;
        let object_pos = self.pos();
        let object = match self.bump().0 {
            Tok::Word(w) if !is_reserved(&w) => w,
            _ => {
                self.i -= 1;
                return Err(self.unexpected());
            }
        };
        let filter = if self.eat_kw("WHERE") {
            Some(self.filter()?)
        } else {
            None
        };
        let mut order_by = Vec::new();
        if self.eat_kw("ORDER") {
            self.expect_kw("BY")?;
            loop {
                let field = self.field_ref()?;
                let descending = if self.eat_kw("DESC") {
                    true
                } else {
                    self.eat_kw("ASC");
                    false
                };
                let mut nulls_last = descending;
                if self.eat_kw("NULLS") {
                    if self.eat_kw("LAST") {
                        nulls_last = true;
                    } else {
                        self.expect_kw("FIRST")?;
                        nulls_last = false;
                    }
                }
                order_by.push(OrderItem {
                    field,
                    descending,
                    nulls_last,
                });
                if *self.peek() != Tok::Comma {
                    break;
                }
                self.bump();
            }
        }
        let limit = if self.eat_kw("LIMIT") {
            Some(self.integer()?)
        } else {
            None
        };
        let offset = if self.eat_kw("OFFSET") {
            Some(self.integer()?)
        } else {
            None
        };
        if *self.peek() != Tok::End {
            return Err(self.unexpected());
        }
        Ok(Query {
            select,
            object,
            object_pos,
            filter,
            order_by,
            limit,
            offset,
        })
    }

    fn integer(&mut self) -> Result<u64, SoqlError> {
        match *self.peek() {
            Tok::Number(n) if n >= 0.0 && n.fract() == 0.0 => {
                self.bump();
                Ok(n as u64)
            }
            _ => Err(self.unexpected()),
        }
    }

    fn select_list(&mut self) -> Result<Select, SoqlError> {
        if self.is_kw("COUNT") && self.toks.get(self.i + 1).map(|t| &t.0) == Some(&Tok::LParen) {
            self.bump();
            self.bump();
            self.expect(Tok::RParen)?;
            return Ok(Select::Count);
        }
        let mut fields = Vec::new();
        loop {
            fields.push(self.field_ref()?);
            if *self.peek() != Tok::Comma {
                break;
            }
            self.bump();
        }
        Ok(Select::Fields(fields))
    }

    fn field_ref(&mut self) -> Result<FieldRef, SoqlError> {
        let pos = self.pos();
        let mut path = match self.peek() {
            Tok::Word(w) if !is_reserved(w) => w.clone(),
            _ => return Err(self.unexpected()),
        };
        self.bump();
        while *self.peek() == Tok::Dot {
            self.bump();
            match self.peek() {
                Tok::Word(w) => {
                    path.push('.');
                    path.push_str(w);
                    self.bump();
                }
                _ => return Err(self.unexpected()),
            }
        }
        Ok(FieldRef { path, pos, slot: 0 })
    }

    fn filter(&mut self) -> Result<Expr, SoqlError> {
        Ok(self.or_expr()?.expr)
    }

    fn or_expr(&mut self) -> Result<Parsed, SoqlError> {
        let mut left = self.and_expr()?;
        while self.eat_kw("OR") {
            let right = self.and_expr()?;
            left = self.join(left, right, Expr::Or)?;
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Parsed, SoqlError> {
        let mut left = self.not_expr()?;
        while self.eat_kw("AND") {
            let right = self.not_expr()?;
            left = self.join(left, right, Expr::And)?;
        }
        Ok(left)
    }

    fn join(
        &self,
        left: Parsed,
        right: Parsed,
        node: fn(Box<Expr>, Box<Expr>) -> Expr,
    ) -> Result<Parsed, SoqlError> {
        let height = left.height.max(right.height).saturating_add(1);
        if height > MAX_TREE_HEIGHT {
            return Err(SoqlError::malformed(
                self.pos(),
                format!("too many conditions: at most {MAX_TREE_HEIGHT} AND/OR in a row"),
            ));
        }
        Ok(Parsed {
            expr: node(Box::new(left.expr), Box::new(right.expr)),
            height,
        })
    }

    fn not_expr(&mut self) -> Result<Parsed, SoqlError> {
        if !self.is_kw("NOT") && *self.peek() != Tok::LParen {
            return Ok(Parsed {
                expr: self.comparison()?,
                height: 1,
            });
        }
        if self.nesting >= MAX_NESTING {
            return Err(SoqlError::malformed(
                self.pos(),
                format!(
                    "filter nested too deeply: at most {MAX_NESTING} levels of NOT and parentheses"
                ),
            ));
        }
        self.nesting += 1;
        let nested = self.nested();
        self.nesting -= 1;
        nested
    }

    fn nested(&mut self) -> Result<Parsed, SoqlError> {
        if self.eat_kw("NOT") {
            let inner = self.not_expr()?;
            return Ok(Parsed {
                expr: Expr::Not(Box::new(inner.expr)),
                height: inner.height.saturating_add(1),
            });
        }
        self.bump(); // the opening parenthesis
        let inner = self.or_expr()?;
        self.expect(Tok::RParen)?;
        Ok(inner)
    }

    fn comparison(&mut self) -> Result<Expr, SoqlError> {
        let field = self.field_ref()?;
        let negated_in = self.is_kw("NOT");
        if negated_in {
            self.bump();
            if !self.is_kw("IN") {
                return Err(self.unexpected());
            }
        }
        if self.eat_kw("IN") {
            self.expect(Tok::LParen)?;
            let value_pos = self.pos();
            let mut values = Vec::new();
            loop {
                values.push(self.literal()?);
                if *self.peek() != Tok::Comma {
                    break;
                }
                self.bump();
            }
            self.expect(Tok::RParen)?;
            return Ok(Expr::In {
                field,
                negated: negated_in,
                values,
                value_pos,
            });
        }
        let op = match self.peek() {
            Tok::Op("=") => Op::Eq,
            Tok::Op("!=") => Op::Ne,
            Tok::Op("<") => Op::Lt,
            Tok::Op("<=") => Op::Le,
            Tok::Op(">") => Op::Gt,
            Tok::Op(">=") => Op::Ge,
            Tok::Word(w) if w.eq_ignore_ascii_case("LIKE") => Op::Like,
            _ => return Err(self.unexpected()),
        };
        self.bump();
        let value_pos = self.pos();
        let value = self.literal()?;
        Ok(Expr::Cmp {
            field,
            op,
            value,
            value_pos,
        })
    }

    fn literal(&mut self) -> Result<Literal, SoqlError> {
        let lit = match self.peek().clone() {
            Tok::Str(s) => Literal::Str(s),
            Tok::Number(n) => Literal::Number(n),
            Tok::Date(d) => Literal::Date(d),
            Tok::DateTime(ms) => Literal::DateTime(ms),
            Tok::Word(w) if w.eq_ignore_ascii_case("null") => Literal::Null,
            Tok::Word(w) if w.eq_ignore_ascii_case("true") => Literal::Bool(true),
            Tok::Word(w) if w.eq_ignore_ascii_case("false") => Literal::Bool(false),
            _ => return Err(self.unexpected()),
        };
        self.bump();
        Ok(lit)
    }
}

fn is_reserved(w: &str) -> bool {
    const RESERVED: [&str; 14] = [
        "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "ORDER", "BY", "LIMIT", "OFFSET", "IN",
        "LIKE", "NULLS", "GROUP",
    ];
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_sync_query() {
        let q = parse(
            "SELECT Id, SystemModstamp, Name FROM Account WHERE SystemModstamp >= 2024-01-01T00:00:00Z AND (Name LIKE 'A%' OR NOT Industry IN ('Energy', null)) ORDER BY SystemModstamp, Id DESC LIMIT 10 OFFSET 5",
        )
        .unwrap();
        assert_eq!(q.object, "Account");
        assert_eq!(q.order_by.len(), 2);
        assert!(q.order_by[1].descending);
        assert_eq!((q.limit, q.offset), (Some(10), Some(5)));
        assert_eq!(q.filter.unwrap().leaves().len(), 3);
    }

    #[test]
    fn count_and_errors() {
        assert_eq!(
            parse("select count() from Lead").unwrap().select,
            Select::Count
        );
        let e = parse("SELECT Id FORM Account").unwrap_err();
        assert_eq!((e.code, e.pos), ("MALFORMED_QUERY", 10));
        assert_eq!(e.message, "unexpected token: 'FORM'");
        assert!(parse("SELECT Id FROM Account WHERE").is_err());
        assert!(parse("SELECT FROM Account").is_err());
    }

    #[test]
    fn deep_nesting_is_a_malformed_query_not_a_stack_overflow() {
        let nots = format!(
            "SELECT Id FROM Account WHERE {}Name = 'x'",
            "NOT ".repeat(30_000 / 4)
        );
        let e = parse(&nots).unwrap_err();
        assert_eq!(e.code, "MALFORMED_QUERY");
        assert!(e.message.contains("nested too deeply"), "{}", e.message);

        let parens = format!(
            "SELECT Id FROM Account WHERE {}Name = 'x'{}",
            "(".repeat(20_000),
            ")".repeat(20_000)
        );
        assert_eq!(parse(&parens).unwrap_err().code, "MALFORMED_QUERY");

        let chain = format!(
            "SELECT Id FROM Account WHERE Name = 'x'{}",
            " OR Name = 'y'".repeat(5_000)
        );
        let e = parse(&chain).unwrap_err();
        assert!(e.message.contains("too many conditions"), "{}", e.message);
    }

    #[test]
    fn nesting_up_to_the_bound_still_parses() {
        let depth = MAX_NESTING;
        let q = format!(
            "SELECT Id FROM Account WHERE {}Name = 'x'{}",
            "(".repeat(depth),
            ")".repeat(depth)
        );
        assert!(parse(&q).is_ok());
        let nots = format!(
            "SELECT Id FROM Account WHERE {}Name = 'x'",
            "NOT ".repeat(depth)
        );
        assert!(parse(&nots).is_ok());
    }
}

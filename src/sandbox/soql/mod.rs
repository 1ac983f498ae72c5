//! The SOQL subset the sandbox answers: SELECT fields | COUNT(), FROM, WHERE (AND, OR, NOT,
//! parentheses, = != < <= > >= IN NOT IN LIKE), ORDER BY, LIMIT, OFFSET.

mod eval;
mod lexer;
mod parser;

pub use eval::{compare_vals, matches};
pub use parser::parse;

/// Byte offset of a token in the query text, for caret-style error messages.
pub type Pos = usize;

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub select: Select,
    pub object: String,
    pub object_pos: Pos,
    pub filter: Option<Expr>,
    pub order_by: Vec<OrderItem>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Select {
    Count,
    Fields(Vec<FieldRef>),
}

/// A possibly dotted field path (`Name`, `PermissionSet.Name`) with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRef {
    pub path: String,
    pub pos: Pos,
    /// Index of the resolved field, filled in by the executor after validation.
    pub slot: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderItem {
    pub field: FieldRef,
    pub descending: bool,
    pub nulls_last: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Number(f64),
    Str(String),
    /// Days since the epoch.
    Date(i64),
    /// Milliseconds since the epoch, UTC.
    DateTime(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp {
        field: FieldRef,
        op: Op,
        value: Literal,
        value_pos: Pos,
    },
    In {
        field: FieldRef,
        negated: bool,
        values: Vec<Literal>,
        value_pos: Pos,
    },
}

impl Expr {
    /// Every comparison in the expression, for validation against the schema.
    pub fn leaves(&self) -> Vec<&Expr> {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => {
                let mut v = a.leaves();
                v.extend(b.leaves());
                v
            }
            Expr::Not(e) => e.leaves(),
            leaf => vec![leaf],
        }
    }

    /// Visits every field reference mutably (to resolve slots).
    pub fn fields_mut(&mut self, f: &mut dyn FnMut(&mut FieldRef)) {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.fields_mut(f);
                b.fields_mut(f);
            }
            Expr::Not(e) => e.fields_mut(f),
            Expr::Cmp { field, .. } | Expr::In { field, .. } => f(field),
        }
    }
}

/// A SOQL error positioned at a byte offset, rendered the way Salesforce does.
#[derive(Debug, Clone, PartialEq)]
pub struct SoqlError {
    pub code: &'static str,
    pub pos: Pos,
    pub message: String,
}

impl SoqlError {
    pub fn malformed(pos: Pos, message: impl Into<String>) -> SoqlError {
        SoqlError {
            code: "MALFORMED_QUERY",
            pos,
            message: message.into(),
        }
    }

    /// `\n<line>\n<spaces>^\nERROR at Row:R:Column:C\n<message>`.
    pub fn render(&self, soql: &str) -> String {
        let pos = self.pos.min(soql.len());
        let before = &soql[..pos];
        let row = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let line_end = soql[pos..]
            .find('\n')
            .map(|i| pos + i)
            .unwrap_or(soql.len());
        let col = soql[line_start..pos].chars().count() + 1;
        format!(
            "\n{}\n{}^\nERROR at Row:{row}:Column:{col}\n{}",
            &soql[line_start..line_end],
            " ".repeat(col - 1),
            self.message
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_message_matches_salesforce_layout() {
        let e = SoqlError {
            code: "INVALID_TYPE",
            pos: 20,
            message: "sObject type 'XYZZY' is not supported.".into(),
        };
        assert_eq!(
            e.render("select count() from XYZZY"),
            "\nselect count() from XYZZY\n                    ^\nERROR at Row:1:Column:21\nsObject type 'XYZZY' is not supported."
        );
    }
}

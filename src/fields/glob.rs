//! Meltano-style field patterns: `Account.*`, `*.Name`, `Opportunity.*__c`,
//! `!Account.Description`. `*` any run, `?` one character, `[abc]`, `[a-z]`, `[!abc]`.
//! Matching ignores case, as Salesforce API names do. Exclusions (`!`) win over inclusions.

use std::str::FromStr;

use super::selection::is_locked;
use super::{FieldsError, Selection, closest};
use crate::model::{ObjectSchema, OrgSchema};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Char(char),
    AnyRun,
    AnyOne,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Glob {
    text: String,
    tokens: Vec<Token>,
}

impl Glob {
    fn parse(text: &str, pattern: &str) -> Result<Self, FieldsError> {
        let bad = |reason: &str| FieldsError::BadPattern {
            pattern: pattern.to_string(),
            reason: reason.to_string(),
        };
        let mut tokens = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '*' => tokens.push(Token::AnyRun),
                '?' => tokens.push(Token::AnyOne),
                '[' => {
                    let negated = chars.next_if_eq(&'!').is_some();
                    let mut ranges = Vec::new();
                    loop {
                        match chars.next() {
                            None => return Err(bad("a '[' has no closing ']'")),
                            Some(']') if !ranges.is_empty() => break,
                            Some(lo) => {
                                let lo = lo.to_ascii_lowercase();
                                if chars.next_if_eq(&'-').is_some() {
                                    match chars.next() {
                                        Some(']') | None => {
                                            return Err(bad("a range in [...] has no end"));
                                        }
                                        Some(hi) => ranges.push((lo, hi.to_ascii_lowercase())),
                                    }
                                } else {
                                    ranges.push((lo, lo));
                                }
                            }
                        }
                    }
                    tokens.push(Token::Class { negated, ranges });
                }
                c if c.is_whitespace() => return Err(bad("names cannot contain spaces")),
                c => tokens.push(Token::Char(c.to_ascii_lowercase())),
            }
        }
        Ok(Glob {
            text: text.to_string(),
            tokens,
        })
    }

    fn is_literal(&self) -> bool {
        self.tokens.iter().all(|t| matches!(t, Token::Char(_)))
    }

    fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().map(|c| c.to_ascii_lowercase()).collect();
        match_tokens(&self.tokens, &name)
    }
}

fn match_tokens(tokens: &[Token], name: &[char]) -> bool {
    // Iterative wildcard matching with a single backtrack point for the last `*`.
    let (mut t, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        let step = match tokens.get(t) {
            Some(Token::AnyRun) => {
                star = Some((t, n));
                t += 1;
                continue;
            }
            Some(Token::AnyOne) => true,
            Some(Token::Char(c)) => *c == name[n],
            Some(Token::Class { negated, ranges }) => {
                let inside = ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&name[n]));
                inside != *negated
            }
            None => false,
        };
        if step {
            t += 1;
            n += 1;
        } else if let Some((st, sn)) = star {
            t = st + 1;
            n = sn + 1;
            star = Some((st, sn + 1));
        } else {
            return false;
        }
    }
    tokens[t..].iter().all(|tok| *tok == Token::AnyRun)
}

/// One `[!]OBJECT.FIELD` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    exclude: bool,
    object: Glob,
    field: Glob,
}

impl FromStr for Pattern {
    type Err = FieldsError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        let (exclude, body) = match trimmed.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let bad = |reason: &str| FieldsError::BadPattern {
            pattern: text.to_string(),
            reason: reason.to_string(),
        };
        let Some((object, field)) = body.split_once('.') else {
            return Err(bad(
                "it has no \".FIELD\" part (use OBJECT.* for every field)",
            ));
        };
        if object.is_empty() || field.is_empty() {
            return Err(bad("the object or the field part is empty"));
        }
        if field.contains('.') {
            return Err(bad("related fields (A.B.C) are not supported"));
        }
        Ok(Pattern {
            text: trimmed.to_string(),
            exclude,
            object: Glob::parse(object, text)?,
            field: Glob::parse(field, text)?,
        })
    }
}

impl Pattern {
    pub fn is_exclusion(&self) -> bool {
        self.exclude
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Every (object, field) of the org the pattern names, or an error naming the closest
    /// existing object or field when it names nothing.
    fn resolve<'s>(
        &self,
        schema: &'s OrgSchema,
    ) -> Result<Vec<(&'s ObjectSchema, &'s str)>, FieldsError> {
        let objects: Vec<&ObjectSchema> = schema
            .objects
            .iter()
            .filter(|o| self.object.matches(&o.name))
            .collect();
        if objects.is_empty() {
            return Err(if self.object.is_literal() {
                FieldsError::UnknownObject {
                    pattern: self.text.clone(),
                    name: self.object.text.clone(),
                    closest: closest(
                        &self.object.text,
                        schema.objects.iter().map(|o| o.name.as_str()),
                    ),
                }
            } else {
                FieldsError::NoMatch {
                    pattern: self.text.clone(),
                    what: "object",
                }
            });
        }
        let hits: Vec<(&ObjectSchema, &str)> = objects
            .iter()
            .flat_map(|o| {
                o.fields
                    .iter()
                    .filter(|f| self.field.matches(&f.name))
                    .map(move |f| (*o, f.name.as_str()))
            })
            .collect();
        if hits.is_empty() && objects.iter().all(|o| o.fields.is_empty()) {
            let names: Vec<&str> = objects.iter().map(|o| o.name.as_str()).collect();
            return Err(FieldsError::NotLoaded {
                pattern: self.text.clone(),
                objects: names.join(", "),
            });
        }
        if hits.is_empty() {
            return Err(if self.field.is_literal() {
                FieldsError::UnknownField {
                    pattern: self.text.clone(),
                    object: self.object.text.clone(),
                    name: self.field.text.clone(),
                    closest: closest(
                        &self.field.text,
                        objects
                            .iter()
                            .flat_map(|o| o.fields.iter().map(|f| f.name.as_str())),
                    ),
                }
            } else {
                FieldsError::NoMatch {
                    pattern: self.text.clone(),
                    what: "field",
                }
            });
        }
        Ok(hits)
    }
}

/// Patterns given together: inclusions minus exclusions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatternSet {
    patterns: Vec<Pattern>,
}

impl PatternSet {
    pub fn parse<I, S>(patterns: I) -> Result<Self, FieldsError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let patterns = patterns
            .into_iter()
            .map(|p| p.as_ref().parse())
            .collect::<Result<Vec<Pattern>, _>>()?;
        Ok(PatternSet { patterns })
    }

    /// Objects of `schema` a pattern names literally (`Opportunity.*`, not `*.Name`) whose
    /// fields are not loaded: worth describing before resolving. Wildcard object parts
    /// are left out so one pattern cannot describe the whole org.
    pub fn undescribed_objects(&self, schema: &OrgSchema) -> Vec<String> {
        schema
            .objects
            .iter()
            .filter(|o| o.fields.is_empty())
            .filter(|o| {
                self.patterns
                    .iter()
                    .any(|p| p.object.is_literal() && p.object.matches(&o.name))
            })
            .map(|o| o.name.clone())
            .collect()
    }

    /// (named by an inclusion, named by an exclusion). Every pattern must name something.
    fn resolve(&self, schema: &OrgSchema) -> Result<(Selection, Selection), FieldsError> {
        let mut included = Selection::new();
        let mut excluded = Selection::new();
        for pattern in &self.patterns {
            let target = if pattern.exclude {
                &mut excluded
            } else {
                &mut included
            };
            for (object, field) in pattern.resolve(schema)? {
                target.insert(&object.name, field);
            }
        }
        Ok((included, excluded))
    }

    /// `current` plus what the inclusions name; what the exclusions name ends up deselected
    /// (exclusion wins). Bookkeeping fields follow their object and cannot be excluded.
    pub fn select(
        &self,
        current: &Selection,
        schema: &OrgSchema,
    ) -> Result<Selection, FieldsError> {
        let (included, excluded) = self.resolve(schema)?;
        let mut next = current.clone();
        for (object, fields) in included.iter() {
            for field in fields {
                next.insert(object, field);
            }
        }
        remove_unlocked(&mut next, &excluded);
        Ok(next.normalized(schema))
    }

    /// `current` minus what the inclusions name, except what the exclusions name (`!` keeps
    /// a field). An object left with only bookkeeping fields is deselected entirely.
    pub fn deselect(
        &self,
        current: &Selection,
        schema: &OrgSchema,
    ) -> Result<Selection, FieldsError> {
        let (included, excluded) = self.resolve(schema)?;
        let mut next = current.clone();
        for (object, fields) in included.iter() {
            for field in fields.iter().filter(|f| !excluded.contains(object, f)) {
                if !is_locked(field) {
                    next.remove(object, field);
                }
            }
        }
        Ok(next.normalized(schema))
    }
}

fn remove_unlocked(selection: &mut Selection, remove: &Selection) {
    for (object, fields) in remove.iter() {
        for field in fields.iter().filter(|f| !is_locked(f)) {
            selection.remove(object, field);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::test_schema::schema;

    fn names(sel: &Selection) -> Vec<String> {
        sel.iter()
            .flat_map(|(o, fs)| fs.iter().map(move |f| format!("{o}.{f}")))
            .collect()
    }

    fn select(patterns: &[&str]) -> Result<Selection, FieldsError> {
        PatternSet::parse(patterns)?.select(&Selection::new(), &schema())
    }

    #[test]
    fn wildcards_classes_and_case() {
        let glob = |g: &str| Glob::parse(g, g).unwrap();
        assert!(glob("*__c").matches("Region__c"));
        assert!(!glob("*__c").matches("Region"));
        assert!(glob("acc*").matches("Account"));
        assert!(glob("?ame").matches("Name"));
        assert!(glob("[a-c]*").matches("Contact"));
        assert!(!glob("[!a-c]*").matches("Contact"));
        assert!(glob("*o*o*").matches("Opportunity"));
        assert!(glob("*").matches(""));
        assert!(!glob("Name").matches("Names"));
    }

    #[test]
    fn object_star_selects_every_field_of_the_object() {
        let sel = select(&["Account.*"]).unwrap();
        assert_eq!(sel.fields("Account").unwrap().len(), 9);
        assert_eq!(sel.object_count(), 1);
    }

    #[test]
    fn star_dot_name_selects_name_everywhere_with_bookkeeping_fields() {
        let sel = select(&["*.Name"]).unwrap();
        assert_eq!(sel.object_count(), 4);
        assert!(sel.contains("Contact", "Name"));
        assert!(sel.contains("Contact", "Id"));
        assert!(sel.contains("Contact", "SystemModstamp"));
        assert!(!sel.contains("Contact", "Email"));
    }

    #[test]
    fn custom_field_suffix_glob() {
        let sel = select(&["Opportunity.*__c"]).unwrap();
        assert_eq!(
            names(&sel),
            [
                "Opportunity.Id",
                "Opportunity.IsDeleted",
                "Opportunity.Margin__c",
                "Opportunity.SystemModstamp"
            ]
        );
    }

    #[test]
    fn exclusion_wins_over_inclusion_in_any_order() {
        for order in [
            ["Account.*", "!Account.Description"],
            ["!Account.Description", "Account.*"],
        ] {
            let sel = select(&order).unwrap();
            assert!(sel.contains("Account", "Name"));
            assert!(!sel.contains("Account", "Description"));
        }
    }

    #[test]
    fn exclusion_in_select_deselects_a_previously_selected_field() {
        let mut current = Selection::new();
        current.insert("Account", "Description");
        current.insert("Account", "Name");
        let sel = PatternSet::parse(["Account.Website", "!Account.Description"])
            .unwrap()
            .select(&current, &schema())
            .unwrap();
        assert!(!sel.contains("Account", "Description"));
        assert!(sel.contains("Account", "Website"));
        assert!(sel.contains("Account", "Name"));
    }

    #[test]
    fn bookkeeping_fields_cannot_be_excluded() {
        let sel = select(&["Account.Name", "!Account.Id"]).unwrap();
        assert!(sel.contains("Account", "Id"));
    }

    #[test]
    fn deselect_keeps_excluded_fields_and_drops_bare_objects() {
        let current = select(&["Account.*", "Contact.Email"]).unwrap();
        let sel = PatternSet::parse(["Account.*", "!Account.Name"])
            .unwrap()
            .deselect(&current, &schema())
            .unwrap();
        assert_eq!(
            names(&sel)
                .into_iter()
                .filter(|n| n.starts_with("Account."))
                .collect::<Vec<_>>(),
            [
                "Account.Id",
                "Account.IsDeleted",
                "Account.Name",
                "Account.SystemModstamp"
            ]
        );
        let sel = PatternSet::parse(["Contact.Email"])
            .unwrap()
            .deselect(&sel, &schema())
            .unwrap();
        assert!(sel.fields("Contact").is_none());
    }

    #[test]
    fn matching_ignores_case_but_keeps_the_orgs_spelling() {
        let sel = select(&["account.name"]).unwrap();
        assert!(sel.contains("Account", "Name"));
    }

    #[test]
    fn unknown_object_names_the_closest_one() {
        let err = select(&["Acount.Name"]).unwrap_err();
        assert_eq!(
            err,
            FieldsError::UnknownObject {
                pattern: "Acount.Name".into(),
                name: "Acount".into(),
                closest: Some("Account".into()),
            }
        );
        assert!(err.to_string().contains("did you mean \"Account\""));
    }

    #[test]
    fn unknown_field_names_the_closest_field_of_that_object() {
        let err = select(&["Account.Webiste"]).unwrap_err();
        assert!(matches!(
            err,
            FieldsError::UnknownField { ref closest, .. } if closest.as_deref() == Some("Website")
        ));
        let err = select(&["!Contact.Emial", "Contact.Name"]).unwrap_err();
        assert!(err.to_string().contains("did you mean \"Email\""), "{err}");
    }

    #[test]
    fn objects_not_described_yet_say_so() {
        let mut org = schema();
        org.objects.iter_mut().for_each(|o| {
            if o.name == "Contact" {
                o.fields.clear();
            }
        });
        let err = PatternSet::parse(["Contact.Email"])
            .unwrap()
            .select(&Selection::new(), &org)
            .unwrap_err();
        assert!(matches!(err, FieldsError::NotLoaded { ref objects, .. } if objects == "Contact"));
    }

    #[test]
    fn only_literally_named_undescribed_objects_are_worth_describing() {
        let mut org = schema();
        org.objects.iter_mut().for_each(|o| o.fields.clear());
        let set = PatternSet::parse(["contact.Email", "!Account.Name", "*.Id"]).unwrap();
        assert_eq!(set.undescribed_objects(&org), ["Account", "Contact"]);
        assert!(set.undescribed_objects(&schema()).is_empty());
    }

    #[test]
    fn globs_that_match_nothing_are_errors() {
        assert!(matches!(
            select(&["Zzz*.Name"]).unwrap_err(),
            FieldsError::NoMatch { what: "object", .. }
        ));
        assert!(matches!(
            select(&["Account.Zzz*"]).unwrap_err(),
            FieldsError::NoMatch { what: "field", .. }
        ));
    }

    #[test]
    fn malformed_patterns_are_rejected_with_the_reason() {
        for bad in [
            "Account",
            ".Name",
            "Account.",
            "Account.[abc",
            "A.B.C",
            "Acc ount.Name",
        ] {
            let err = bad.parse::<Pattern>().unwrap_err();
            assert!(
                matches!(err, FieldsError::BadPattern { .. }),
                "{bad}: {err}"
            );
        }
        assert!("!Account.Name".parse::<Pattern>().unwrap().is_exclusion());
    }
}

//! Projected API calls per day for each frequency choice, from the source's CURRENT
//! selection and measured run costs, so the settings screen shows what a frequency would
//! cost before the operator picks it.
//!
//! calls/day = runs/day × cost of one incremental run + once-a-day calls when anything
//! runs at all. A run costs at least the first query page of every selected object, five
//! pages to a composite call (`read_plan::grouped_calls`; more when history says so),
//! plus the formula re-read when the policy re-reads on every run. The daily calls are
//! describeGlobal, the describes of the selected objects (25 to a composite call), the
//! permission check, each object's delete log and, under the daily policy, the formula
//! re-read. Manual frequency projects 0: nothing runs unless the operator asks.

use crate::config::{FormulaPolicy, Frequency, SourceConfig};
use crate::model::OrgSchema;
use crate::model::{FrequencyProjection, RunKind, RunOutcome};
use crate::salesforce::read_plan::{describe_calls, grouped_calls};

/// What a stored run cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunCost {
    pub kind: RunKind,
    pub outcome: RunOutcome,
    pub api_calls: u64,
}

/// What the current selection costs independently of history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelectionCost {
    /// Objects selected now (each is queried at least once per run).
    pub objects: u64,
    /// Calls of a run in which nothing changed: one page per object, grouped.
    pub run_calls: u64,
    /// Calls the formula re-read adds to a run (pages of `BATCH_SIZE` rows per object that
    /// has a selected formula field, grouped with the run's other pages).
    pub formula_reread_calls: u64,
    pub formula_policy: FormulaPolicy,
}

/// describeGlobal and the permission check, once a day whatever the selection.
const DAILY_FIXED_CALLS: u64 = 2;

impl SelectionCost {
    /// The cost of `source`'s selection. Formula fields are known from `schema` once it
    /// is loaded (none are assumed before); `rows` gives the stored rows of an object.
    pub fn of(
        source: &SourceConfig,
        schema: Option<&OrgSchema>,
        rows: impl Fn(&str) -> u64,
    ) -> Self {
        let batch = u64::from(crate::sync::object_sync::BATCH_SIZE);
        let has_formulas = |object: &str, selection: &crate::config::ObjectSelection| {
            schema
                .and_then(|s| s.objects.iter().find(|o| o.name == object))
                .is_some_and(|o| {
                    o.fields
                        .iter()
                        .any(|f| f.formula && selection.fields.contains(&f.name))
                })
        };
        // A formula re-read follows its object's read in the same line of grouped pages.
        let with_rereads: Vec<u64> = source
            .objects
            .iter()
            .map(|(object, selection)| {
                let reread = if has_formulas(object, selection) {
                    rows(object).div_ceil(batch).max(1)
                } else {
                    0
                };
                1u64.saturating_add(reread)
            })
            .collect();
        let run_calls = grouped_calls(&vec![1; with_rereads.len()]);
        SelectionCost {
            objects: source.objects.len() as u64,
            run_calls,
            formula_reread_calls: grouped_calls(&with_rereads).saturating_sub(run_calls),
            formula_policy: source.formula_policy,
        }
    }

    /// Calls made once a day when anything runs: describeGlobal, the permission check,
    /// the describes, one delete log per object and the daily formula re-read.
    pub fn daily_calls(&self) -> u64 {
        let rereads = match self.formula_policy {
            FormulaPolicy::DailyReread => self.formula_reread_calls,
            _ => 0,
        };
        DAILY_FIXED_CALLS
            .saturating_add(describe_calls(self.objects))
            .saturating_add(self.objects)
            .saturating_add(rereads)
    }

    /// Calls every run makes whatever changed.
    pub fn per_run_floor(&self) -> u64 {
        let rereads = match self.formula_policy {
            FormulaPolicy::EveryRun => self.formula_reread_calls,
            _ => 0,
        };
        self.run_calls.saturating_add(rereads)
    }
}

/// Most recent runs considered (per-run cost is their median).
pub const RUNS_CONSIDERED: usize = 20;

/// Cost of one scheduled run: the median of recent successful incremental runs (the
/// median ignores the odd run that caught a mass update), never less than what the
/// current selection needs (`floor`): history from a smaller selection must not make a
/// larger one look cheaper.
pub fn incremental_run_cost(recent_runs: &[RunCost], floor: u64) -> u64 {
    let mut costs: Vec<u64> = recent_runs
        .iter()
        .filter(|r| r.kind == RunKind::Incremental && r.outcome == RunOutcome::Succeeded)
        .take(RUNS_CONSIDERED)
        .map(|r| r.api_calls)
        .collect();
    if costs.is_empty() {
        return floor;
    }
    costs.sort_unstable();
    costs[costs.len() / 2].max(floor)
}

/// Projections for every frequency. `recent_runs` newest first; `quota_max` the org's
/// daily allocation when known.
pub fn project(
    recent_runs: &[RunCost],
    selection: SelectionCost,
    quota_max: Option<u64>,
) -> Vec<FrequencyProjection> {
    let per_run = incremental_run_cost(recent_runs, selection.per_run_floor());
    let daily_calls = selection.daily_calls();
    Frequency::ALL
        .into_iter()
        .map(|frequency| {
            let runs = u64::from(frequency.runs_per_day());
            let calls_per_day = if runs == 0 || selection.objects == 0 {
                0
            } else {
                runs.saturating_mul(per_run).saturating_add(daily_calls)
            };
            FrequencyProjection {
                frequency,
                calls_per_day,
                percent_of_quota: quota_max
                    .filter(|m| *m > 0)
                    .map(|m| calls_per_day as f64 * 100.0 / m as f64),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ObjectSelection;
    use crate::model::{FieldSchema, ObjectSchema};

    fn run(kind: RunKind, outcome: RunOutcome, api_calls: u64) -> RunCost {
        RunCost {
            kind,
            outcome,
            api_calls,
        }
    }

    fn selection(objects: u64) -> SelectionCost {
        SelectionCost {
            objects,
            run_calls: grouped_calls(&vec![1; objects as usize]),
            formula_reread_calls: 0,
            formula_policy: FormulaPolicy::DailyReread,
        }
    }

    #[test]
    fn uses_the_median_of_successful_incremental_runs() {
        let runs = [
            run(RunKind::Incremental, RunOutcome::Succeeded, 4),
            run(RunKind::Initial, RunOutcome::Succeeded, 900),
            run(RunKind::Incremental, RunOutcome::Failed, 1),
            run(RunKind::Incremental, RunOutcome::Succeeded, 40),
            run(RunKind::Incremental, RunOutcome::Succeeded, 5),
        ];
        assert_eq!(incremental_run_cost(&runs, 3), 5);
    }

    #[test]
    fn without_history_one_call_per_object() {
        assert_eq!(incremental_run_cost(&[], 7), 7);
    }

    #[test]
    fn history_from_a_smaller_selection_never_undercuts_the_current_one() {
        let runs = [run(RunKind::Incremental, RunOutcome::Succeeded, 2)];
        assert_eq!(
            incremental_run_cost(&runs, 6),
            6,
            "one query per selected object"
        );
    }

    #[test]
    fn projects_every_frequency_with_quota_share() {
        let runs = [run(RunKind::Incremental, RunOutcome::Succeeded, 10)];
        let p = project(&runs, selection(3), Some(15_000));
        assert_eq!(p.len(), Frequency::ALL.len());
        // Daily: describeGlobal + permission check + one composite call of describes + one
        // delete log per object.
        let m15 = p.iter().find(|p| p.frequency == Frequency::M15).unwrap();
        assert_eq!(m15.calls_per_day, 96 * 10 + 6);
        assert!((m15.percent_of_quota.unwrap() - 966.0 * 100.0 / 15_000.0).abs() < 1e-9);
        let h24 = p.iter().find(|p| p.frequency == Frequency::H24).unwrap();
        assert_eq!(h24.calls_per_day, 16);
        let manual = p.iter().find(|p| p.frequency == Frequency::Manual).unwrap();
        assert_eq!(manual.calls_per_day, 0);
        assert!(
            project(&runs, selection(3), None)[0]
                .percent_of_quota
                .is_none()
        );
    }

    #[test]
    fn nothing_selected_costs_nothing() {
        assert!(
            project(&[], selection(0), Some(100))
                .iter()
                .all(|p| p.calls_per_day == 0)
        );
    }

    fn source_with(objects: &[(&str, &[&str])], policy: FormulaPolicy) -> SourceConfig {
        let mut source = SourceConfig {
            id: "acme".into(),
            name: "Acme".into(),
            kind: Default::default(),
            login_url: "https://login.salesforce.com".into(),
            client_id: "client".into(),
            api_version: None,
            sync_enabled: true,
            frequency: crate::config::defaults::FREQUENCY,
            quota_threshold_percent: crate::config::defaults::QUOTA_THRESHOLD_PERCENT,
            run_quota_percent: crate::config::defaults::RUN_QUOTA_PERCENT,
            formula_policy: policy,
            query_cursors: crate::config::defaults::QUERY_CURSORS,
            objects: Default::default(),
            store: None,
            verify: crate::config::VerifySchedule::Weekly,
            bulk_threshold: crate::config::defaults::BULK_THRESHOLD,
        };
        for (object, fields) in objects {
            source.objects.insert(
                object.to_string(),
                ObjectSelection {
                    fields: fields.iter().map(|f| f.to_string()).collect(),
                },
            );
        }
        source
    }

    fn schema() -> OrgSchema {
        let field = |name: &str, formula: bool| FieldSchema {
            name: name.into(),
            formula,
            ..FieldSchema::default()
        };
        OrgSchema {
            objects: vec![
                ObjectSchema {
                    name: "Account".into(),
                    fields: vec![field("Name", false), field("Score__c", true)],
                    ..ObjectSchema::default()
                },
                ObjectSchema {
                    name: "Contact".into(),
                    fields: vec![field("Email", false), field("Age__c", true)],
                    ..ObjectSchema::default()
                },
            ],
        }
    }

    #[test]
    fn the_current_selection_drives_the_cost() {
        let schema = schema();
        let rows = |object: &str| if object == "Account" { 4_500 } else { 10 };
        // Account selects its formula field (4,500 rows: 3 pages); Contact does not.
        let daily = source_with(
            &[("Account", &["Name", "Score__c"]), ("Contact", &["Email"])],
            FormulaPolicy::DailyReread,
        );
        let cost = SelectionCost::of(&daily, Some(&schema), rows);
        assert_eq!(cost.objects, 2);
        // Both first pages share one call; Account's three re-read pages follow alone.
        assert_eq!(cost.run_calls, 1);
        assert_eq!(cost.formula_reread_calls, 3);
        assert_eq!(cost.daily_calls(), 2 + 1 + 2 + 3);
        assert_eq!(cost.per_run_floor(), 1);
        let h24 = project(&[], cost, None)
            .into_iter()
            .find(|p| p.frequency == Frequency::H24)
            .unwrap();
        assert_eq!(h24.calls_per_day, 1 + 8);

        let every_run = source_with(
            &[("Account", &["Name", "Score__c"]), ("Contact", &["Email"])],
            FormulaPolicy::EveryRun,
        );
        let cost = SelectionCost::of(&every_run, Some(&schema), rows);
        assert_eq!(cost.per_run_floor(), 1 + 3);
        assert_eq!(cost.daily_calls(), 2 + 1 + 2);

        // A third object's first page shares the others' composite call: only its daily
        // delete log adds a call.
        let bigger = source_with(
            &[
                ("Account", &["Name", "Score__c"]),
                ("Contact", &["Email"]),
                ("Lead", &["Email"]),
            ],
            FormulaPolicy::DailyReread,
        );
        let before = project(&[], SelectionCost::of(&daily, Some(&schema), rows), None);
        let after = project(&[], SelectionCost::of(&bigger, Some(&schema), rows), None);
        for (b, a) in before.iter().zip(&after) {
            let runs = u64::from(b.frequency.runs_per_day());
            if runs > 0 {
                assert_eq!(a.calls_per_day, b.calls_per_day + 1, "{:?}", b.frequency);
            }
        }
        // A sixth object needs a second call in every run.
        let six: Vec<(String, Vec<&str>)> =
            (0..6).map(|i| (format!("O{i}__c"), vec!["Name"])).collect();
        let six: Vec<(&str, &[&str])> = six
            .iter()
            .map(|(o, f)| (o.as_str(), f.as_slice()))
            .collect();
        let five = SelectionCost::of(
            &source_with(&six[..5], FormulaPolicy::DailyReread),
            None,
            rows,
        );
        let six = SelectionCost::of(&source_with(&six, FormulaPolicy::DailyReread), None, rows);
        assert_eq!((five.per_run_floor(), six.per_run_floor()), (1, 2));
        // Without a schema no formula field is known yet.
        assert_eq!(
            SelectionCost::of(&daily, None, rows).formula_reread_calls,
            0
        );
    }
}

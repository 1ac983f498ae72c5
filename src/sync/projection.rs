//! Projected API calls per day for each frequency choice, from measured run costs, so
//! the settings screen can show what a frequency would cost before the operator picks it.
//!
//! calls/day = runs/day × cost of one incremental run + once-a-day calls (describe
//! refresh, permission check, formula re-read) when anything runs at all. Manual
//! frequency projects 0: nothing runs unless the operator asks.

use crate::config::Frequency;
use crate::sync::model::{FrequencyProjection, RunKind, RunOutcome};

/// What a stored run cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunCost {
    pub kind: RunKind,
    pub outcome: RunOutcome,
    pub api_calls: u64,
}

/// Most recent runs considered (per-run cost is their median).
pub const RUNS_CONSIDERED: usize = 20;

/// Cost of one scheduled run: the median of recent successful incremental runs (the
/// median ignores the odd run that caught a mass update). Without history, an
/// incremental run with no changes costs one query per selected object.
pub fn incremental_run_cost(recent_runs: &[RunCost], selected_objects: u64) -> u64 {
    let mut costs: Vec<u64> = recent_runs
        .iter()
        .filter(|r| r.kind == RunKind::Incremental && r.outcome == RunOutcome::Succeeded)
        .take(RUNS_CONSIDERED)
        .map(|r| r.api_calls)
        .collect();
    if costs.is_empty() {
        return selected_objects;
    }
    costs.sort_unstable();
    costs[costs.len() / 2]
}

/// Projections for every frequency. `recent_runs` newest first; `daily_calls` are the
/// once-a-day calls; `quota_max` the org's daily allocation when known.
pub fn project(
    recent_runs: &[RunCost],
    selected_objects: u64,
    daily_calls: u64,
    quota_max: Option<u64>,
) -> Vec<FrequencyProjection> {
    let per_run = incremental_run_cost(recent_runs, selected_objects);
    Frequency::ALL
        .into_iter()
        .map(|frequency| {
            let runs = u64::from(frequency.runs_per_day());
            let calls_per_day = if runs == 0 {
                0
            } else {
                runs * per_run + daily_calls
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

    fn run(kind: RunKind, outcome: RunOutcome, api_calls: u64) -> RunCost {
        RunCost {
            kind,
            outcome,
            api_calls,
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
    fn projects_every_frequency_with_quota_share() {
        let runs = [run(RunKind::Incremental, RunOutcome::Succeeded, 10)];
        let p = project(&runs, 3, 5, Some(15_000));
        assert_eq!(p.len(), Frequency::ALL.len());
        let m15 = p.iter().find(|p| p.frequency == Frequency::M15).unwrap();
        assert_eq!(m15.calls_per_day, 96 * 10 + 5);
        assert!((m15.percent_of_quota.unwrap() - 965.0 * 100.0 / 15_000.0).abs() < 1e-9);
        let h24 = p.iter().find(|p| p.frequency == Frequency::H24).unwrap();
        assert_eq!(h24.calls_per_day, 15);
        let manual = p.iter().find(|p| p.frequency == Frequency::Manual).unwrap();
        assert_eq!(manual.calls_per_day, 0);
        assert!(project(&runs, 3, 5, None)[0].percent_of_quota.is_none());
    }
}

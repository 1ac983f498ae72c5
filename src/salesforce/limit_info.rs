//! `Sforce-Limit-Info: api-usage=USED/MAX` parsing. Other parts (`api-bursts=1/750`,
//! `per-app-api-usage=17/250(appName=x)`) are tolerated and ignored; a missing or garbled
//! header yields `None` rather than an error, since it only feeds the quota observer.

/// Org-wide API usage over the rolling 24 hours, as last reported by Salesforce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitInfo {
    pub used: u64,
    pub max: u64,
}

impl LimitInfo {
    pub const HEADER: &'static str = "Sforce-Limit-Info";

    pub fn parse(header: &str) -> Option<LimitInfo> {
        header.split([';', ',']).find_map(|part| {
            let (key, value) = part.split_once('=')?;
            if key.trim() != "api-usage" {
                return None;
            }
            let (used, max) = value.trim().split_once('/')?;
            let max = max.trim();
            let max_digits = max.find(|c: char| !c.is_ascii_digit()).unwrap_or(max.len());
            Some(LimitInfo {
                used: used.trim().parse().ok()?,
                max: max[..max_digits].parse().ok()?,
            })
        })
    }

    /// Percentage of the daily allocation used, rounded down; 100 when `max` is zero.
    pub fn percent_used(&self) -> u64 {
        self.used
            .saturating_mul(100)
            .checked_div(self.max)
            .unwrap_or(100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(used: u64, max: u64) -> Option<LimitInfo> {
        Some(LimitInfo { used, max })
    }

    #[test]
    fn header_variants() {
        assert_eq!(LimitInfo::parse("api-usage=18/5000"), info(18, 5000));
        assert_eq!(
            LimitInfo::parse("api-usage=10018/100000; api-bursts=1/750"),
            info(10018, 100000)
        );
        assert_eq!(
            LimitInfo::parse(
                "api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)"
            ),
            info(25, 5000)
        );
        assert_eq!(
            LimitInfo::parse("per-app-api-usage=17/250(appName=x); api-usage=3/15000"),
            info(3, 15000)
        );
        assert_eq!(LimitInfo::parse(" api-usage = 7 / 900 "), info(7, 900));
    }

    #[test]
    fn garbage_is_none() {
        assert_eq!(LimitInfo::parse(""), None);
        assert_eq!(LimitInfo::parse("api-bursts=1/750"), None);
        assert_eq!(LimitInfo::parse("api-usage=x/5000"), None);
        assert_eq!(LimitInfo::parse("api-usage=5000"), None);
        assert_eq!(LimitInfo::parse("api-usage=1/"), None);
    }

    #[test]
    fn percent() {
        assert_eq!(
            LimitInfo {
                used: 799,
                max: 1000
            }
            .percent_used(),
            79
        );
        assert_eq!(LimitInfo { used: 1, max: 0 }.percent_used(), 100);
    }
}

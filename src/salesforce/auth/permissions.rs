use crate::salesforce::types::Record;

/// What the authorizing user may do, from their permission-set assignments (profile
/// included: profiles appear as permission sets).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Permissions {
    pub api_enabled: bool,
    pub view_all_data: bool,
    pub view_setup: bool,
}

impl Permissions {
    /// OR over every assignment row of the §7 query.
    pub fn from_assignments(records: &[Record]) -> Permissions {
        let has = |flag: &str| {
            records.iter().any(|r| {
                r.get("PermissionSet")
                    .and_then(|ps| ps.get(flag))
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false)
            })
        };
        Permissions {
            api_enabled: has("PermissionsApiEnabled"),
            view_all_data: has("PermissionsViewAllData"),
            view_setup: has("PermissionsViewSetup"),
        }
    }

    /// The first permission a sync needs that is missing, by its name in Setup.
    pub fn missing(&self) -> Option<&'static str> {
        if !self.api_enabled {
            Some("API Enabled")
        } else if !self.view_all_data {
            Some("View All Data")
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(api: bool, all: bool) -> Record {
        json!({"attributes": {"type": "PermissionSetAssignment"},
               "PermissionSet": {"Name": "X", "PermissionsApiEnabled": api,
                                 "PermissionsViewAllData": all, "PermissionsViewSetup": false}})
        .as_object()
        .cloned()
        .unwrap()
    }

    #[test]
    fn any_assignment_grants() {
        let p = Permissions::from_assignments(&[row(true, false), row(false, true)]);
        assert_eq!(p.missing(), None);
        assert_eq!(
            Permissions::from_assignments(&[row(true, false)]).missing(),
            Some("View All Data")
        );
        assert_eq!(
            Permissions::from_assignments(&[row(false, true)]).missing(),
            Some("API Enabled")
        );
        assert_eq!(
            Permissions::from_assignments(&[]).missing(),
            Some("API Enabled")
        );
    }
}

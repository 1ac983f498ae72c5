//! Answers the permission probe of SALESFORCE-API.md §7:
//! `SELECT PermissionSet.Name, PermissionSet.PermissionsApiEnabled, ... FROM
//! PermissionSetAssignment WHERE AssigneeId = '<user id>'` — the admin holds API Enabled,
//! View All Data and View Setup; the standard user only API Enabled.

use super::datagen::Val;
use super::ids::make_id;
use super::soql::{self, FieldRef, Query, Select, SoqlError};
use super::state::{SandboxUser, State};
use super::wire::write_val;

const FIELDS: [&str; 11] = [
    "Id",
    "AssigneeId",
    "PermissionSetId",
    "PermissionSetGroupId",
    "PermissionSet.Id",
    "PermissionSet.Name",
    "PermissionSet.Label",
    "PermissionSet.IsOwnedByProfile",
    "PermissionSet.PermissionsApiEnabled",
    "PermissionSet.PermissionsViewAllData",
    "PermissionSet.PermissionsViewSetup",
];

struct Assignment {
    row: u64,
    user: SandboxUser,
    name: &'static str,
    label: &'static str,
    profile: bool,
    api: bool,
    view_all: bool,
    setup: bool,
}

const ASSIGNMENTS: [Assignment; 3] = [
    Assignment {
        row: 0,
        user: SandboxUser::Admin,
        name: "X00eSb0000000AdminProfile",
        label: "System Administrator",
        profile: true,
        api: true,
        view_all: true,
        setup: true,
    },
    Assignment {
        row: 1,
        user: SandboxUser::Admin,
        name: "Sandbox_Integration",
        label: "Sandbox Integration",
        profile: false,
        api: true,
        view_all: false,
        setup: false,
    },
    Assignment {
        row: 2,
        user: SandboxUser::Standard,
        name: "X00eSb0000000StdProfile",
        label: "Standard User",
        profile: true,
        api: true,
        view_all: false,
        setup: false,
    },
];

fn value(state: &State, a: &Assignment, field: &str) -> Val {
    let s = |x: String| Val::Str(x);
    match field {
        "Id" => s(make_id("0Pa", a.row)),
        "AssigneeId" => s(state.user_id(a.user)),
        "PermissionSetId" | "PermissionSet.Id" => s(make_id("0PS", a.row)),
        "PermissionSetGroupId" => Val::Null,
        "PermissionSet.Name" => s(a.name.into()),
        "PermissionSet.Label" => s(a.label.into()),
        "PermissionSet.IsOwnedByProfile" => Val::Bool(a.profile),
        "PermissionSet.PermissionsApiEnabled" => Val::Bool(a.api),
        "PermissionSet.PermissionsViewAllData" => Val::Bool(a.view_all),
        "PermissionSet.PermissionsViewSetup" => Val::Bool(a.setup),
        _ => Val::Null,
    }
}

fn canonical(f: &FieldRef) -> Result<usize, SoqlError> {
    FIELDS.iter().position(|c| c.eq_ignore_ascii_case(&f.path)).ok_or_else(|| SoqlError {
        code: "INVALID_FIELD",
        pos: f.pos,
        message: format!("No such column '{}' on entity 'PermissionSetAssignment'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", f.path),
    })
}

/// Renders the query result; rows follow the AssigneeId filter, as in a real org.
pub fn answer(state: &State, q: &Query, version: &str) -> Result<Vec<u8>, SoqlError> {
    let mut q = q.clone();
    let selected: Vec<usize> = match &q.select {
        Select::Count => Vec::new(),
        Select::Fields(f) => f.iter().map(canonical).collect::<Result<_, _>>()?,
    };
    if let Some(filter) = &mut q.filter {
        let mut err = None;
        filter.fields_mut(&mut |f| match canonical(f) {
            Ok(slot) => f.slot = slot,
            Err(e) => err = err.take().or(Some(e)),
        });
        if let Some(e) = err {
            return Err(e);
        }
    }
    let rows: Vec<&Assignment> = ASSIGNMENTS
        .iter()
        .filter(|a| {
            q.filter.as_ref().is_none_or(|f| {
                let mut get = |fr: &FieldRef| value(state, a, FIELDS[fr.slot]);
                soql::matches(f, &mut get)
            })
        })
        .collect();
    let mut out =
        format!("{{\"totalSize\":{},\"done\":true,\"records\":[", rows.len()).into_bytes();
    if !matches!(q.select, Select::Count) {
        for (i, a) in rows.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let mut top: Vec<(&'static str, Val)> = Vec::new();
            let mut nested: Vec<(&'static str, Val)> = Vec::new();
            for &slot in &selected {
                let name = FIELDS[slot];
                match name.strip_prefix("PermissionSet.") {
                    Some(child) => nested.push((child, value(state, a, name))),
                    None => top.push((name, value(state, a, name))),
                }
            }
            let attrs = |t: &'static str, id: String| {
                Val::Object(vec![
                    ("type", Val::Str(t.into())),
                    (
                        "url",
                        Val::Str(format!("/services/data/v{version}/sobjects/{t}/{id}")),
                    ),
                ])
            };
            let mut rec = vec![(
                "attributes",
                attrs("PermissionSetAssignment", make_id("0Pa", a.row)),
            )];
            rec.extend(top);
            if !nested.is_empty() {
                let mut ps = vec![("attributes", attrs("PermissionSet", make_id("0PS", a.row)))];
                ps.extend(nested);
                rec.push(("PermissionSet", Val::Object(ps)));
            }
            write_val(&mut out, &Val::Object(rec));
        }
    }
    out.extend_from_slice(b"]}");
    Ok(out)
}

//! Cleans every external string in the engine's snapshot before it enters the UI model
//! (org names, record values, error messages, config values), with the crate's one
//! sanitizer, [`crate::sanitize`].

use crate::model::{AuthPrompt, Event, RunSummary, Snapshot, SourceSnapshot, Status};
pub use crate::sanitize::clean;
use crate::sanitize::clean_in_place;

/// Cleans every string in a snapshot; the App only ever stores the result.
pub fn snapshot(mut snap: Snapshot) -> Snapshot {
    for source in &mut snap.sources {
        source_snapshot(source);
    }
    snap
}

fn source_snapshot(s: &mut SourceSnapshot) {
    clean_in_place(&mut s.id);
    clean_in_place(&mut s.name);
    if let Status::Error(e) = &mut s.status {
        clean_in_place(&mut e.message);
    }
    if let Some(c) = &mut s.connection {
        clean_in_place(&mut c.org_id);
        clean_in_place(&mut c.instance_url);
        clean_in_place(&mut c.username);
    }
    if let Some(run) = &mut s.running {
        for o in &mut run.objects {
            clean_in_place(&mut o.object);
            // The route names the object and counts; a Bulk job's state is Salesforce's text.
            for text in [&mut o.route, &mut o.bulk_job].into_iter().flatten() {
                clean_in_place(text);
            }
        }
    }
    if let Some(fleet) = &mut s.fleet {
        // Host names and notes come from the shared database, written by other hosts.
        for text in [&mut fleet.host, &mut fleet.note].into_iter().flatten() {
            clean_in_place(text);
        }
    }
    if let Some(last) = &mut s.last_run {
        run_summary(last);
    }
    for e in &mut s.events {
        event(e);
    }
    if let Some(auth) = &mut s.auth {
        auth_prompt(auth);
    }
}

fn event(e: &mut Event) {
    clean_in_place(&mut e.message);
}

pub fn run_summary(r: &mut RunSummary) {
    if let Some(e) = &mut r.error {
        clean_in_place(e);
    }
}

fn auth_prompt(a: &mut AuthPrompt) {
    match a {
        AuthPrompt::Device {
            verification_uri,
            user_code,
            ..
        } => {
            clean_in_place(verification_uri);
            clean_in_place(user_code);
        }
        AuthPrompt::Web { authorize_url } => clean_in_place(authorize_url),
        AuthPrompt::Succeeded { username } => clean_in_place(username),
        AuthPrompt::Failed { message, .. } => clean_in_place(message),
    }
}

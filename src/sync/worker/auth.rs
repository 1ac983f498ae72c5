//! Reauthorization: an interactive flow in its own task, its prompt in the snapshot.

use super::*;

impl Worker {
    pub(super) fn start_auth(&mut self, flow: AuthFlow) {
        if self.auth_task.is_some() {
            self.event(
                EventLevel::Warn,
                "an authorization is already in progress".into(),
            );
            return;
        }
        let http = self.shared.http.clone();
        let paths = self.shared.paths.clone();
        let source = self.source.clone();
        let prompt = self.auth_prompt.clone();
        let snapshots = self.shared.snapshots.clone();
        let id = self.source.id.clone();
        *prompt.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.auth_task = Some(tokio::spawn(async move {
            let show = |p: AuthPrompt| {
                *prompt.lock().unwrap_or_else(|e| e.into_inner()) = Some(p.clone());
                snapshots.send_modify(|s| {
                    s.version += 1;
                    if let Some(src) = s.sources.iter_mut().find(|x| x.id == id) {
                        src.auth = Some(p);
                    }
                });
            };
            authorize::authorize(&http, &paths, &source, flow, show)
                .await
                .map_err(|e| AuthFailure {
                    message: e.to_string(),
                    refused: e.is_refusal(),
                })
        }));
        self.event(EventLevel::Info, "authorization started".into());
    }

    pub(super) fn auth_finished(&mut self, result: Result<Credentials, AuthFailure>) {
        let now = self.now();
        let prompt = match result {
            Ok(creds) => {
                self.client = Some(client_for(
                    &self.shared.http,
                    &self.source,
                    &creds,
                    self.hooks.clone(),
                ));
                let username = creds.username.clone();
                self.creds = Some(creds);
                self.blocked = false;
                let t = self.status.set_credentials(true, now);
                self.transition(t);
                self.shared.notifier.recovered(&self.source.id);
                self.event(EventLevel::Info, format!("authorized as {username}"));
                AuthPrompt::Succeeded { username }
            }
            Err(AuthFailure { message, refused }) => {
                self.event(
                    EventLevel::Error,
                    format!("authorization failed: {message}"),
                );
                AuthPrompt::Failed { message, refused }
            }
        };
        *self.auth_prompt.lock().unwrap_or_else(|e| e.into_inner()) = Some(prompt);
    }
}

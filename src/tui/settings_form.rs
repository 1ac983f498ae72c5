//! State of the Settings panel: the values being edited, focus, the frequency dropdown,
//! the threshold text input and the discard prompt. Pure data; no I/O.

use tui_input::Input;

use crate::config::{Frequency, NotifyConfig};
use crate::tui::keymap::Context;
use crate::tui::ports::SettingsChange;

/// The panel's focusable controls, top to bottom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Reauthorize,
    SyncData,
    Frequency,
    Threshold,
    EditDataSync,
    Save,
    Cancel,
}

impl Control {
    pub const ALL: [Control; 7] = [
        Control::Reauthorize,
        Control::SyncData,
        Control::Frequency,
        Control::Threshold,
        Control::EditDataSync,
        Control::Save,
        Control::Cancel,
    ];
}

pub const THRESHOLD_MIN: u8 = 1;
pub const THRESHOLD_MAX: u8 = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormMessage {
    pub text: String,
    pub is_error: bool,
}

/// One object of the current field selection (for the read-only Edit Data Sync list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedObject {
    pub object: String,
    pub fields: Vec<String>,
}

/// Whether incidents are notified, as Settings shows it: recipients and the webhook's
/// host only (a webhook URL often carries a secret token in its path or query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifySetup {
    Channels {
        email_to: Option<Vec<String>>,
        webhook_host: Option<String>,
    },
    NotSetUp,
    Unreadable(String),
}

impl NotifySetup {
    pub fn of(config: &NotifyConfig) -> Self {
        let clean = crate::tui::sanitize::clean;
        let email_to = config
            .email
            .as_ref()
            .map(|e| e.to.iter().map(|to| clean(to)).collect());
        let webhook_host = config.webhook.as_ref().map(|w| clean(&host_of(&w.url)));
        if email_to.is_none() && webhook_host.is_none() {
            NotifySetup::NotSetUp
        } else {
            NotifySetup::Channels {
                email_to,
                webhook_host,
            }
        }
    }
}

/// `https://user:pw@hooks.example.com:8443/T0/B1?x=y` → `hooks.example.com:8443`.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    host.to_string()
}

#[derive(Debug, Clone)]
pub struct SettingsForm {
    pub source: String,
    /// The values in the config file the edits are based on.
    pub saved: SettingsChange,
    pub sync_enabled: bool,
    pub frequency: Frequency,
    pub threshold: Input,
    pub focus: Control,
    /// Highlighted index while the frequency dropdown is open.
    pub dropdown: Option<usize>,
    pub confirm_discard: bool,
    /// Quit the app (not just close the panel) once the discard prompt is answered "yes".
    pub quit_after_discard: bool,
    pub message: Option<FormMessage>,
    pub selection: Vec<SelectedObject>,
    /// How notifications are set up, read when the panel opened.
    pub notify: Option<NotifySetup>,
}

impl SettingsForm {
    pub fn new(source: String, saved: SettingsChange, selection: Vec<SelectedObject>) -> Self {
        SettingsForm {
            source,
            saved,
            sync_enabled: saved.sync_enabled,
            frequency: saved.frequency,
            threshold: Input::new(saved.quota_threshold_percent.to_string()),
            focus: Control::SyncData,
            dropdown: None,
            confirm_discard: false,
            quit_after_discard: false,
            message: None,
            selection,
            notify: None,
        }
    }

    pub fn context(&self) -> Context {
        if self.confirm_discard {
            Context::ConfirmDiscard
        } else if self.dropdown.is_some() {
            Context::Dropdown
        } else if self.focus == Control::Threshold {
            Context::TextInput
        } else {
            Context::Settings
        }
    }

    pub fn threshold_value(&self) -> Result<u8, String> {
        let text = self.threshold.value().trim();
        match text.parse::<u8>() {
            Ok(v) if (THRESHOLD_MIN..=THRESHOLD_MAX).contains(&v) => Ok(v),
            _ => Err(format!(
                "API quota threshold must be a whole number from {THRESHOLD_MIN} to {THRESHOLD_MAX} (got \"{text}\")"
            )),
        }
    }

    pub fn is_dirty(&self) -> bool {
        self.sync_enabled != self.saved.sync_enabled
            || self.frequency != self.saved.frequency
            || self.threshold.value().trim() != self.saved.quota_threshold_percent.to_string()
    }

    /// The change to write, or why the form cannot be saved yet.
    pub fn change(&self) -> Result<SettingsChange, String> {
        Ok(SettingsChange {
            sync_enabled: self.sync_enabled,
            frequency: self.frequency,
            quota_threshold_percent: self.threshold_value()?,
        })
    }

    /// Adopts a newer file state as the base: values the operator edited keep the edit,
    /// untouched ones take the file's new value (so someone else's change is not undone).
    pub fn rebase(&mut self, saved: SettingsChange) {
        let old = self.saved;
        if self.sync_enabled == old.sync_enabled {
            self.sync_enabled = saved.sync_enabled;
        }
        if self.frequency == old.frequency {
            self.frequency = saved.frequency;
        }
        if self.threshold.value().trim() == old.quota_threshold_percent.to_string() {
            self.threshold = Input::new(saved.quota_threshold_percent.to_string());
        }
        self.saved = saved;
    }

    /// Whether the focused control holds a value different from the file's.
    pub fn focused_is_changed(&self) -> bool {
        match self.focus {
            Control::SyncData => self.sync_enabled != self.saved.sync_enabled,
            Control::Frequency => self.frequency != self.saved.frequency,
            Control::Threshold => {
                self.threshold.value().trim() != self.saved.quota_threshold_percent.to_string()
            }
            _ => false,
        }
    }

    /// `esc` in a control: put the file's value back in that control only.
    pub fn revert_focused(&mut self) {
        match self.focus {
            Control::SyncData => self.sync_enabled = self.saved.sync_enabled,
            Control::Frequency => self.frequency = self.saved.frequency,
            Control::Threshold => {
                self.threshold = Input::new(self.saved.quota_threshold_percent.to_string());
            }
            _ => {}
        }
    }

    /// Whether `c` may be typed into the threshold: digits only, at most three.
    pub fn accepts_threshold_char(&self, c: char) -> bool {
        c.is_ascii_digit() && self.threshold.value().chars().count() < 3
    }

    pub fn focus_next(&mut self) {
        self.focus = step(self.focus, 1);
    }

    pub fn focus_prev(&mut self) {
        self.focus = step(self.focus, Control::ALL.len() - 1);
    }

    pub fn open_dropdown(&mut self) {
        let current = Frequency::ALL
            .iter()
            .position(|f| *f == self.frequency)
            .unwrap_or(0);
        self.dropdown = Some(current);
    }

    pub fn move_dropdown(&mut self, down: bool) {
        if let Some(i) = self.dropdown {
            let last = Frequency::ALL.len() - 1;
            self.dropdown = Some(if down {
                (i + 1).min(last)
            } else {
                i.saturating_sub(1)
            });
        }
    }

    pub fn choose_dropdown(&mut self) {
        if let Some(i) = self.dropdown.take() {
            if let Some(f) = Frequency::ALL.get(i) {
                self.frequency = *f;
            }
        }
    }

    pub fn selected_field_count(&self) -> usize {
        self.selection.iter().map(|o| o.fields.len()).sum()
    }
}

fn step(control: Control, by: usize) -> Control {
    let i = Control::ALL.iter().position(|c| *c == control).unwrap_or(0);
    Control::ALL[(i + by) % Control::ALL.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> SettingsForm {
        SettingsForm::new(
            "acme".into(),
            SettingsChange {
                sync_enabled: true,
                frequency: Frequency::H1,
                quota_threshold_percent: 80,
            },
            vec![],
        )
    }

    #[test]
    fn dirty_tracks_every_value_and_returns_clean_when_reverted() {
        let mut f = form();
        assert!(!f.is_dirty());
        f.sync_enabled = false;
        assert!(f.is_dirty());
        f.sync_enabled = true;
        f.threshold = Input::new("75".into());
        assert!(f.is_dirty());
        f.threshold = Input::new("80".into());
        assert!(!f.is_dirty());
        f.open_dropdown();
        f.move_dropdown(true);
        f.choose_dropdown();
        assert_eq!(f.frequency, Frequency::H2);
        assert!(f.is_dirty());
    }

    #[test]
    fn rebase_keeps_edits_and_adopts_untouched_values() {
        let mut f = form();
        f.sync_enabled = false;
        f.rebase(SettingsChange {
            sync_enabled: true,
            frequency: Frequency::H6,
            quota_threshold_percent: 70,
        });
        assert!(!f.sync_enabled);
        assert_eq!(f.frequency, Frequency::H6);
        assert_eq!(f.threshold.value(), "70");
        assert!(f.is_dirty());
    }

    #[test]
    fn threshold_is_validated() {
        let mut f = form();
        for bad in ["0", "101", "", "8o", "-5"] {
            f.threshold = Input::new(bad.into());
            assert!(f.change().is_err(), "{bad} accepted");
        }
        f.threshold = Input::new(" 95 ".into());
        assert_eq!(f.change().unwrap().quota_threshold_percent, 95);
    }

    #[test]
    fn revert_puts_back_only_the_focused_value() {
        let mut f = form();
        f.sync_enabled = false;
        f.threshold = Input::new("70".into());
        f.focus = Control::Threshold;
        assert!(f.focused_is_changed());
        f.revert_focused();
        assert_eq!(f.threshold.value(), "80");
        assert!(!f.focused_is_changed());
        assert!(!f.sync_enabled, "other edits stay");
        assert!(f.is_dirty());
    }

    #[test]
    fn threshold_takes_up_to_three_digits_only() {
        let mut f = form();
        assert!(!f.accepts_threshold_char('j'));
        assert!(!f.accepts_threshold_char('-'));
        assert!(f.accepts_threshold_char('5'));
        f.threshold = Input::new("100".into());
        assert!(!f.accepts_threshold_char('0'));
    }

    #[test]
    fn notify_setup_names_recipients_and_only_the_webhook_host() {
        use crate::config::{EmailConfig, SmtpSecurity, WebhookConfig};
        assert_eq!(
            NotifySetup::of(&NotifyConfig::default()),
            NotifySetup::NotSetUp
        );
        let config = NotifyConfig {
            email: Some(EmailConfig {
                smtp_host: "smtp.example.com".into(),
                smtp_port: 587,
                security: SmtpSecurity::default(),
                from: "syncdeck@example.com".into(),
                to: vec!["ops@example.com".into()],
                username: None,
                password_env: None,
            }),
            webhook: Some(WebhookConfig {
                url: "https://u:secret@hooks.example.com/services/T0/B1/XYZsecret?x=1".into(),
            }),
        };
        assert_eq!(
            NotifySetup::of(&config),
            NotifySetup::Channels {
                email_to: Some(vec!["ops@example.com".into()]),
                webhook_host: Some("hooks.example.com".into()),
            }
        );
    }

    #[test]
    fn focus_wraps_and_selects_context() {
        let mut f = form();
        f.focus = Control::Cancel;
        f.focus_next();
        assert_eq!(f.focus, Control::Reauthorize);
        f.focus_prev();
        assert_eq!(f.focus, Control::Cancel);
        f.focus = Control::Threshold;
        assert_eq!(f.context(), Context::TextInput);
        f.confirm_discard = true;
        assert_eq!(f.context(), Context::ConfirmDiscard);
    }
}

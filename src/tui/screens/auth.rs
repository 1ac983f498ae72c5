//! Reauthorize: the device code shown large with a countdown, the web-flow alternative,
//! then success or the exact failure. A QR code of the URL is added when it fits.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::model::{AuthFlow, AuthPrompt};
use crate::tui::app::{App, WEB_FLOW_PORT};
use crate::tui::format;
use crate::tui::keymap::{self, Action, Context};
use crate::tui::screens::{modal, wrap};
use crate::tui::theme::Theme;
use crate::tui::widgets::qr::QrCode;

const MODAL_WIDTH: u16 = 76;
/// Scanners want a light margin; two modules is enough on a terminal's plain background.
const QR_QUIET_ZONE: usize = 2;

/// The box's text as it is built: wrapped to `width`, plus an address too wide for the
/// box, shown below it full width and without border characters, so a terminal selection
/// copies it whole.
struct Body<'a> {
    width: usize,
    lines: Vec<Line<'static>>,
    outside: Option<&'a str>,
}

impl Body<'_> {
    fn text(&mut self, t: &str, style: Style) {
        for l in wrap(t, self.width) {
            self.lines.push(Line::from(Span::styled(l, style)));
        }
    }

    fn blank(&mut self) {
        self.lines.push(Line::default());
    }
}

/// A key of the Reauthorize screen, as its table names it.
fn key(action: Action) -> String {
    keymap::keys(Context::Auth, action)
}

pub fn render(app: &App, frame: &mut Frame, area: Rect, source: &str, flow: AuthFlow) {
    let theme = &app.theme;
    let snapshot = app.source(source);
    let name = snapshot.map(|s| s.name.as_str()).unwrap_or(source);
    let title = Line::from(Span::styled(
        format!(" Reauthorize · {} ", format::truncate(name, 40)),
        theme.title,
    ));
    let mut body = Body {
        width: area.width.min(MODAL_WIDTH).saturating_sub(2) as usize,
        lines: Vec::new(),
        outside: None,
    };
    let prompt = snapshot.and_then(|s| s.auth.as_ref());
    match prompt {
        None => {
            let what = match flow {
                AuthFlow::Device => "Requesting a device code from Salesforce…",
                AuthFlow::Web { .. } => "Starting the browser sign-in…",
            };
            body.text(what, theme.label);
        }
        Some(AuthPrompt::Device {
            verification_uri,
            user_code,
            expires_at,
        }) => device_text(&mut body, app, verification_uri, user_code, *expires_at),
        Some(AuthPrompt::Web { authorize_url }) => web_text(&mut body, authorize_url, theme),
        Some(AuthPrompt::Succeeded { username }) => {
            body.text(&format!("✓ Authorized as {username}."), theme.ok);
            let close = keymap::keys(Context::AuthDone, Action::Confirm);
            body.text(
                &format!("Syncing continues on schedule. Press {close} to close."),
                theme.label,
            );
        }
        Some(AuthPrompt::Failed { message, .. }) => {
            body.text("✗ Authorization failed", theme.err);
            body.text(message, theme.err);
            body.blank();
            let next = format!(
                "Press {} to try again, {} for the browser flow, {} for a device code, {} to close.",
                key(Action::Retry),
                key(Action::WebFlow),
                key(Action::DeviceFlow),
                key(Action::Back)
            );
            body.text(&next, theme.label);
        }
    }
    // A QR code of the verification URL beside the text, when the terminal has room.
    let qr = match prompt {
        Some(AuthPrompt::Device {
            verification_uri, ..
        }) => QrCode::encode(verification_uri.as_bytes()).map(|q| q.to_lines(QR_QUIET_ZONE)),
        _ => None,
    };
    let area = match body.outside {
        Some(url) => render_outside(frame, area, url, theme),
        None => area,
    };
    if let Some(qr) = qr
        && render_with_qr(frame, area, &title, &body.lines, qr, theme)
    {
        return;
    }
    let height = body.lines.len() as u16 + 2;
    let inner = modal(frame, area, MODAL_WIDTH, height, title, theme);
    frame.render_widget(Paragraph::new(body.lines), inner);
}

/// The device flow: where to go, the code, its countdown, and the browser alternative.
fn device_text<'a>(
    body: &mut Body<'a>,
    app: &App,
    verification_uri: &'a str,
    user_code: &str,
    expires_at: DateTime<Utc>,
) {
    let theme = &app.theme;
    body.text("1. On any device with a browser, open:", theme.label);
    if format::display_width(verification_uri) <= body.width {
        body.text(verification_uri, theme.big);
    } else {
        body.outside = Some(verification_uri);
        let copy = key(Action::Copy);
        body.text(
            &format!("(the address below this box; {copy} copies it)"),
            theme.dim,
        );
    }
    body.blank();
    body.text(
        "2. Sign in as a Salesforce admin and enter this code:",
        theme.label,
    );
    body.lines.extend(big_code(user_code, theme));
    body.blank();
    let expired = expires_at <= app.now;
    let (msg, style) = if expired {
        let retry = key(Action::Retry);
        (
            format!("The code has expired: press {retry} for a new one."),
            theme.err,
        )
    } else {
        let left = format::countdown(app.now, expires_at);
        (
            format!("Code expires in {left} · waiting for approval…"),
            theme.warn,
        )
    };
    body.text(&msg, style);
    body.text(
        &format!(
            "No second device? Press {} to sign in with a browser instead (loopback port {WEB_FLOW_PORT}).",
            key(Action::WebFlow)
        ),
        theme.dim,
    );
}

/// The web flow: the address goes below the box; SSH users forward the redirect first.
fn web_text<'a>(body: &mut Body<'a>, authorize_url: &'a str, theme: &Theme) {
    body.text(
        &format!(
            "Open the address shown below this box in a browser on this machine \
             (select it, or press {} to copy it):",
            key(Action::Copy)
        ),
        theme.label,
    );
    body.outside = Some(authorize_url);
    body.blank();
    body.text(
        &format!(
            "Over SSH, forward the redirect first: ssh -L {WEB_FLOW_PORT}:127.0.0.1:{WEB_FLOW_PORT} <this host>. Waiting for the browser…"
        ),
        theme.label,
    );
    body.text(
        &format!(
            "Press {} to use a device code instead.",
            key(Action::DeviceFlow)
        ),
        theme.dim,
    );
}

/// The box with the QR code beside the text; false (nothing drawn) when it does not fit.
fn render_with_qr(
    frame: &mut Frame,
    area: Rect,
    title: &Line,
    lines: &[Line<'static>],
    qr: Vec<String>,
    theme: &Theme,
) -> bool {
    let qr_width = qr.first().map(|l| l.chars().count()).unwrap_or(0) as u16;
    let width = MODAL_WIDTH + qr_width + 1;
    let height = (lines.len() as u16).max(qr.len() as u16) + 2;
    if area.width < width || area.height < height {
        return false;
    }
    let inner = modal(frame, area, width, height, title.clone(), theme);
    let [text_area, _, qr_area] = Layout::horizontal([
        Constraint::Length(MODAL_WIDTH - 2),
        Constraint::Length(1),
        Constraint::Length(qr_width),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(lines.to_vec()), text_area);
    let qr_lines: Vec<Line> = qr
        .into_iter()
        .map(|l| Line::from(Span::styled(l, theme.qr)))
        .collect();
    frame.render_widget(Paragraph::new(qr_lines), qr_area);
    true
}

/// Draws `url` at the bottom of `area` on full-width lines (cut by characters, no
/// indentation, no border) and returns the area left above it for the box.
fn render_outside(frame: &mut Frame, area: Rect, url: &str, theme: &Theme) -> Rect {
    let width = area.width.max(1) as usize;
    let chars: Vec<char> = url.chars().collect();
    let url_lines: Vec<Line> = chars
        .chunks(width)
        .map(|c| Line::from(Span::styled(c.iter().collect::<String>(), theme.big)))
        .collect();
    let height = (url_lines.len() as u16 + 1).min(area.height / 2);
    let [rest, strip] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(height)]).areas(area);
    frame.render_widget(ratatui::widgets::Clear, strip);
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "Address (select these lines whole, or press {} to copy):",
            key(Action::Copy)
        ),
        theme.dim,
    ))];
    lines.extend(url_lines);
    frame.render_widget(Paragraph::new(lines), strip);
    rest
}

/// The user code letter-spaced in a double box, so it reads at a glance from across a desk.
fn big_code(code: &str, theme: &Theme) -> Vec<Line<'static>> {
    let spaced: String = code
        .chars()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let w = format::display_width(&spaced) + 4;
    vec![
        Line::from(Span::styled(
            format!("   ╔{}╗", "═".repeat(w)),
            theme.border_focus,
        )),
        Line::from(vec![
            Span::styled("   ║  ", theme.border_focus),
            Span::styled(spaced, theme.big),
            Span::styled("  ║", theme.border_focus),
        ]),
        Line::from(Span::styled(
            format!("   ╚{}╝", "═".repeat(w)),
            theme.border_focus,
        )),
    ]
}

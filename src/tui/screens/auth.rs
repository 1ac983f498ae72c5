//! Reauthorize: the device code shown large with a countdown, the web-flow alternative,
//! then success or the exact failure. A QR code of the URL is added when it fits.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::model::{AuthFlow, AuthPrompt};
use crate::tui::app::{App, WEB_FLOW_PORT};
use crate::tui::format;
use crate::tui::screens::{modal, wrap};
use crate::tui::theme::Theme;
use crate::tui::widgets::qr::QrCode;

const MODAL_WIDTH: u16 = 76;
/// Scanners want a light margin; two modules is enough on a terminal's plain background.
const QR_QUIET_ZONE: usize = 2;

pub fn render(app: &App, frame: &mut Frame, area: Rect, source: &str, flow: AuthFlow) {
    let theme = &app.theme;
    let snapshot = app.source(source);
    let name = snapshot.map(|s| s.name.as_str()).unwrap_or(source);
    let title = Line::from(Span::styled(
        format!(" Reauthorize · {} ", format::truncate(name, 40)),
        theme.title,
    ));
    let width = area.width.min(MODAL_WIDTH).saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();
    // An address wider than the box is shown below it, full width and without border
    // characters, so a terminal selection copies it whole.
    let mut outside: Option<&str> = None;
    let text = |lines: &mut Vec<Line>, t: &str, style| {
        for l in wrap(t, width) {
            lines.push(Line::from(Span::styled(l, style)));
        }
    };
    match snapshot.and_then(|s| s.auth.as_ref()) {
        None => {
            let what = match flow {
                AuthFlow::Device => "Requesting a device code from Salesforce…",
                AuthFlow::Web { .. } => "Starting the browser sign-in…",
            };
            text(&mut lines, what, theme.label);
        }
        Some(AuthPrompt::Device {
            verification_uri,
            user_code,
            expires_at,
        }) => {
            text(
                &mut lines,
                "1. On any device with a browser, open:",
                theme.label,
            );
            if format::display_width(verification_uri) <= width {
                text(&mut lines, verification_uri, theme.big);
            } else {
                outside = Some(verification_uri);
                text(
                    &mut lines,
                    "(the address below this box; y copies it)",
                    theme.dim,
                );
            }
            lines.push(Line::default());
            text(
                &mut lines,
                "2. Sign in as a Salesforce admin and enter this code:",
                theme.label,
            );
            lines.extend(big_code(user_code, theme));
            lines.push(Line::default());
            let left = format::countdown(app.now, *expires_at);
            let expired = *expires_at <= app.now;
            let style = if expired { theme.err } else { theme.warn };
            let msg = if expired {
                "The code has expired: press r for a new one.".to_string()
            } else {
                format!("Code expires in {left} · waiting for approval…")
            };
            text(&mut lines, &msg, style);
            text(
                &mut lines,
                &format!(
                    "No second device? Press w to sign in with a browser instead (loopback port {WEB_FLOW_PORT})."
                ),
                theme.dim,
            );
        }
        Some(AuthPrompt::Web { authorize_url }) => {
            text(
                &mut lines,
                "Open the address shown below this box in a browser on this machine \
                 (select it, or press y to copy it):",
                theme.label,
            );
            outside = Some(authorize_url);
            lines.push(Line::default());
            text(
                &mut lines,
                &format!(
                    "Over SSH, forward the redirect first: ssh -L {WEB_FLOW_PORT}:127.0.0.1:{WEB_FLOW_PORT} <this host>. Waiting for the browser…"
                ),
                theme.label,
            );
            text(
                &mut lines,
                "Press d to use a device code instead.",
                theme.dim,
            );
        }
        Some(AuthPrompt::Succeeded { username }) => {
            text(
                &mut lines,
                &format!("✓ Authorized as {username}."),
                theme.ok,
            );
            text(
                &mut lines,
                "Syncing continues on schedule. Press enter to close.",
                theme.label,
            );
        }
        Some(AuthPrompt::Failed { message, .. }) => {
            text(&mut lines, "✗ Authorization failed", theme.err);
            text(&mut lines, message, theme.err);
            lines.push(Line::default());
            text(
                &mut lines,
                "Press r to try again, w for the browser flow, d for a device code, esc to close.",
                theme.label,
            );
        }
    }
    // A QR code of the verification URL beside the text, when the terminal has room.
    let qr = match snapshot.and_then(|s| s.auth.as_ref()) {
        Some(AuthPrompt::Device {
            verification_uri, ..
        }) => QrCode::encode(verification_uri.as_bytes()).map(|q| q.to_lines(QR_QUIET_ZONE)),
        _ => None,
    };
    let area = match outside {
        Some(url) => render_outside(frame, area, url, theme),
        None => area,
    };
    let text_height = lines.len() as u16;
    if let Some(qr) = qr {
        let qr_width = qr.first().map(|l| l.chars().count()).unwrap_or(0) as u16;
        let qr_height = qr.len() as u16;
        let width = MODAL_WIDTH + qr_width + 1;
        let height = text_height.max(qr_height) + 2;
        if area.width >= width && area.height >= height {
            let inner = modal(frame, area, width, height, title, theme);
            let [text_area, _, qr_area] = Layout::horizontal([
                Constraint::Length(MODAL_WIDTH - 2),
                Constraint::Length(1),
                Constraint::Length(qr_width),
            ])
            .areas(inner);
            frame.render_widget(Paragraph::new(lines), text_area);
            let qr_lines: Vec<Line> = qr
                .into_iter()
                .map(|l| Line::from(Span::styled(l, theme.qr)))
                .collect();
            frame.render_widget(Paragraph::new(qr_lines), qr_area);
            return;
        }
    }
    let inner = modal(frame, area, MODAL_WIDTH, text_height + 2, title, theme);
    frame.render_widget(Paragraph::new(lines), inner);
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
        "Address (select these lines whole, or press y to copy):",
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

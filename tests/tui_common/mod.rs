//! Shared harness of the TUI tests: an App over the fake engine, settings and history.
#![allow(dead_code)]

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use syncdeck::model::{Command, Snapshot};
use syncdeck::tui::fake::{self, FakeHistory, FakeSettings};
use syncdeck::tui::{App, Theme};
use tokio::sync::mpsc::{self, UnboundedReceiver};

pub struct Harness {
    pub app: App,
    pub commands: UnboundedReceiver<Command>,
    pub settings: FakeSettings,
}

pub fn harness() -> Harness {
    harness_with(fake::snapshot(), Theme::color())
}

pub fn harness_with(snapshot: Snapshot, theme: Theme) -> Harness {
    let (tx, commands) = mpsc::unbounded_channel();
    let settings = FakeSettings::new(fake::config());
    let app = App::new(
        snapshot,
        tx,
        Box::new(settings.clone()),
        Box::new(FakeHistory::default()),
        theme,
        fake::now(),
    );
    Harness {
        app,
        commands,
        settings,
    }
}

impl Harness {
    pub fn key(&mut self, code: KeyCode) -> &mut Self {
        self.app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
        self
    }

    /// Types each character as a key press (shift implied for upper case).
    pub fn keys(&mut self, text: &str) -> &mut Self {
        for c in text.chars() {
            let mods = if c.is_ascii_uppercase() {
                KeyModifiers::SHIFT
            } else {
                KeyModifiers::NONE
            };
            self.app.handle_key(KeyEvent::new(KeyCode::Char(c), mods));
        }
        self
    }

    pub fn sent(&mut self) -> Vec<Command> {
        let mut out = Vec::new();
        while let Ok(c) = self.commands.try_recv() {
            out.push(c);
        }
        out
    }

    pub fn screen_text(&self, width: u16, height: u16) -> String {
        let terminal = render(&self.app, width, height);
        buffer_text(&terminal)
    }
}

pub fn render(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| app.render(f)).unwrap();
    terminal
}

pub fn buffer_text(terminal: &Terminal<TestBackend>) -> String {
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

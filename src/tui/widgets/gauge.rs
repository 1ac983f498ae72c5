//! A one-line usage gauge with the quota threshold marked: `████▌░░│░░ 42%`.

use ratatui::text::{Line, Span};

use crate::tui::theme::Theme;

/// `percent` of usage (None: unknown) on a bar of `width` cells, with `│` at `threshold`%.
/// The label takes 5 cells; bars narrower than 3 cells show only the label.
pub fn usage_gauge(
    percent: Option<f64>,
    threshold: u8,
    width: u16,
    theme: &Theme,
) -> Line<'static> {
    let Some(percent) = percent else {
        return Line::from(Span::styled("—", theme.dim));
    };
    let label = format!("{:>3.0}%", percent.clamp(0.0, 999.0));
    let bar_width = (width as usize).saturating_sub(label.len() + 1);
    if bar_width < 3 {
        return Line::from(Span::styled(label, theme.usage(percent, threshold as f64)));
    }
    let filled = ((percent.clamp(0.0, 100.0) / 100.0) * bar_width as f64).round() as usize;
    let marker = ((threshold.min(100) as f64 / 100.0) * bar_width as f64).round() as usize;
    let marker = marker.min(bar_width - 1);
    let fill_style = theme.usage(percent, threshold as f64);
    let mut spans = Vec::with_capacity(4);
    let mut run = String::new();
    let mut run_filled = true;
    let flush = |spans: &mut Vec<Span<'static>>, run: &mut String, filled: bool| {
        if !run.is_empty() {
            let style = if filled {
                fill_style
            } else {
                theme.gauge_empty
            };
            spans.push(Span::styled(std::mem::take(run), style));
        }
    };
    for i in 0..bar_width {
        if i == marker {
            flush(&mut spans, &mut run, run_filled);
            spans.push(Span::styled("│", theme.threshold));
            continue;
        }
        let is_filled = i < filled;
        if is_filled != run_filled {
            flush(&mut spans, &mut run, run_filled);
            run_filled = is_filled;
        }
        run.push(if is_filled { '█' } else { '░' });
    }
    flush(&mut spans, &mut run, run_filled);
    spans.push(Span::raw(" "));
    spans.push(Span::styled(label, fill_style));
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(line: &Line) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn marks_threshold_and_fill() {
        let t = Theme::mono();
        assert_eq!(
            text(&usage_gauge(Some(50.0), 80, 15, &t)),
            "█████░░░│░  50%"
        );
        assert_eq!(
            text(&usage_gauge(Some(100.0), 80, 15, &t)),
            "████████│█ 100%"
        );
        assert_eq!(text(&usage_gauge(None, 80, 15, &t)), "—");
        assert_eq!(text(&usage_gauge(Some(5.0), 80, 6, &t)), "  5%");
    }

    #[test]
    fn never_exceeds_width() {
        let t = Theme::color();
        for w in 0..40u16 {
            for p in [0.0, 33.3, 79.9, 80.0, 150.0] {
                let line = usage_gauge(Some(p), 80, w, &t);
                assert!(line.width() <= (w as usize).max(4), "w={w} p={p}");
            }
        }
    }
}

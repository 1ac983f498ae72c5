//! Small reusable widgets: toggle, dropdown, usage gauge with a threshold marker.

pub mod dropdown;
pub mod gauge;
pub mod key_help;
pub mod key_list;
pub mod qr;
pub mod toggle;

use ratatui::layout::Rect;

/// A `width`×`height` rectangle centred in `area`, shrunk to fit.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

//! Rendering helpers shared by subcommands.

use std::io::Write;

use serde::Serialize;

/// Print `value` as pretty JSON on stdout.
pub fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Whether stdout is a terminal (for colour and progress bars).
pub fn stdout_is_tty() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal()
}

/// Wrap `text` in an ANSI colour when `enabled`.
pub fn paint(text: &str, colour: &str, enabled: bool) -> String {
    if !enabled {
        return text.to_owned();
    }
    let code = match colour {
        "green" => "32",
        "yellow" => "33",
        "red" => "31",
        "dim" => "2",
        _ => "0",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// A spinner on stderr while long work runs; hidden when stderr is not a terminal or `show` is
/// false (JSON output), so logs and pipes stay clean.
pub fn spinner(show: bool, message: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !show || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// How a column's cells line up: text to the left, numbers to the right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers, sizes, times.
    Right,
}

/// The one renderer of archbench's terminal tables: each column as wide as its widest cell
/// (header included), two spaces between columns, numbers right-aligned, no borders, nothing
/// after the last cell. comfy-table does the layout; this fixes its look once so that every
/// command's table agrees.
pub struct Table {
    inner: comfy_table::Table,
    indent: usize,
    align: Vec<Align>,
}

impl Table {
    /// A table with these column headers, each line indented by `indent` spaces.
    pub fn new(indent: usize, columns: &[(&str, Align)]) -> Self {
        let align: Vec<Align> = columns.iter().map(|(_, a)| *a).collect();
        let mut t = Self::headless(indent, &align);
        t.inner.set_header(columns.iter().map(|(h, _)| *h).collect::<Vec<_>>());
        t
    }

    /// A table without a header line, for rows that explain themselves.
    pub fn headless(indent: usize, align: &[Align]) -> Self {
        let mut inner = comfy_table::Table::new();
        inner.load_preset(comfy_table::presets::NOTHING);
        inner.set_content_arrangement(comfy_table::ContentArrangement::Disabled);
        Self { inner, indent, align: align.to_vec() }
    }

    /// Add a row (as many cells as columns; a missing one is empty).
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Self {
        self.inner.add_row(cells.into_iter().map(Into::into).collect::<Vec<String>>());
        self
    }

    /// The table as lines of text.
    pub fn render(&mut self) -> String {
        let last = self.align.len().saturating_sub(1);
        for (i, a) in self.align.iter().enumerate() {
            if let Some(c) = self.inner.column_mut(i) {
                c.set_padding((0, if i == last { 0 } else { 2 }));
                c.set_cell_alignment(match a {
                    Align::Left => comfy_table::CellAlignment::Left,
                    Align::Right => comfy_table::CellAlignment::Right,
                });
            }
        }
        let pad = " ".repeat(self.indent);
        self.inner.lines().map(|l| format!("{pad}{}\n", l.trim_end())).collect()
    }

    /// Print it on stdout.
    pub fn print(&mut self) {
        print!("{}", self.render());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_their_widest_cell_and_numbers_align_right() {
        let mut t = Table::new(
            2,
            &[("PLATFORM", Align::Left), ("SIZE", Align::Right), ("note", Align::Left)],
        );
        t.row(["linux/amd64", "1.2 MiB", ""]);
        t.row(["linux/arm/v7", "15.0 MiB", "emulated"]);
        assert_eq!(
            t.render(),
            "  PLATFORM          SIZE  note\n  linux/amd64    1.2 MiB\n  linux/arm/v7  15.0 MiB  emulated\n"
        );
        let mut t = Table::headless(0, &[Align::Left, Align::Right]);
        t.row(["a", "1"]).row(["bbb", "22"]);
        assert_eq!(t.render(), "a     1\nbbb  22\n");
    }
}

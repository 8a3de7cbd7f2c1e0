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

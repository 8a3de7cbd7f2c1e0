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

//! One module per subcommand.

mod doctor;

use clap::Subcommand;

/// The subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Check that this machine can emulate, build and run what archbench measures.
    Doctor(doctor::DoctorCommand),
}

impl Command {
    /// Run the chosen subcommand.
    pub fn execute(self) -> anyhow::Result<()> {
        match self {
            Command::Doctor(c) => c.execute(),
        }
    }
}

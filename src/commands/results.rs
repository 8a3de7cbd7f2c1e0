//! `archbench results merge`: results from several hosts in one directory that `plan` and
//! `report` read.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::output::print_json;

/// Combine results directories, from several hosts or runners, into one.
#[derive(Args)]
pub struct ResultsCommand {
    #[command(subcommand)]
    action: ResultsAction,
}

#[derive(Subcommand)]
enum ResultsAction {
    /// Copy every bench and build file of DIR... into -o DIR, at the current schema version,
    /// named by kind, platform, host and start time; refuse two files that claim the same host
    /// and run; list every file that is not used, with the reason.
    Merge {
        /// Results directories (`bench -o`, `build -o` files, one directory per host or runner).
        #[arg(value_name = "DIR", required = true)]
        dirs: Vec<PathBuf>,
        /// The merged directory (created; files merged into it before are kept).
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        output: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

impl ResultsCommand {
    pub fn execute(self) -> anyhow::Result<()> {
        let ResultsAction::Merge { dirs, output, json } = self.action;
        let m = archbench_results::merge::merge(&dirs, &output)
            .with_context(|| format!("merging into {}", output.display()))?;
        if json {
            print_json(&m)?;
        } else {
            for (to, from) in &m.written {
                println!("{} <- {}", to.display(), from.display());
            }
            for s in &m.skipped {
                eprintln!("skipped {}: {}", s.path.display(), s.why);
            }
            println!(
                "{} file(s) merged into {}{}",
                m.written.len(),
                output.display(),
                match m.already.len() {
                    0 => String::new(),
                    n => format!("; {n} already there from an earlier merge"),
                }
            );
        }
        // Nothing read is not success: a typo'd directory must not pass a script's `&&`.
        anyhow::ensure!(
            !m.found_nothing(),
            "nothing merged: {} hold no bench or build results file archbench can read{}",
            dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", "),
            if m.skipped.is_empty() {
                ""
            } else {
                " (the skipped files are listed above, each with its reason)"
            }
        );
        Ok(())
    }
}

//! The Markdown summary, fit for a CI job summary ($GITHUB_STEP_SUMMARY).

use std::fmt::Write as _;

use crate::{Chart, Inputs, Table};

/// The summary.
pub fn summary(inputs: &Inputs, charts: &[Chart]) -> String {
    let p = &inputs.plan.payload;
    let mut m = String::new();
    let _ = writeln!(m, "## archbench\n");
    let _ = writeln!(m, "Machine: {}\n", inputs.machines());
    for (i, l) in p.recommendation.iter().enumerate() {
        let _ = writeln!(m, "{} {l}", if i == 0 { "**→**" } else { "-" });
    }
    if let Some(t) = inputs.bench_table() {
        m.push('\n');
        m.push_str(&table_md(&t));
    }
    if let Some(b) = &inputs.build {
        let _ = writeln!(m, "\n| platform | strategy | builder | build (s) | without base pulls (s) | critical path (s) | ok |\n|---|---|---|---:|---:|---:|---|");
        for r in &b.payload.runs {
            let _ = writeln!(
                m,
                "| {} | {} | {} | {:.1} | {:.1} | {} | {} |",
                r.platform,
                r.strategy,
                match r.builder {
                    archbench_results::build::Builder::Buildkit => "BuildKit",
                    archbench_results::build::Builder::Classic => "classic",
                },
                r.seconds,
                r.work_seconds,
                r.timeline.map_or_else(|| "—".to_owned(), |t| format!("{:.1}", t.critical_path)),
                if r.ok { "yes" } else { "no" }
            );
        }
        for r in &b.payload.ratios {
            let _ = writeln!(m, "\n{}: **{:.2}×**", r.label(), r.ratio);
        }
        if let Some(one) = b.payload.one_solve() {
            let _ = writeln!(m, "\n{}", one.sentence());
        }
    }
    if let Some(t) = inputs.builders_table() {
        let _ = writeln!(m, "\nThe classic builder against BuildKit (cold, same measure):\n");
        m.push_str(&table_md(&t));
    }
    if let Some(t) = inputs.cold_warm_table() {
        let _ = writeln!(
            m,
            "\nCold builds against warm rebuilds (one changed source line, cache kept):\n"
        );
        m.push_str(&table_md(&t));
    }
    if let Some(t) = inputs.where_table() {
        let _ = writeln!(m, "\nWhich entry runs where (native, else Wasm, else emulated; modelled figures say so):\n");
        m.push_str(&table_md(&t));
    }
    let _ = writeln!(m, "\n| option | min per build | USD per month | |\n|---|---:|---:|---|");
    for c in &p.options {
        let status = match (&c.unavailable, c.meets_time_limit) {
            (Some(_), _) => "unavailable",
            (None, false) => "over the time limit",
            _ if Some(c.option) == p.recommended => "**recommended**",
            _ => "",
        };
        let _ = writeln!(
            m,
            "| {} | {:.1} | {:.2} | {status} |",
            c.option, c.minutes_per_build, c.total_monthly
        );
    }
    let modelled: Vec<&str> =
        p.factors.named().into_iter().filter(|(_, f)| f.is_modelled()).map(|(n, _)| n).collect();
    if !modelled.is_empty() {
        let _ = writeln!(m, "\nModelled, not measured: {}.", modelled.join(", "));
    }
    let _ = writeln!(
        m,
        "\nCharts: {}.",
        charts.iter().map(|c| format!("`charts/{}.svg`", c.name)).collect::<Vec<_>>().join(", ")
    );
    for n in &inputs.notes {
        let _ = writeln!(m, "\n> {n}");
    }
    m
}

/// A [`Table`] as Markdown, through the one escaping writer.
fn table_md(t: &Table) -> String {
    let headers: Vec<&str> = t.headers.iter().map(String::as_str).collect();
    archbench_results::markdown::table(&headers, &[], &t.rows)
}

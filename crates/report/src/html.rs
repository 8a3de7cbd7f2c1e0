//! The self-contained HTML page: styles inline, charts as data URIs, no request leaves it.

use archbench_plan::model::{Basis, Plan};
use base64::Engine as _;

use crate::{Chart, Inputs, Table};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd}figure{margin:1.5em 0}figure img{max-width:100%;border:1px solid #eee}\
figcaption{color:#444;font-size:.95em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}\
td.n{text-align:right}.modelled{color:#a33;font-weight:600}.rec{background:#f3f8f3;border-left:4px solid #3a3;padding:.6em 1em}.note{color:#666}";

/// The page.
pub fn page(inputs: &Inputs, charts: &[Chart]) -> String {
    let p = &inputs.plan.payload;
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">");
    h.push_str(&format!("<title>archbench report</title><style>{STYLE}</style></head><body>\n"));
    h.push_str("<h1>archbench: what multi-arch costs here</h1>\n");
    h.push_str(&format!(
        "<p class=\"note\">Machine: {}. Plan made {}.</p>\n",
        esc(&inputs.machines()),
        esc(&inputs.plan.started_at)
    ));
    h.push_str("<p>archbench measured, on the machines named above, what QEMU emulation, cross-compilation and WebAssembly cost for the same work, \
and priced the ways of producing arm64 images from those figures. Anything marked <span class=\"modelled\">modelled</span> could not be \
measured on them and is an assumption, stated with its reason; a factor marked given is the user's own figure (<code>--factor</code>).</p>\n");
    h.push_str("<div class=\"rec\"><strong>Recommendation.</strong><ul>");
    for l in &p.recommendation {
        h.push_str(&format!("<li>{}</li>", esc(l)));
    }
    h.push_str("</ul></div>\n");
    for c in charts {
        let data = base64::engine::general_purpose::STANDARD.encode(c.svg.as_bytes());
        h.push_str(&format!(
            "<h2>{}</h2><figure><img id=\"chart-{}\" alt=\"{}\" width=\"900\" height=\"480\" src=\"data:image/svg+xml;base64,{data}\"><figcaption>{}</figcaption></figure>\n",
            esc(c.title),
            c.name,
            esc(c.title),
            esc(&c.caption)
        ));
    }
    if let Some(t) = inputs.bench_table() {
        h.push_str("<h2>Bench results per host</h2><p>Median wall time per run, and the multiple of the same host's native run. \
A host marked emulated ran archbench itself under QEMU: its figures are never taken as native speed.</p>");
        h.push_str(&table_html(&t, 3));
    }
    if let Some(t) = inputs.build_table() {
        h.push_str(&format!("<h2>Builds</h2><p>Each build of <code>{}</code> in the order run, timed from the request to the image ID. \
The ratio compares the build's own work (its steps without base-image pulls) with the native build on the same host.</p>", esc(&inputs.build.as_ref().map(|b| b.payload.context.clone()).unwrap_or_default())));
        h.push_str(&table_html(&t, 3));
    }
    if let Some(t) = inputs.builders_table() {
        h.push_str("<h2>Classic builder and BuildKit</h2><p>The same builds by the engine's classic builder and by BuildKit, \
both without cache, timed from the request to the image ID. The classic builder commits a container after every step and runs \
stages one after another; BuildKit runs independent stages at once.</p>");
        h.push_str(&table_html(&t, 2));
    }
    if let Some(t) = inputs.cold_warm_table() {
        h.push_str("<h2>Cold and warm builds</h2><p>The same builds without a cache, and again after a one-line change to the \
sources with the cache kept, as a CI job that keeps its cache would rebuild. Steps before the changed file come from the cache; \
the compile and everything after it run again.</p>");
        h.push_str(&table_html(&t, 2));
    }
    if let Some(one) = inputs.build.as_ref().and_then(|b| b.payload.one_solve()) {
        h.push_str(&format!(
            "<h2>One solve for every platform</h2><p>The <code>multi</code> strategy sends one BuildKit solve for every platform, as <code>docker buildx build --platform</code> does, against the same platforms built one at a time on the same engine with the same builder (native for the engine's platform, cross for the rest, so each stage runs as in the solve). The times are BuildKit's: the time some step other than a base pull was running, because the first build of a series pulls the base and later ones find it stored. No figure is shown when a compared step came from the cache.</p><p>{}</p>",
            esc(&one.sentence())
        ));
    }
    if let Some(t) = inputs.where_table() {
        h.push_str("<h2>Which entry runs where</h2><p>The entry of the index with a Wasm entry that each kind of host runs, by the rule <code>archbench run</code> follows: its own platform if the index has it, else the Wasm module (in process, no emulation), else another platform under QEMU. The time is against a native build on that host; a figure not measured on such a host is labelled modelled.</p>");
        h.push_str(&table_html(&t, 3));
    }
    h.push_str(&options_table(p));
    h.push_str(&sensitivity_table(p));
    h.push_str("<h2>What the numbers rest on</h2><table><tr><th>factor</th><th>value</th><th>likely range</th><th>basis</th></tr>");
    for (n, f) in p.factors.named() {
        let basis = match &f.basis {
            Basis::Measured { from } => format!("measured: {}", esc(from)),
            Basis::Modelled { why } => {
                format!("<span class=\"modelled\">modelled</span>: {}", esc(why))
            }
            Basis::Given { from } => format!("given: {}", esc(from)),
        };
        let range = f.interval.map(|(lo, hi)| format!("{lo:.2}–{hi:.2}×")).unwrap_or_default();
        let left_out: String = f
            .excluded
            .iter()
            .map(|x| format!("<br>left out {}: {}", esc(&x.workload), esc(&x.why)))
            .collect();
        h.push_str(&format!(
            "<tr><td>{n}</td><td class=\"n\">{:.2}×</td><td class=\"n\">{range}</td><td>{basis}{left_out}</td></tr>",
            f.value
        ));
    }
    h.push_str("</table>\n");
    if let Some(c) = &p.migration.claim {
        h.push_str(&format!("<p class=\"note\">{}</p>\n", esc(c)));
    }
    if !inputs.notes.is_empty() {
        h.push_str("<h2>Notes</h2><ul>");
        for n in &inputs.notes {
            h.push_str(&format!("<li>{}</li>", esc(n)));
        }
        h.push_str("</ul>\n");
    }
    h.push_str("</body></html>\n");
    h
}

/// A [`Table`] as HTML, its columns from `numeric_from` on right-aligned.
fn table_html(t: &Table, numeric_from: usize) -> String {
    let mut h = String::from("<table><tr>");
    for c in &t.headers {
        h.push_str(&format!("<th>{}</th>", esc(c)));
    }
    h.push_str("</tr>");
    for row in &t.rows {
        h.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            let class = if i >= numeric_from { " class=\"n\"" } else { "" };
            h.push_str(&format!("<td{class}>{}</td>", esc(c)));
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>\n");
    h
}

fn options_table(p: &Plan) -> String {
    let waiting = p.options.iter().any(|c| c.waiting_monthly > 0.0);
    let mut h = format!(
        "<h2>Every way to build</h2><p class=\"note\">At {:.0} builds a month of {:.1} min, prices of {}. Hosted jobs are billed \
rounded up to whole minutes; the total adds {}the change in the service's running cost (Wasm).</p><table><tr><th>option</th>\
<th>min per build</th><th>billed min per build</th><th>builds USD/month</th>{}<th>runtime USD/month</th><th>total USD/month</th>\
<th>status</th></tr>",
        p.profile.builds_per_month,
        p.profile.minutes_per_build,
        esc(&p.priced_on),
        if waiting { "engineers' waiting time and " } else { "" },
        if waiting { "<th>waiting USD/month</th>" } else { "" }
    );
    for c in &p.options {
        let status = match (&c.unavailable, c.meets_time_limit, Some(c.option) == p.recommended) {
            (Some(why), _, _) => {
                format!("<span class=\"modelled\">unavailable</span>: {}", esc(why))
            }
            (None, false, _) => "over the wall-time limit".to_owned(),
            (None, true, true) => "<strong>recommended</strong>".to_owned(),
            (None, true, false) if p.within_margin.contains(&c.option) => {
                "within the margin".to_owned()
            }
            _ => String::new(),
        };
        let workers = if c.workers > 0.0 {
            format!(" ({:.0} worker, {:.0}% used)", c.workers, 100.0 * c.worker_utilisation)
        } else {
            String::new()
        };
        let wait = if waiting {
            format!("<td class=\"n\">{:.2}</td>", c.waiting_monthly)
        } else {
            String::new()
        };
        h.push_str(&format!(
            "<tr><td style=\"min-width:18em\"><strong>{}</strong><br><small>{}{}</small></td><td class=\"n\">{:.1}</td>\
<td class=\"n\">{:.0}</td><td class=\"n\">{:.2}</td>{wait}<td class=\"n\">{:.2}</td><td class=\"n\">{:.2}</td><td>{status}</td></tr>",
            c.option,
            esc(&c.description),
            workers,
            c.minutes_per_build,
            c.billed_minutes_per_build,
            c.build_monthly,
            c.runtime_monthly_delta,
            c.total_monthly
        ));
    }
    h.push_str("</table>\n");
    if !p.break_even.is_empty() {
        h.push_str("<table><tr><th>cheaper below</th><th>builds per month</th><th>cheaper from there on</th></tr>");
        for b in &p.break_even {
            h.push_str(&format!(
                "<tr><td>{}</td><td class=\"n\">{:.0}</td><td>{}</td></tr>",
                b.cheaper_below, b.builds_per_month, b.cheaper_from
            ));
        }
        h.push_str("</table>\n");
    }
    h
}

fn sensitivity_table(p: &Plan) -> String {
    let mut h = String::from(
        "<h2>Sensitivity</h2><table><tr><th>factor</th><th>value</th><th>decision</th><th>holds for</th><th>below</th><th>above</th></tr>",
    );
    for s in &p.sensitivity {
        let f = p.factors.get(s.factor);
        h.push_str(&format!(
            "<tr><td>{}{}</td><td class=\"n\">{:.2}×</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            s.factor.label(),
            if f.is_modelled() { " <span class=\"modelled\">modelled</span>" } else { "" },
            s.value,
            esc(&s.holds),
            s.range_text(),
            esc(s.below.as_deref().unwrap_or("—")),
            esc(s.above.as_deref().unwrap_or("—"))
        ));
    }
    h.push_str("</table>\n");
    h
}

//! The self-contained HTML page: styles inline, charts as data URIs, no request leaves it.

use archbench_plan::model::Basis;
use base64::Engine as _;

use crate::{Chart, Inputs};

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
        esc(&inputs.plan.host.summary()),
        esc(&inputs.plan.started_at)
    ));
    h.push_str("<p>archbench measured, on this machine, what QEMU emulation, cross-compilation and WebAssembly cost for the same work, \
and priced the ways of producing arm64 images from those figures. Anything marked <span class=\"modelled\">modelled</span> could not be \
measured here and is an assumption, stated with its reason.</p>\n");
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
    h.push_str("<h2>Strategies</h2><table><tr><th>strategy</th><th>what it does</th><th>min per build</th><th>USD per month</th></tr>");
    for s in &p.strategies {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{:.1}</td><td class=\"n\">{:.2}</td></tr>",
            esc(&s.name),
            esc(&s.description),
            s.minutes_per_build,
            s.monthly
        ));
    }
    h.push_str("</table>\n<h2>What the numbers rest on</h2><table><tr><th>factor</th><th>value</th><th>basis</th></tr>");
    for (n, f) in p.factors.named() {
        let basis = match &f.basis {
            Basis::Measured { from } => format!("measured: {}", esc(from)),
            Basis::Modelled { why } => {
                format!("<span class=\"modelled\">modelled</span>: {}", esc(why))
            }
        };
        h.push_str(&format!(
            "<tr><td>{n}</td><td class=\"n\">{:.2}×</td><td>{basis}</td></tr>",
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

//! The charts, each drawn once per backend (SVG and PNG) by the same function.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use archbench_plan::model::Plan;
use archbench_results::bench::{median, Cell as BenchCell, RunnerSpec};
use archbench_results::build::BuildReport;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{Error, Result};

/// Pixel size of every chart.
pub const SIZE: (u32, u32) = (900, 480);

const FONT_PATHS: [&str; 3] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
];

/// Register DejaVu Sans as plotters' "sans-serif" (text needs a real font for layout).
pub fn init_font() -> Result<()> {
    static DONE: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        let path =
            FONT_PATHS.iter().find(|p| std::path::Path::new(p).is_file()).ok_or_else(|| {
                "no DejaVu Sans font found (looked in /usr/share/fonts); install fonts-dejavu-core"
                    .to_owned()
            })?;
        let bytes = std::fs::read(path).map_err(|e| format!("reading {path}: {e}"))?;
        // plotters keeps registered fonts for the life of the process.
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
            .map_err(|_| format!("{path} is not a usable TrueType font"))
    })
    .clone()
    .map_err(Error::Font)
}

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

fn err<E: std::fmt::Debug>(e: E) -> Error {
    Error::Draw(format!("{e:?}"))
}

type Area<'a, DB> = DrawingArea<DB, Shift>;

/// Label for a category axis where category `i` spans `i..i+1`: its name at the middle tick.
fn category(names: &[String], v: f64) -> String {
    let i = v.floor() as usize;
    if (v - v.floor() - 0.5).abs() < 1e-6 && i < names.len() {
        names[i].clone()
    } else {
        String::new()
    }
}

/// The legend box every chart uses.
fn legend<'a, DB: DrawingBackend + 'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    at: SeriesLabelPosition,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(at)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 13))
        .draw()
        .map_err(err)
}

/// Slowdown vs native per workload × runner, median with its 95% CI, log scale: one panel per
/// host, side by side, each against that host's own native run and titled with the host's
/// label (which says "emulated" for a host that ran under QEMU).
pub fn slowdown<DB: DrawingBackend>(
    root: &Area<'_, DB>,
    hosts: &[(String, &[BenchCell])],
) -> Result<()> {
    root.fill(&WHITE).map_err(err)?;
    let panels = root.split_evenly((1, hosts.len().max(1)));
    for (area, (label, cells)) in panels.iter().zip(hosts) {
        let title = if hosts.len() == 1 {
            "Slowdown against native, median with 95% CI (log scale)".to_owned()
        } else {
            format!("{label}: × its own native")
        };
        slowdown_panel(area, &title, cells)?;
    }
    root.present().map_err(err)
}

fn slowdown_panel<DB: DrawingBackend>(
    root: &Area<'_, DB>,
    title: &str,
    cells: &[BenchCell],
) -> Result<()> {
    let ok: Vec<&BenchCell> = cells
        .iter()
        .filter(|c| c.runner != RunnerSpec::Native && c.ok() && c.slowdown.is_some())
        .collect();
    let mut workloads: Vec<String> = Vec::new();
    let mut runners: Vec<RunnerSpec> = Vec::new();
    for c in &ok {
        if !workloads.contains(&c.workload) {
            workloads.push(c.workload.clone());
        }
        if !runners.contains(&c.runner) {
            runners.push(c.runner.clone());
        }
    }
    let hi = ok.iter().map(|c| c.slowdown.expect("filtered").1 .1).fold(2.0f64, f64::max) * 6.0;
    let lo = ok.iter().map(|c| c.slowdown.expect("filtered").1 .0).fold(1.0f64, f64::min) * 0.7;
    let n = workloads.len().max(1) as f64;
    let names = workloads.clone();
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", if title.len() > 60 { 14 } else { 20 }))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(0.0..n, (lo..hi).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(workloads.len() * 2 + 1)
        .x_label_formatter(&|x: &f64| category(&names, *x))
        .y_desc("× native")
        .draw()
        .map_err(err)?;
    chart.draw_series(LineSeries::new([(0.0, 1.0), (n, 1.0)], BLACK.mix(0.4))).map_err(err)?;
    let r = runners.len().max(1) as f64;
    for (ri, runner) in runners.iter().enumerate() {
        let colour = PALETTE[ri % PALETTE.len()];
        let points: Vec<(f64, f64, f64, f64)> = ok
            .iter()
            .filter(|c| &c.runner == runner)
            .filter_map(|c| {
                let wi = workloads.iter().position(|w| w == &c.workload)? as f64;
                let (m, (l, h)) = c.slowdown?;
                Some((wi + (ri as f64 + 1.0) / (r + 1.0), l, m, h))
            })
            .collect();
        chart
            .draw_series(
                points
                    .iter()
                    .map(|&(x, l, m, h)| ErrorBar::new_vertical(x, l, m, h, colour.filled(), 6)),
            )
            .map_err(err)?
            .label(runner.to_string())
            .legend(move |(x, y)| Circle::new((x + 8, y), 4, colour.filled()));
        chart
            .draw_series(points.iter().map(|&(x, _, m, _)| Circle::new((x, m), 3, colour.filled())))
            .map_err(err)?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}

/// Horizontal stacked bars: one row per entry of `rows`, one coloured segment per entry of
/// `parts`; `segments[k][i]` is part `k`'s (start, length) in row `i`.
fn stacked_rows<DB: DrawingBackend>(
    root: &Area<'_, DB>,
    title: &str,
    label_width: u32,
    max: f64,
    rows: &[String],
    parts: &[String],
    segments: &[Vec<(f64, f64)>],
) -> Result<()> {
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(label_width)
        .build_cartesian_2d(0.0..max, 0.0..rows.len().max(1) as f64)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(rows.len() * 2 + 1)
        .y_label_formatter(&|y: &f64| category(rows, *y))
        .x_desc("seconds")
        .draw()
        .map_err(err)?;
    for (k, (part, row_segments)) in parts.iter().zip(segments).enumerate() {
        let colour = PALETTE[k % PALETTE.len()];
        let bars = row_segments.iter().enumerate().map(|(i, &(start, len))| {
            Rectangle::new(
                [(start, i as f64 + 0.2), (start + len, i as f64 + 0.8)],
                colour.filled(),
            )
        });
        chart
            .draw_series(bars)
            .map_err(err)?
            .label(part.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    root.present().map_err(err)
}

/// Per Wasm tier, the whole suite's compile, instantiate and run time (medians summed).
pub fn wasm_split<DB: DrawingBackend>(root: &Area<DB>, cells: &[BenchCell]) -> Result<()> {
    let mut tiers: BTreeMap<String, [f64; 3]> = BTreeMap::new();
    for c in cells.iter().filter(|c| c.ok()) {
        let RunnerSpec::Wasm(tier) = c.runner else { continue };
        let e = tiers.entry(tier.name().to_owned()).or_default();
        e[0] += c.compile_seconds.unwrap_or(0.0);
        let stage = |f: fn(&archbench_results::bench::WasmTimings) -> f64| {
            let v: Vec<f64> = c.samples.iter().filter_map(|s| s.wasm.as_ref().map(f)).collect();
            median(&v).unwrap_or(0.0)
        };
        e[1] += stage(|w| w.instantiate);
        e[2] += stage(|w| w.run);
    }
    let names: Vec<String> = tiers.keys().cloned().collect();
    let max = tiers.values().map(|v| v.iter().sum::<f64>()).fold(0.001, f64::max) * 1.15;
    let parts: Vec<String> = ["compile", "instantiate", "run"].map(String::from).to_vec();
    let segments: Vec<Vec<(f64, f64)>> =
        (0..3).map(|k| tiers.values().map(|v| (v[..k].iter().sum(), v[k])).collect()).collect();
    stacked_rows(
        root,
        "Wasm tiers: compile, instantiate and run, whole suite (seconds)",
        90,
        max,
        &names,
        &parts,
        &segments,
    )
}

/// Build time per stage, stacked, per platform × strategy.
pub fn build_stages<DB: DrawingBackend>(
    root: &Area<'_, DB>,
    build: &BuildReport,
    title: &str,
) -> Result<()> {
    let runs: Vec<_> = build.runs.iter().filter(|r| r.ok).collect();
    let names: Vec<String> =
        runs.iter().map(|r| format!("{} {}", r.platform, r.strategy)).collect();
    let max =
        runs.iter().map(|r| r.stages.iter().map(|s| s.seconds).sum::<f64>()).fold(1.0, f64::max)
            * 1.15;
    let mut stage_names: Vec<String> = Vec::new();
    for r in &runs {
        for s in &r.stages {
            if !stage_names.contains(&s.name) && s.seconds > 0.0 {
                stage_names.push(s.name.clone());
            }
        }
    }
    let segments: Vec<Vec<(f64, f64)>> = stage_names
        .iter()
        .map(|stage| {
            runs.iter()
                .map(|r| {
                    let before: f64 =
                        r.stages.iter().take_while(|s| &s.name != stage).map(|s| s.seconds).sum();
                    let own: f64 =
                        r.stages.iter().filter(|s| &s.name == stage).map(|s| s.seconds).sum();
                    (before, own)
                })
                .collect()
        })
        .collect();
    let parts: Vec<String> = stage_names.iter().map(|s| format!("stage {s}")).collect();
    stacked_rows(root, title, 160, max, &names, &parts, &segments)
}

/// BuildKit's timeline: one lane per platform × strategy, one bar per vertex from its start
/// to its end (seconds from the lane's first vertex). Vertices that overlap in time get rows of
/// their own inside the lane, so parallel stages show side by side. Colour is the stage
/// (grey for BuildKit's own work); a cached vertex is drawn faint.
// Long (about 80 lines): the lanes, the packing of overlapping vertices into rows, and the
// legend of stages, drawn in one pass over the chart.
pub fn timeline<DB: DrawingBackend>(root: &Area<DB>, build: &BuildReport) -> Result<()> {
    root.fill(&WHITE).map_err(err)?;
    let runs: Vec<_> = build.runs.iter().filter(|r| !r.vertices.is_empty()).collect();
    let names: Vec<String> =
        runs.iter().map(|r| format!("{} {}", r.platform, r.strategy)).collect();
    let max = runs.iter().flat_map(|r| r.vertices.iter().map(|v| v.end)).fold(1.0, f64::max) * 1.05;
    let mut stages: Vec<String> = Vec::new();
    for v in runs.iter().flat_map(|r| &r.vertices) {
        if let Some(s) = &v.stage {
            if !stages.contains(s) {
                stages.push(s.clone());
            }
        }
    }
    let mut chart = ChartBuilder::on(root)
        .caption("BuildKit timeline: every vertex of every build (seconds)", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(160)
        .build_cartesian_2d(0.0..max, 0.0..runs.len().max(1) as f64)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(runs.len() * 2 + 1)
        .y_label_formatter(&|y: &f64| category(&names, *y))
        .x_desc("seconds from the build's first vertex")
        .draw()
        .map_err(err)?;
    let colour =
        |stage: Option<&String>| match stage.and_then(|s| stages.iter().position(|x| x == s)) {
            Some(i) => PALETTE[i % (PALETTE.len() - 1)],
            None => PALETTE[PALETTE.len() - 1],
        };
    for (lane, r) in runs.iter().enumerate() {
        // Greedy interval packing: each vertex takes the first row free at its start.
        let mut row_ends: Vec<f64> = Vec::new();
        let mut placed: Vec<(usize, &archbench_results::build::VertexTiming)> = Vec::new();
        let mut order: Vec<_> = r.vertices.iter().collect();
        order.sort_by(|a, b| a.start.total_cmp(&b.start));
        for v in order {
            let row = match row_ends.iter().position(|&end| end <= v.start) {
                Some(i) => i,
                None => {
                    row_ends.push(0.0);
                    row_ends.len() - 1
                }
            };
            row_ends[row] = v.end.max(v.start);
            placed.push((row, v));
        }
        let rows = row_ends.len().max(1) as f64;
        let h = 0.8 / rows;
        chart
            .draw_series(placed.iter().map(|&(row, v)| {
                let y0 = lane as f64 + 0.1 + row as f64 * h;
                let c = colour(v.stage.as_ref());
                let style = if v.cached { c.mix(0.3).filled() } else { c.filled() };
                // A vertex of no measurable length still gets a sliver, so it is seen.
                let end = v.end.max(v.start + max / 400.0);
                Rectangle::new([(v.start, y0 + h * 0.1), (end, y0 + h * 0.9)], style)
            }))
            .map_err(err)?;
    }
    for (i, s) in stages.iter().enumerate() {
        let c = PALETTE[i % (PALETTE.len() - 1)];
        chart
            .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())
            .map_err(err)?
            .label(format!("stage {s}"))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled()));
    }
    let grey = PALETTE[PALETTE.len() - 1];
    chart
        .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())
        .map_err(err)?
        .label("BuildKit's own (context, export)")
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], grey.filled()));
    legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    root.present().map_err(err)
}

/// Dash and gap lengths (pixels) of the cost curves, by option: 0 is a solid line.
const DASHES: [(u32, u32); 4] = [(0, 0), (10, 5), (3, 4), (16, 4)];

/// Total monthly cost against builds per month, one line per option (each its own colour and
/// line style, the recommended one thicker, unavailable ones faint), a marker at the user's
/// volume, and the break-even points of the recommended option labelled beside them.
pub fn cost_curves<DB: DrawingBackend>(root: &Area<DB>, plan: &Plan) -> Result<()> {
    root.fill(&WHITE).map_err(err)?;
    let max_n = plan.curve.last().map(|p| p.builds_per_month).unwrap_or(1.0).max(1.0);
    let all = || plan.curve.iter().flat_map(|p| p.monthly.iter().copied());
    let max_c = all().fold(1.0, f64::max) * 1.1;
    let min_c = all().fold(0.0, f64::min) * 1.1;
    let mut chart = ChartBuilder::on(root)
        .caption("Monthly cost of each way to build against volume (USD)", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..max_n, min_c..max_c)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("builds per month")
        .y_desc("USD per month")
        .draw()
        .map_err(err)?;
    // The recommended option's thick line is drawn first, so that the thinner ones of options
    // close to it in cost stay visible on top of it.
    let mut order: Vec<usize> = (0..plan.options.len()).collect();
    order.sort_by_key(|&i| Some(plan.options[i].option) != plan.recommended);
    for i in order {
        let o = &plan.options[i];
        let base = PALETTE[i % PALETTE.len()];
        let recommended = Some(o.option) == plan.recommended;
        let (colour, width) = match (&o.unavailable, recommended) {
            (Some(_), _) => (base.mix(0.35), 1),
            (None, true) => (base.mix(1.0), 5),
            (None, false) => (base.mix(1.0), 2),
        };
        let label = match (&o.unavailable, recommended) {
            (Some(_), _) => format!("{} (unavailable)", o.option),
            (None, true) => format!("{} (recommended)", o.option),
            (None, false) => o.option.to_string(),
        };
        let points = plan.curve.iter().map(move |p| (p.builds_per_month, p.monthly[i]));
        // Options close in cost draw on top of each other (cross, cross-matrix and hosted arm64
        // are within a few dollars): a line style per option keeps each one visible.
        let style = colour.stroke_width(width);
        let (dash, gap) = DASHES[i % DASHES.len()];
        let anno = if dash == 0 {
            chart.draw_series(LineSeries::new(points, style)).map_err(err)?
        } else {
            chart.draw_series(DashedLineSeries::new(points, dash, gap, style)).map_err(err)?
        };
        anno.label(label).legend(move |(x, y)| {
            if dash == 0 {
                PathElement::new([(x, y), (x + 24, y)], style).into_dyn()
            } else {
                DashedPathElement::new([(x, y), (x + 24, y)], dash, gap, style).into_dyn()
            }
        });
    }
    mark_volume_and_break_evens(&mut chart, root, plan, (max_n, min_c, max_c))?;
    legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    root.present().map_err(err)
}

/// The cost chart's markers: the user's volume (a vertical line, and the recommended option's
/// cost there) and the recommended option's break-evens, each labelled beside its point. `span`
/// is the chart's (volume, lowest cost, highest cost).
fn mark_volume_and_break_evens<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    root: &Area<'_, DB>,
    plan: &Plan,
    (max_n, min_c, max_c): (f64, f64, f64),
) -> Result<()> {
    let at_volume = |i: usize, n: f64| {
        plan.curve
            .windows(2)
            .find(|w| w[0].builds_per_month <= n && n <= w[1].builds_per_month)
            .map(|w| {
                let t = (n - w[0].builds_per_month)
                    / (w[1].builds_per_month - w[0].builds_per_month).max(1e-9);
                w[0].monthly[i] + t * (w[1].monthly[i] - w[0].monthly[i])
            })
            .unwrap_or(0.0)
    };
    // Labels sit beside their point: to its right in the left half, to its left (anchored by
    // their right end) in the right half.
    let beside = |x: f64| {
        let font = ("sans-serif", 13).into_font();
        if x > max_n * 0.5 {
            (font.into_text_style(root).pos(Pos::new(HPos::Right, VPos::Bottom)), -8)
        } else {
            (font.into_text_style(root).pos(Pos::new(HPos::Left, VPos::Bottom)), 8)
        }
    };
    let idx = |o| plan.options.iter().position(|c| c.option == o);
    // The user's volume: a vertical line, and the recommended option's cost there.
    let n = plan.profile.builds_per_month;
    if n <= max_n {
        chart
            .draw_series(DashedLineSeries::new(
                [(n, min_c), (n, max_c)],
                4,
                4,
                BLACK.mix(0.6).stroke_width(1),
            ))
            .map_err(err)?;
        if let Some(i) = plan.recommended.and_then(idx) {
            let cost = at_volume(i, n);
            let (style, dx) = beside(n);
            let text = format!("your volume, {n:.0}: {} ${cost:.2}", plan.options[i].option);
            chart
                .draw_series([EmptyElement::at((n, cost))
                    + Rectangle::new([(-5, -5), (5, 5)], BLACK.filled())
                    + Text::new(text, (dx, -8), style)])
                .map_err(err)?;
        }
    }
    let marked = plan.break_even.iter().filter(|b| {
        b.builds_per_month <= max_n
            && (Some(b.cheaper_below) == plan.recommended
                || Some(b.cheaper_from) == plan.recommended)
    });
    for b in marked {
        let Some(i) = idx(b.cheaper_from) else { continue };
        let at = at_volume(i, b.builds_per_month);
        let text = format!("{} = {} at {:.0}", b.cheaper_below, b.cheaper_from, b.builds_per_month);
        let (style, dx) = beside(b.builds_per_month);
        chart
            .draw_series([EmptyElement::at((b.builds_per_month, at))
                + Circle::new((0, 0), 6, BLACK.stroke_width(2))
                + Text::new(text, (dx, -8), style)])
            .map_err(err)?;
    }
    Ok(())
}

/// The sensitivity "tornado": per factor, the range (as a multiple of its value, log scale)
/// over which the decision it feeds holds, with the factor's likely range as a whisker and
/// what the decision turns into past each edge.
pub fn sensitivity<DB: DrawingBackend>(root: &Area<DB>, plan: &Plan) -> Result<()> {
    root.fill(&WHITE).map_err(err)?;
    let rows = &plan.sensitivity;
    let n = rows.len().max(1) as f64;
    let names: Vec<String> = rows
        .iter()
        .map(|s| {
            format!(
                "{} {:.2}×, {}",
                s.factor.label(),
                s.value,
                plan.factors.get(s.factor).basis_word()
            )
        })
        .collect();
    let mut chart = ChartBuilder::on(root)
        .caption("How far each factor may move before the choice changes", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(230)
        .build_cartesian_2d((0.04f64..25.0).log_scale(), 0.0..n)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(rows.len() * 2 + 1)
        .y_label_formatter(&|y: &f64| category(&names, *y))
        .x_desc("× the factor's value (1 = as measured, modelled or given)")
        .draw()
        .map_err(err)?;
    chart.draw_series(LineSeries::new([(1.0, 0.0), (1.0, n)], BLACK.mix(0.5))).map_err(err)?;
    for (i, s) in rows.iter().enumerate() {
        let y = i as f64;
        let colour = if s.modelled { PALETTE[3] } else { PALETTE[0] };
        let (lo, hi) = (s.low / s.value, s.high / s.value);
        chart
            .draw_series([Rectangle::new(
                [(lo, y + 0.25), (hi, y + 0.75)],
                colour.mix(0.55).filled(),
            )])
            .map_err(err)?;
        if let Some((a, b)) = s.interval {
            let (a, b) = (a / s.value, b / s.value);
            chart
                .draw_series([
                    PathElement::new([(a, y + 0.5), (b, y + 0.5)], BLACK.stroke_width(2)),
                    PathElement::new([(a, y + 0.35), (a, y + 0.65)], BLACK.stroke_width(2)),
                    PathElement::new([(b, y + 0.35), (b, y + 0.65)], BLACK.stroke_width(2)),
                ])
                .map_err(err)?;
        }
        let mut labels =
            vec![(format!("{}: {}", s.holds, relative_range(s)), (lo.max(0.045), y + 0.92))];
        if let Some(b) = &s.below {
            labels.push((format!("→ {b}"), ((lo / 2.6).max(0.042), y + 0.62)));
        }
        if let Some(a) = &s.above {
            labels.push((format!("→ {a}"), ((hi * 1.05).min(9.0), y + 0.62)));
        }
        chart
            .draw_series(labels.into_iter().map(|(t, at)| Text::new(t, at, ("sans-serif", 12))))
            .map_err(err)?;
    }
    root.present().map_err(err)
}

/// A sensitivity range in the tornado's unit, multiples of the factor's value: `×0.31–×1.05`.
fn relative_range(s: &archbench_plan::sensitivity::Sensitivity) -> String {
    let (lo, hi) = (s.low / s.value, s.high / s.value);
    match (&s.below, &s.above) {
        (Some(_), Some(_)) => format!("×{lo:.2}–×{hi:.2} of its value"),
        (None, Some(_)) => format!("up to ×{hi:.2} of its value"),
        (Some(_), None) => format!("from ×{lo:.2} of its value"),
        (None, None) => "at any value tried".to_owned(),
    }
}

/// The service's monthly cost on x86 and on arm64.
pub fn runtime_cost<DB: DrawingBackend>(root: &Area<DB>, plan: &Plan) -> Result<()> {
    root.fill(&WHITE).map_err(err)?;
    let m = &plan.migration;
    let max = m.x86_monthly.max(m.arm64_monthly).max(1.0) * 1.2;
    let caption = if m.modelled {
        "Service cost per month, x86 vs arm64 (arm64 speed MODELLED)"
    } else {
        "Service cost per month, x86 vs arm64 (arm64 speed measured)"
    };
    let mut chart = ChartBuilder::on(root)
        .caption(caption, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..2.0, 0.0..max)
        .map_err(err)?;
    let labels = [format!("x86 {}", m.x86_instance), format!("arm64 {}", m.arm64_instance)];
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(5)
        .x_label_formatter(&|x: &f64| category(&labels, *x))
        .y_desc("USD per month")
        .draw()
        .map_err(err)?;
    for (i, v) in [m.x86_monthly, m.arm64_monthly].iter().enumerate() {
        let colour = PALETTE[i];
        chart
            .draw_series([Rectangle::new(
                [(i as f64 + 0.25, 0.0), (i as f64 + 0.75, *v)],
                colour.filled(),
            )])
            .map_err(err)?;
        chart
            .draw_series([Text::new(
                format!("${v:.2}"),
                (i as f64 + 0.38, *v + max * 0.03),
                ("sans-serif", 15),
            )])
            .map_err(err)?;
    }
    root.present().map_err(err)
}

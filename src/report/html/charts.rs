//! The SVG charts of report.html: the timeline of checks per worker and the perf budgets
//! (TTFB p50/p95 per probe against budget and baseline). Plain SVG, drawn here: a chart crate
//! would bring a rendering stack for some rectangles and lines.

use super::{STATUSES, duration};
use crate::evidence::archive::{Archive, CheckView, PerfTable};
use crate::outcome::Status;
use crate::report::critical_path::{Node, critical_path};
use maud::{Markup, html};

/// One bar of the timeline.
struct Bar<'a> {
    row: String,
    id: &'a str,
    status: Status,
    start: u64,
    length: u64,
    /// On the critical path (the longest chain of checks that waited for each other).
    critical: bool,
}

/// Roughly how many pixels a character of a bar's label takes (11px sans-serif).
const LABEL_CHAR_PX: f64 = 6.2;

/// The part of `id` that fits in a bar `width` px wide (`…` when cut); empty when too narrow.
fn bar_label(id: &str, width: f64) -> String {
    let fits = ((width - 6.0) / LABEL_CHAR_PX).floor().max(0.0) as usize;
    let count = id.chars().count();
    if fits >= count {
        id.to_string()
    } else if fits >= 4 {
        id.chars().take(fits - 1).chain(['…']).collect()
    } else {
        String::new()
    }
}

pub(super) fn timeline(archive: &Archive) -> Markup {
    let checks: Vec<CheckView> = archive.checks().collect();
    let scheduled = checks
        .iter()
        .any(|c| c.run.is_some_and(|r| r.worker.is_some()));
    let mut bars: Vec<Bar> = Vec::new();
    // The chain no schedule could shorten, from what each check waited for in the run.
    let ran: Vec<&crate::summary::RunCheck> = checks.iter().filter_map(|c| c.run).collect();
    let nodes: Vec<Node> = ran
        .iter()
        .map(|r| Node {
            id: &r.id,
            duration_ms: r.duration_ms,
            waited_for: &r.waited_for,
        })
        .collect();
    let (chain, critical_ms) = critical_path(&nodes);
    let on_chain = |id: &str| chain.iter().any(|&i| ran[i].id == id);
    if scheduled {
        // A worker runs one check at a time: one row per worker never overlaps, and checks
        // that ran at the same time stand one above the other.
        for c in &checks {
            if let Some(r) = c.run
                && let (Some(worker), Some(start)) = (r.worker, r.started_ms)
            {
                bars.push(Bar {
                    row: format!("worker {worker}"),
                    id: c.id(),
                    status: c.verdict.status,
                    start,
                    length: r.duration_ms,
                    critical: on_chain(c.id()),
                });
            }
        }
    } else {
        // Before start times were recorded: each lane back to back from 0 (a lane's checks
        // always ran in order on one worker; when lanes overlapped is unknown).
        let mut ends: Vec<(String, u64)> = Vec::new();
        for c in &checks {
            let Some(r) = c.run else { continue };
            let lane = c.verdict.lane.clone();
            let start = ends.iter().find(|(l, _)| *l == lane).map_or(0, |(_, e)| *e);
            match ends.iter_mut().find(|(l, _)| *l == lane) {
                Some(entry) => entry.1 = start + r.duration_ms,
                None => ends.push((lane.clone(), start + r.duration_ms)),
            }
            bars.push(Bar {
                row: lane,
                id: c.id(),
                status: c.verdict.status,
                start,
                length: r.duration_ms,
                critical: false,
            });
        }
    }
    let mut rows: Vec<String> = Vec::new();
    for bar in &bars {
        if !rows.contains(&bar.row) {
            rows.push(bar.row.clone());
        }
    }
    if scheduled {
        rows.sort_by_key(|r| {
            r.trim_start_matches("worker ")
                .parse::<usize>()
                .unwrap_or(usize::MAX)
        });
    }
    let end = bars
        .iter()
        .map(|b| b.start + b.length)
        .max()
        .unwrap_or(0)
        .max(1);
    // Before start times were recorded, a lane's checks ran back to back: the row that
    // finishes last was the critical path.
    let critical_row = (!scheduled)
        .then(|| {
            rows.iter().max_by_key(|row| {
                bars.iter()
                    .filter(|b| &b.row == *row)
                    .map(|b| b.start + b.length)
                    .max()
            })
        })
        .flatten()
        .cloned();
    for bar in bars.iter_mut() {
        bar.critical |= critical_row.as_ref() == Some(&bar.row);
    }
    const LABEL: f64 = 130.0;
    const WIDTH: f64 = 1000.0;
    const ROW: f64 = 24.0;
    let plot = WIDTH - LABEL - 10.0;
    let x = |ms: u64| LABEL + plot * ms as f64 / end as f64;
    let height = ROW * rows.len() as f64 + 30.0;
    html! {
        section #timeline {
            h2 { "Timeline" }
            p.muted {
                @if scheduled {
                    "Each check is a bar on the worker that ran it; bars one above the other ran at the same time. "
                    "Outlined: the critical path, the longest chain of checks that waited for each other ("
                    (chain.len()) " check(s), " (duration(critical_ms)) " of the run's " (duration(end)) ")."
                } @else {
                    "This folder predates recorded start times: each lane is drawn from 0, its checks back to back."
                }
            }
            div.legend {
                @for status in STATUSES { span { span class={ "swatch " (status.as_str()) } {} (status.as_str()) } }
            }
            svg #timeline-chart viewBox={ "0 0 " (WIDTH) " " (height) } role="img" aria-label="Timeline of the checks" {
                @for i in 0..=4u64 {
                    line.grid x1=(f1(x(end * i / 4))) x2=(f1(x(end * i / 4))) y1="0" y2=(height - 18.0) {}
                    text x=(f1(x(end * i / 4))) y=(height - 4.0) text-anchor=(tick_anchor(i)) { (duration(end * i / 4)) }
                }
                @for (index, row) in rows.iter().enumerate() {
                    text x="4" y=(ROW * index as f64 + 16.0) { (row) }
                    @for bar in bars.iter().filter(|b| &b.row == row) {
                        @let class = if bar.critical {
                            format!("bar {} critical", bar.status.as_str())
                        } else {
                            format!("bar {}", bar.status.as_str())
                        };
                        @let width = (x(bar.start + bar.length) - x(bar.start)).max(2.0);
                        @let label = bar_label(bar.id, width);
                        a href={ "#details-" (bar.id) } {
                            rect class=(class)
                                data-check=(bar.id)
                                x=(f1(x(bar.start)))
                                y=(ROW * index as f64 + 4.0)
                                width=(f1(width))
                                height=(ROW - 8.0) {
                                title { (bar.id) " · " (bar.status.as_str()) " · " (duration(bar.length)) " from " (duration(bar.start)) }
                            }
                            @if !label.is_empty() {
                                text.bar-label x=(f1(x(bar.start) + 3.0)) y=(ROW * index as f64 + 16.0) { (label) }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub(super) fn perf(archive: &Archive) -> Markup {
    let tables = archive.perf_tables();
    if tables.is_empty() {
        return html! {};
    }
    html! {
        section #perf {
            h2 { "Perf budgets" }
            div.legend {
                span { span.swatch.p50 {} "TTFB p50" }
                span { span.swatch.p95 {} "TTFB p95" }
                span { span.swatch.budget {} "budget" }
                span { span.swatch.baseline {} "baseline" }
            }
            @for table in &tables { (perf_table(table)) }
        }
    }
}

/// A duration in milliseconds with its unit, precise enough below 1 ms (`0.42 ms`, loopback
/// answers) and not noisy above it (`12.3 ms`); `-` when absent.
fn ms(value: Option<f64>) -> String {
    value.map_or("-".to_string(), |v| {
        if v.abs() < 1.0 {
            format!("{v:.2} ms")
        } else {
            format!("{v:.1} ms")
        }
    })
}

/// A logarithmic axis over whole decades of milliseconds: a 0.4 ms loopback answer and a
/// 500 ms budget both stay readable on one chart (a linear axis drew the first as one pixel).
#[derive(Debug, Clone, Copy, PartialEq)]
struct LogAxis {
    /// log10 of the first and last decade.
    low: i32,
    high: i32,
}

impl LogAxis {
    fn fit(values: impl Iterator<Item = f64>) -> LogAxis {
        let positive: Vec<f64> = values.filter(|v| v.is_finite() && *v > 0.0).collect();
        let low = positive.iter().copied().fold(f64::INFINITY, f64::min);
        let high = positive.iter().copied().fold(0.0_f64, f64::max);
        if positive.is_empty() {
            return LogAxis { low: 0, high: 1 };
        }
        let low = low.log10().floor() as i32;
        let high = (high.log10().ceil() as i32).max(low + 1);
        LogAxis { low, high }
    }

    /// Where `value` sits, 0 at the first decade, 1 at the last; nothing falls outside.
    fn fraction(self, value: f64) -> f64 {
        let low = f64::from(self.low);
        let span = f64::from(self.high - self.low);
        let at = if value > 0.0 { value.log10() } else { low };
        ((at - low) / span).clamp(0.0, 1.0)
    }

    /// Each decade from the first to the last, with its label (`0.1 ms`, `1 ms`, `10 ms`).
    fn decades(self) -> Vec<(f64, String)> {
        (self.low..=self.high)
            .map(|e| {
                let decimals = usize::try_from(-e).unwrap_or(0);
                (10f64.powi(e), format!("{:.*} ms", decimals, 10f64.powi(e)))
            })
            .collect()
    }
}

/// A size in bytes with its unit; `-` when absent.
fn bytes(value: Option<f64>) -> String {
    value.map_or("-".to_string(), |v| format!("{v:.0} B"))
}

fn perf_table(table: &PerfTable) -> Markup {
    let target = table.target.as_deref().unwrap_or(&table.check_id);
    let axis = LogAxis::fit(
        table
            .rows
            .iter()
            .flat_map(|r| [r.ttfb_p95, r.ttfb_p50, r.budget_ttfb_ms, r.baseline_ttfb_ms])
            .flatten(),
    );
    const LABEL: f64 = 200.0;
    const WIDTH: f64 = 1000.0;
    const ROW: f64 = 30.0;
    let plot = WIDTH - LABEL - 80.0;
    let x = |v: f64| LABEL + plot * axis.fraction(v);
    let height = ROW * table.rows.len() as f64 + 24.0;
    html! {
        h3 { (target) " " span.muted { "(" a href={ "#details-" (table.check_id) } { (table.check_id) } ")" } }
        svg.perf-chart data-check=(table.check_id) viewBox={ "0 0 " (WIDTH) " " (height) } role="img"
            aria-label={ "TTFB per probe against budget and baseline, " (target) } {
            @let ticks = axis.decades();
            @for (i, (v, label)) in ticks.iter().enumerate() {
                line.grid x1=(f1(x(*v))) x2=(f1(x(*v))) y1="0" y2=(height - 18.0) {}
                text.tick x=(f1(x(*v))) y=(height - 4.0) text-anchor=(if i + 1 == ticks.len() { "end" } else { "middle" }) { (label) }
            }
            @for (i, row) in table.rows.iter().enumerate() {
                @let y = ROW * i as f64 + 4.0;
                g class=(if row.passed { "perf-mark" } else { "perf-mark over" }) data-probe=(row.probe) data-target=(target) {
                    title {
                        (row.probe) " (" (target) "): TTFB p50 " (ms(row.ttfb_p50)) ", p95 " (ms(row.ttfb_p95))
                        ", budget " (ms(row.budget_ttfb_ms)) ", baseline " (ms(row.baseline_ttfb_ms))
                    }
                    text x="4" y=(y + 15.0) { (row.probe) }
                    @if let Some(p95) = row.ttfb_p95 {
                        rect.p95 x=(LABEL) y=(y) width=(f1((x(p95) - LABEL).max(1.0))) height="20" {}
                    }
                    @if let Some(p50) = row.ttfb_p50 {
                        rect.p50 x=(LABEL) y=(y + 5.0) width=(f1((x(p50) - LABEL).max(1.0))) height="10" {}
                    }
                    @if let Some(budget) = row.budget_ttfb_ms {
                        line.budget x1=(f1(x(budget))) x2=(f1(x(budget))) y1=(y - 2.0) y2=(y + 22.0) {}
                    }
                    @if let Some(baseline) = row.baseline_ttfb_ms {
                        line.baseline x1=(f1(x(baseline))) x2=(f1(x(baseline))) y1=(y - 2.0) y2=(y + 22.0) {}
                    }
                    text x=(WIDTH - 66.0) y=(y + 15.0) { (ms(row.ttfb_p95)) }
                }
            }
        }
        table.perf-table {
            thead { tr {
                th { "Probe" } th.num { "TTFB p50" } th.num { "p95" } th.num { "budget" }
                th.num { "baseline" } th.num { "Δ baseline" } th.num { "size max" } th.num { "size budget" } th { "Result" }
            } }
            tbody {
                @for row in &table.rows {
                    tr {
                        td { (row.probe) }
                        td.num { (ms(row.ttfb_p50)) } td.num { (ms(row.ttfb_p95)) }
                        td.num { (ms(row.budget_ttfb_ms)) } td.num { (ms(row.baseline_ttfb_ms)) }
                        td.num { (row.delta_ttfb_ms.map_or("-".to_string(), |d| format!("{}{}", if d >= 0.0 { "+" } else { "" }, ms(Some(d))))) }
                        td.num { (bytes(row.size_bytes_max)) }
                        td.num { (bytes(row.budget_bytes)) }
                        td { @if row.passed { span.status.passed { "pass" } } @else { span.status.failed { "fail" } " " (row.detail) } }
                    }
                }
            }
        }
    }
}

/// The last tick of an axis ends at its line, so its label stays inside the chart.
fn tick_anchor(tick: u64) -> &'static str {
    if tick == 4 { "end" } else { "middle" }
}

/// A coordinate with one decimal: enough for a 1000-wide viewBox, and a smaller page.
fn f1(value: f64) -> String {
    format!("{value:.1}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_perf_axis_keeps_sub_millisecond_values_readable_next_to_budgets() {
        let axis = LogAxis::fit([0.4, 0.6, 38.1, 500.0].into_iter());
        assert_eq!(axis, LogAxis { low: -1, high: 3 });
        let labels: Vec<String> = axis.decades().into_iter().map(|(_, l)| l).collect();
        assert_eq!(labels, ["0.1 ms", "1 ms", "10 ms", "100 ms", "1000 ms"]);
        // 0.4 ms gets a bar of about a seventh of the plot, not one pixel of it.
        assert!(axis.fraction(0.4) > 0.1, "{}", axis.fraction(0.4));
        assert!(axis.fraction(0.4) < axis.fraction(0.6));
        assert_eq!(axis.fraction(0.0), 0.0);
        assert_eq!(
            LogAxis::fit(std::iter::empty()),
            LogAxis { low: 0, high: 1 }
        );
    }

    #[test]
    fn every_duration_has_its_unit() {
        assert_eq!(ms(Some(0.42)), "0.42 ms");
        assert_eq!(ms(Some(12.34)), "12.3 ms");
        assert_eq!(ms(None), "-");
        assert_eq!(bytes(Some(163.0)), "163 B");
    }
}

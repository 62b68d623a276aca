//! The chart: Redis hits per second against concurrent tasks, for `#[cached]`, raw redis-rs
//! and the `cached` crate, pinned (solid) and spread (dashed), written as SVG to
//! `docs/bench/throughput.svg` at the workspace root.

use std::path::PathBuf;

use plotters::prelude::*;

use crate::concurrency::{LEVELS, LIBS};
use crate::measure::Results;

/// The points (tasks, thousand hits per second) of one mode and library.
type Series<'a> = dyn Fn(&str, &str) -> Vec<(f64, f64)> + 'a;

/// Where the chart goes.
fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/bench/throughput.svg")
}

/// Draws the chart from the concurrency figures; returns its path.
pub fn write(results: &Results) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let path = path();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let series = |mode: &str, lib: &str| -> Vec<(f64, f64)> {
        LEVELS
            .iter()
            .filter_map(|&n| {
                results
                    .get(&format!("{mode}.conc_distinct.{n}.{lib}"))
                    .map(|ops| (n as f64, ops / 1000.0))
            })
            .collect()
    };
    let top = ["pinned", "spread"]
        .iter()
        .flat_map(|mode| LIBS.iter().flat_map(move |lib| series(mode, lib)))
        .map(|(_, y)| y)
        .fold(0.0f64, f64::max);
    draw(&path, top, &series)?;
    Ok(path)
}

/// Draws the series into an SVG file at `path`.
fn draw(
    path: &std::path::Path,
    top: f64,
    series: &Series<'_>,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Redis hits per second vs concurrent tasks, a key per task",
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((0.8f64..320.0f64).log_scale(), 0.0..top * 1.1 + 1.0)?;
    chart
        .configure_mesh()
        .x_desc("concurrent tasks")
        .y_desc("thousand hits per second")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .draw()?;
    let colors = [
        RGBColor(31, 119, 180),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
    ];
    let names = [
        "cache-runtime #[cached]",
        "raw redis-rs GET+decode",
        "cached crate",
    ];
    for ((lib, color), name) in LIBS.iter().zip(colors).zip(names) {
        let pinned = series("pinned", lib);
        if !pinned.is_empty() {
            chart
                .draw_series(LineSeries::new(pinned, color.stroke_width(2)).point_size(4))?
                .label(format!("{name} (pinned)"))
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color));
        }
        let spread = series("spread", lib);
        if !spread.is_empty() {
            chart
                .draw_series(DashedLineSeries::new(
                    spread,
                    6,
                    4,
                    color.mix(0.7).stroke_width(2),
                ))?
                .label(format!("{name} (spread)"))
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 8, y)], color.mix(0.7).stroke_width(2))
                });
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    root.present()?;
    Ok(())
}

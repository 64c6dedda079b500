//! The README's chart: every figure measured as a ratio against a floor from the same run, one
//! bar each, with its target drawn across it.

use plotters::prelude::*;

/// Draws `ratios` (label, measured / floor, target bound) to an SVG file at `path`.
pub fn draw(
    path: &str,
    ratios: &[(String, f64, f64, bool)],
) -> Result<(), Box<dyn std::error::Error>> {
    let rows = ratios.len().max(1);
    let height = 60 + 22 * rows as u32;
    let root = SVGBackend::new(path, (900, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let x_max = ratios
        .iter()
        .map(|(_, ratio, bound, _)| ratio.max(*bound))
        .fold(1.0f64, f64::max)
        * 1.1;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "measured / floor (same run); red: target",
            ("sans-serif", 16),
        )
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(330)
        .build_cartesian_2d(0f64..x_max, (0..rows).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(rows)
        .y_label_formatter(&|value| match value {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => ratios
                .get(*i)
                .map(|(label, _, _, _)| label.clone())
                .unwrap_or_default(),
            SegmentValue::Last => String::new(),
        })
        .x_desc("ratio")
        .draw()?;
    for (i, (_, ratio, bound, met)) in ratios.iter().enumerate() {
        let colour = if *met {
            BLUE.mix(0.6)
        } else {
            RGBColor(230, 120, 0).mix(0.8)
        };
        chart.draw_series(std::iter::once(Rectangle::new(
            [
                (0.0, SegmentValue::Exact(i)),
                (*ratio, SegmentValue::Exact(i + 1)),
            ],
            colour.filled(),
        )))?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![
                (*bound, SegmentValue::Exact(i)),
                (*bound, SegmentValue::Exact(i + 1)),
            ],
            RED.stroke_width(2),
        )))?;
    }
    root.present()?;
    Ok(())
}

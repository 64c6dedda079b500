//! The bench's results: printed as a table as they come, written to `bench/results.json`, and
//! drawn as an SVG chart of every measured-against-floor ratio.

use std::time::Duration;

use serde_json::{Value, json};

/// Median and p99 of a set of samples.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub median: Duration,
    pub p99: Duration,
    pub samples: usize,
}

impl Stats {
    /// Sorts `samples` and summarises them.
    pub fn of(samples: &mut [Duration]) -> Self {
        samples.sort();
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        Self {
            median: at(0.5),
            p99: at(0.99),
            samples: samples.len(),
        }
    }

    pub fn median_ms(&self) -> f64 {
        self.median.as_secs_f64() * 1e3
    }

    pub fn p99_ms(&self) -> f64 {
        self.p99.as_secs_f64() * 1e3
    }
}

/// A ratio's target.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    AtMost(f64),
    AtLeast(f64),
}

/// One line of the report.
#[derive(Debug, Clone)]
struct Row {
    group: &'static str,
    measure: String,
    figure: String,
    target: Option<(String, bool)>,
    /// A ratio against a floor, for the chart: (measured / floor, the target's bound, met).
    ratio: Option<(f64, f64, bool)>,
    json: Value,
}

/// Rows in the order they were measured.
#[derive(Debug)]
pub struct Report {
    rows: Vec<Row>,
    quick: bool,
}

impl Report {
    /// An empty report; `quick` is recorded in the JSON.
    pub fn new(quick: bool) -> Self {
        Self {
            rows: Vec::new(),
            quick,
        }
    }

    fn push(&mut self, row: Row) {
        let target = match &row.target {
            Some((target, met)) => format!("{target} {}", if *met { "met" } else { "NOT MET" }),
            None => String::new(),
        };
        println!(
            "{:<10} {:<52} {:>22}  {}",
            row.group, row.measure, row.figure, target
        );
        self.rows.push(row);
    }

    /// A timing with no target.
    pub fn timing(&mut self, group: &'static str, measure: &str, stats: Stats) {
        self.push(Row {
            group,
            measure: measure.to_owned(),
            figure: timing_text(stats),
            target: None,
            ratio: None,
            json: timing_json(stats),
        });
    }

    /// A timing with a target and whether it was met.
    pub fn timing_with_target(
        &mut self,
        group: &'static str,
        measure: &str,
        stats: Stats,
        target: &str,
        met: bool,
    ) {
        let mut json = timing_json(stats);
        json["target"] = target.into();
        json["met"] = met.into();
        self.push(Row {
            group,
            measure: measure.to_owned(),
            figure: timing_text(stats),
            target: Some((target.to_owned(), met)),
            ratio: None,
            json,
        });
    }

    /// A handler's overhead (its time minus its SDK calls') against the 0.2 ms median target.
    pub fn overhead(&mut self, group: &'static str, measure: &str, overhead: Stats) {
        self.timing_with_target(
            group,
            measure,
            overhead,
            "<= 0.2 ms median",
            overhead.median_ms() <= 0.2,
        );
    }

    /// The capacity units a request is charged, on average: `detail` (a JSON object) says
    /// what else to keep beside them.
    pub fn capacity(&mut self, measure: &str, reads: f64, writes: f64, mut detail: Value) {
        detail["read_units"] = reads.into();
        detail["write_units"] = writes.into();
        self.figure(
            "capacity",
            measure,
            &format!("{reads:.1} / {writes:.1}"),
            detail,
        );
    }

    /// A ratio against a floor measured in the same run, and its target: at most (`Target::AtMost`)
    /// or at least (`Target::AtLeast`) a bound. The chart draws the bound.
    pub fn ratio(&mut self, group: &'static str, measure: &str, ratio: f64, target: Target) {
        let (bound, met, text) = match target {
            Target::AtMost(bound) => (bound, ratio <= bound, format!("<= {bound}")),
            Target::AtLeast(bound) => (bound, ratio >= bound, format!(">= {bound}")),
        };
        self.push(Row {
            group,
            measure: measure.to_owned(),
            figure: format!("{ratio:.2}x"),
            json: json!({"ratio": ratio, "target": text, "met": met}),
            target: Some((text, met)),
            ratio: Some((ratio, bound, met)),
        });
    }

    /// Any other figure, with its JSON form.
    pub fn figure(&mut self, group: &'static str, measure: &str, figure: &str, json: Value) {
        self.push(Row {
            group,
            measure: measure.to_owned(),
            figure: figure.to_owned(),
            target: None,
            ratio: None,
            json,
        });
    }

    /// A figure with a target.
    pub fn figure_with_target(
        &mut self,
        group: &'static str,
        measure: &str,
        figure: &str,
        mut json: Value,
        target: &str,
        met: bool,
    ) {
        json["target"] = target.into();
        json["met"] = met.into();
        self.push(Row {
            group,
            measure: measure.to_owned(),
            figure: figure.to_owned(),
            target: Some((target.to_owned(), met)),
            ratio: None,
            json,
        });
    }

    /// The whole report as JSON.
    pub fn to_json(&self, machine: Value) -> Value {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|row| {
                let mut value = row.json.clone();
                value["group"] = row.group.into();
                value["measure"] = row.measure.as_str().into();
                value["figure"] = row.figure.as_str().into();
                value
            })
            .collect();
        json!({"quick": self.quick, "machine": machine, "results": rows})
    }

    /// The rows that were a ratio against a floor: (label, ratio, bound, met).
    pub fn ratios(&self) -> Vec<(String, f64, f64, bool)> {
        self.rows
            .iter()
            .filter_map(|row| row.ratio.map(|(r, b, m)| (row.measure.clone(), r, b, m)))
            .collect()
    }

    /// Targets not met, for the summary.
    pub fn unmet(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter(|row| row.target.as_ref().is_some_and(|(_, met)| !met))
            .map(|row| {
                format!(
                    "{}: {} (target {})",
                    row.measure,
                    row.figure,
                    row.target.as_ref().map(|t| t.0.as_str()).unwrap_or("")
                )
            })
            .collect()
    }
}

fn timing_text(stats: Stats) -> String {
    format!("{:.2} / {:.2} ms", stats.median_ms(), stats.p99_ms())
}

fn timing_json(stats: Stats) -> Value {
    json!({"median_ms": stats.median_ms(), "p99_ms": stats.p99_ms(), "samples": stats.samples})
}

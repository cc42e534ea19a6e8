//! The time axis both drawings share: round steps and readable labels.

use std::time::Duration;

/// Round tick positions from 0 to `end` seconds: a step of 1, 2 or 5 times a
/// power of ten, giving four to ten ticks. Returns the step and the ticks.
pub(crate) fn ticks(end: f64) -> (f64, Vec<f64>) {
    let end = if end.is_finite() && end > 0.0 {
        end
    } else {
        1.0
    };
    let rough = end / 6.0;
    let power = 10_f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|factor| factor * power)
        .find(|step| end / step <= 10.0)
        .unwrap_or(10.0 * power);
    let count = (end / step).floor() as usize;
    let ticks = (0..=count).map(|tick| tick as f64 * step).collect();
    (step, ticks)
}

/// A tick label: seconds with as many decimals as the step needs, or
/// milliseconds when the step is below a tenth of a second.
pub(crate) fn label(seconds: f64, step: f64) -> String {
    if step < 0.1 {
        let decimals = decimals(step * 1000.0);
        format!("{:.decimals$} ms", seconds * 1000.0)
    } else {
        let decimals = decimals(step);
        format!("{seconds:.decimals$} s")
    }
}

/// A duration for a legend: `120 ms`, `2.5 s`.
pub(crate) fn duration_text(seconds: f64) -> String {
    if seconds < 1.0 {
        let millis = seconds * 1000.0;
        if millis < 10.0 {
            format!("{millis:.2} ms")
        } else {
            format!("{millis:.0} ms")
        }
    } else {
        format!("{seconds:.2} s")
    }
}

/// A duration for a tooltip, exact to the millisecond: `1.250 s`.
pub(crate) fn instant_text(at: Duration) -> String {
    format!("{:.3} s", at.as_secs_f64())
}

/// Decimals needed to print multiples of `step` exactly.
fn decimals(step: f64) -> usize {
    if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()).max(0.0) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_run() {
        let (step, seconds) = ticks(7.3);
        assert_eq!(step, 1.0);
        assert_eq!(seconds.len(), 8);
        let (step, milliseconds) = ticks(0.042);
        assert!((step - 0.005).abs() < 1e-12, "step {step}");
        assert_eq!(label(milliseconds[2], step), "10 ms");
        assert_eq!(label(2.5, 0.5), "2.5 s");
    }
}

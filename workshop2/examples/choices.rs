//! Balls into bins: one, two and three random choices.
//!
//! ```text
//! cargo run --release -p workshop2 --example choices
//! cargo run --release -p workshop2 --example choices -- --balls 100000 --seed 3
//! ```
//!
//! Throw `n` balls into `n` bins. With one random choice per ball, the
//! fullest bin ends up with about `ln n / ln ln n` balls; letting each ball
//! look at `d >= 2` random bins and take the emptiest brings that down to
//! `ln ln n / ln d + O(1)` (Azar, Broder, Karlin and Upfal, "Balanced
//! Allocations", 1994). The balls are placed by exercise 2.2's
//! `PowerOfChoices`, the same code that balances the cluster.

use coordination::demo::{self, Flag, Flags, SEED, SVG, Table, save_picture, unless_unfinished};
use coordination::picture::{BarChart, Picture};
use coordination::{Seed, WorkItemId, WorkerId};
use workshop2::{Candidate, Placement, PowerOfChoices};

const ABOUT: &str = "Balls into bins with one, two and three random choices: the fullest bin \
against the theory.";

const BALLS: Flag = Flag::value("balls", "1000000", "how many balls, and as many bins");
const CHOICES: Flag = Flag::value("choices", "3", "try 1, 2, … up to this many choices");
const FLAGS: [Flag; 4] = [SEED, BALLS, CHOICES, SVG];

fn main() {
    demo::launch(ABOUT, &FLAGS, run);
}

fn run(flags: &Flags) -> Result<(), Box<dyn std::error::Error>> {
    let seed = Seed::new(flags.get(SEED)?);
    let balls: usize = flags.count(BALLS)?;
    let most_choices: usize = flags.count(CHOICES)?;
    if !(3..=u32::MAX as usize).contains(&balls) || most_choices == 0 {
        return Err(format!(
            "--balls must be between 3 and {} and --choices at least 1",
            u32::MAX
        )
        .into());
    }
    let n = balls as f64;
    println!("{balls} balls into {balls} bins, seed {seed}\n");
    let mut table = Table::new(["choices per ball", "fullest bin", "theory", "empty bins"]);
    let mut chart = BarChart::new("balls in the fullest bin");
    for choices in 1..=most_choices {
        let placement = PowerOfChoices::new(choices).expect("choices start at 1");
        let bins = match unless_unfinished(|| throw(balls, placement, seed.derive(choices as u64)))
        {
            Ok(bins) => bins,
            Err(exercise) => {
                println!("the balls are placed by exercise 2.2, which is not done yet: {exercise}");
                return Ok(());
            }
        };
        let fullest = bins.iter().map(|bin| bin.outstanding).max().unwrap_or(0);
        let empty = bins.iter().filter(|bin| bin.outstanding == 0).count();
        let theory = if choices == 1 {
            format!("~{:.1} (ln n / ln ln n)", n.ln() / n.ln().ln())
        } else {
            format!(
                "~{:.1} + O(1) (ln ln n / ln {choices})",
                n.ln().ln() / (choices as f64).ln()
            )
        };
        chart.bar(format!("{choices} choice(s)"), fullest as f64);
        table.row([
            choices.to_string(),
            fullest.to_string(),
            theory,
            format!("{:.1}%", 100.0 * empty as f64 / n),
        ]);
    }
    print!("{table}");
    println!(
        "\nThe step from one choice to two is the big one; a third adds little. That is why \
         load balancers sample two."
    );
    save_picture(flags, || {
        let mut picture = Picture::new(format!(
            "choices: {balls} balls into {balls} bins, seed {seed}"
        ));
        picture.add("the fullest bin, by choices per ball", chart);
        picture
    })?;
    Ok(())
}

/// Throws `balls` balls into as many bins with `placement`; returns the bins.
fn throw(balls: usize, mut placement: PowerOfChoices, seed: Seed) -> Vec<Candidate> {
    let mut rng = seed.rng();
    let mut bins: Vec<Candidate> = (0..balls)
        .map(|bin| Candidate {
            worker: WorkerId::new(u32::try_from(bin).expect("main keeps --balls within u32")),
            outstanding: 0,
        })
        .collect();
    for ball in 0..balls as u64 {
        let chosen = placement.place(WorkItemId::new(ball), &bins, &mut rng);
        // Bin `k` is worker `k`, so the chosen id is the bin's position.
        bins[chosen.get() as usize].outstanding += 1;
    }
    bins
}

//! `cargo xtask verify`: everything CI proves, in one command.
//!
//! The steps, in the order that fails fastest on the usual mistakes:
//!
//! 1. catalogues load and agree with the files, and each stub's given code
//!    with its solution's; every assertion in the workshops' tests has a
//!    message ([`crate::assertions`]); each workshop's exercises, stretch
//!    ones aside, fit their 60 minutes;
//! 2. `cargo fmt --check`;
//! 3. clippy with warnings denied, exercise mode, then solution mode; the
//!    code shown in hints compiles inside the reference solutions
//!    ([`crate::hint_code`]);
//! 4. the documentation builds without warnings (broken links included);
//! 5. every test in solution mode, and the numbers of tests the workshops'
//!    documents promise ([`crate::test_counts`]);
//! 6. the progressive check ([`crate::progressive`]);
//! 7. a sweep of the workshops' and core's tests over many seeds in solution
//!    mode;
//! 8. the capstone's scenarios over a sweep of their own, sized for them (a
//!    scenario of ten thousand messages takes a second or more per seed);
//! 9. the capstone on a real engine: `nats-server` found or installed under
//!    `target/` ([`crate::nats_server`]), then the JetStream exam and leases
//!    (`--features jetstream`);
//! 10. every demo, the capstone's included, runs in solution mode and draws
//!     its picture (`--svg`);
//! 11. the generated solutions branch builds and its plain `cargo test` is
//!     green, the capstone's included.
//!
//! Lints and documentation include the capstone's `jetstream` feature, so
//! the code behind it is checked although no learner's build compiles it.
//!
//! It stops at the first failing step and prints a summary with timings.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::cargo::Cargo;
use crate::catalogue::{Catalogue, Demo};
use crate::error::{Context, Error, Result};
use crate::ui::{Style, human};
use crate::workspace::Workspace;
use crate::{nats_server, progressive, solutions};

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Seeds per swept test in the sweep step.
    pub sweep_seeds: u32,
    /// Seeds per scenario in the capstone step.
    pub capstone_seeds: u32,
    /// Steps to leave out.
    pub skip: Vec<Step>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            sweep_seeds: 200,
            capstone_seeds: 20,
            skip: Vec::new(),
        }
    }
}

/// A step of the check, in the order it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Catalogues load and agree with the files; named commands exist.
    Catalogues,
    /// Every assertion in the workshops' tests has a message.
    Assertions,
    /// Each workshop's exercises, stretch ones aside, fit their 60 minutes.
    Minutes,
    /// `cargo fmt --check`.
    Format,
    /// Clippy with warnings denied, exercise mode.
    Lints,
    /// Clippy with warnings denied, solution mode.
    LintsSolution,
    /// The code shown in hints compiles inside the reference solutions.
    HintCode,
    /// The documentation builds without warnings.
    Docs,
    /// Every test in solution mode; the numbers of tests the workshops'
    /// documents promise are right.
    Tests,
    /// Stubs fail and solutions pass, exercise by exercise, in order.
    Progressive,
    /// The workshops' and core's tests over many seeds.
    Sweep,
    /// The capstone's scenarios over a sweep sized for them.
    Capstone,
    /// The capstone on a real NATS JetStream cluster.
    Jetstream,
    /// Every demo runs and draws its picture.
    Demos,
    /// The generated solutions branch builds and passes.
    SolutionsBranch,
}

impl Step {
    /// Every step, in the order they run.
    pub const ALL: [Step; 15] = [
        Step::Catalogues,
        Step::Assertions,
        Step::Minutes,
        Step::Format,
        Step::Lints,
        Step::LintsSolution,
        Step::HintCode,
        Step::Docs,
        Step::Tests,
        Step::Progressive,
        Step::Sweep,
        Step::Capstone,
        Step::Jetstream,
        Step::Demos,
        Step::SolutionsBranch,
    ];

    /// The name `--skip` takes.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Step::Catalogues => "catalogues",
            Step::Assertions => "assertions",
            Step::Minutes => "minutes",
            Step::Format => "format",
            Step::Lints => "lints",
            Step::LintsSolution => "lints-solution",
            Step::HintCode => "hint-code",
            Step::Docs => "docs",
            Step::Tests => "tests",
            Step::Progressive => "progressive",
            Step::Sweep => "sweep",
            Step::Capstone => "capstone",
            Step::Jetstream => "jetstream",
            Step::Demos => "demos",
            Step::SolutionsBranch => "solutions-branch",
        }
    }

    /// What the step proves, as its heading says it.
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Step::Catalogues => "catalogues agree with the files",
            Step::Assertions => "every assertion in the workshops' tests has a message",
            Step::Minutes => "each workshop's exercises, stretch aside, fit 60 minutes",
            Step::Format => "formatting (cargo fmt --check)",
            Step::Lints => "clippy, exercise mode, warnings denied",
            Step::LintsSolution => "clippy, solution mode, warnings denied",
            Step::HintCode => "the code in hints compiles in the reference solutions",
            Step::Docs => "documentation builds without warnings",
            Step::Tests => "every test in solution mode, and the test counts the docs promise",
            Step::Progressive => "progressive check: stubs fail, solutions pass, in order",
            Step::Sweep => "seed sweep over the solutions",
            Step::Capstone => "the capstone's scenarios over a sweep of their own",
            Step::Jetstream => "the capstone on a three-server NATS JetStream cluster",
            Step::Demos => "every demo runs and draws its picture",
            Step::SolutionsBranch => "the generated solutions branch builds and passes",
        }
    }

    /// The step named `name`.
    ///
    /// # Errors
    /// A usage error listing the steps when there is no step by that name.
    pub fn named(name: &str) -> Result<Step> {
        Step::ALL
            .into_iter()
            .find(|step| step.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Step::ALL.iter().map(|step| step.name()).collect();
                Error::Usage(format!(
                    "there is no step {name:?}; the steps are {}",
                    names.join(", ")
                ))
            })
    }

    /// Runs the step. The catalogues are loaded by the first step that
    /// needs them and kept for the others.
    fn run(
        self,
        workspace: &Workspace,
        cargo: &Cargo,
        catalogues: &mut Vec<Catalogue>,
        options: &Options,
        style: Style,
    ) -> Result<()> {
        match self {
            Step::Catalogues => load_catalogues(workspace, catalogues),
            Step::Assertions => with_catalogues(workspace, catalogues)
                .and_then(|catalogues| crate::assertions::check(&workspace.root, catalogues)),
            Step::Minutes => with_catalogues(workspace, catalogues)
                .and_then(|catalogues| every_workshop(catalogues, Catalogue::check_minutes)),
            Step::Format => cargo.run(&["fmt", "--all", "--", "--check"]),
            Step::Lints => cargo.run(&lint_args(false)),
            Step::LintsSolution => cargo.run(&lint_args(true)),
            Step::HintCode => with_catalogues(workspace, catalogues)
                .and_then(|catalogues| crate::hint_code::check(workspace, catalogues)),
            Step::Docs => cargo.clone().env("RUSTDOCFLAGS", "-D warnings").run(&[
                "doc",
                "--workspace",
                "--no-deps",
                "--quiet",
                "--features",
                CAPSTONE_ENGINE,
            ]),
            Step::Tests => {
                cargo.run(&["test", "--workspace", "--quiet", "--features", "solution"])?;
                with_catalogues(workspace, catalogues).and_then(|catalogues| {
                    crate::test_counts::check(&workspace.root, cargo, catalogues)
                })
            }
            Step::Progressive => with_catalogues(workspace, catalogues)
                .and_then(|catalogues| progressive::check(workspace, catalogues, style)),
            Step::Sweep => with_catalogues(workspace, catalogues)
                .and_then(|catalogues| sweep(cargo, catalogues, options.sweep_seeds)),
            Step::Capstone => capstone_sweep(workspace, cargo, options.capstone_seeds),
            Step::Jetstream => jetstream(workspace, cargo),
            Step::Demos => with_catalogues(workspace, catalogues)
                .and_then(|catalogues| demos(workspace, cargo, catalogues)),
            Step::SolutionsBranch => with_catalogues(workspace, catalogues)
                .and_then(|catalogues| solutions_branch(workspace, catalogues, style)),
        }
    }
}

/// Runs every step not skipped.
///
/// # Errors
/// The first failing step's error.
pub fn run(workspace: &Workspace, options: &Options, style: Style) -> Result<()> {
    let started = Instant::now();
    let cargo = Cargo::new(&workspace.root);
    let mut catalogues = Vec::new();
    let mut done: Vec<(Step, Duration)> = Vec::new();
    for (number, step) in (1..).zip(Step::ALL) {
        if options.skip.contains(&step) {
            continue;
        }
        println!(
            "\n{} {}",
            style.bold(&format!("==> [{number}/{}]", Step::ALL.len())),
            style.bold(step.description())
        );
        let step_started = Instant::now();
        let outcome = step.run(workspace, &cargo, &mut catalogues, options, style);
        let took = step_started.elapsed();
        match outcome {
            Ok(()) => {
                println!("    {} {}", style.pass(), style.dim(&human(took)));
                done.push((step, took));
            }
            Err(error) => {
                println!("    {} {}", style.fail(), style.dim(&human(took)));
                summary(&done, Some(step), started.elapsed(), style);
                return Err(error);
            }
        }
    }
    summary(&done, None, started.elapsed(), style);
    Ok(())
}

/// The capstone's feature that brings in the real engine's client.
const CAPSTONE_ENGINE: &str = "capstone/jetstream";

fn lint_args(solution: bool) -> Vec<&'static str> {
    let mut args = vec!["clippy", "--workspace", "--all-targets", "--quiet"];
    args.extend(["--features", CAPSTONE_ENGINE]);
    if solution {
        args.extend(["--features", "solution"]);
    }
    args.extend(["--", "-D", "warnings"]);
    args
}

fn load_catalogues(workspace: &Workspace, catalogues: &mut Vec<Catalogue>) -> Result<()> {
    *catalogues = workspace.catalogues()?;
    for catalogue in catalogues.iter() {
        catalogue.verify(&workspace.root)?;
        println!(
            "    {}: {} exercises, {} demos",
            catalogue.package(),
            catalogue.exercises.len(),
            catalogue.demos.len()
        );
    }
    crate::learner::check_named_commands(workspace, catalogues)?;
    if let Some(capstone) = workspace.capstone()? {
        capstone.verify()?;
        println!("    {}: {} demos", capstone.package, capstone.demos.len());
    }
    Ok(())
}

fn with_catalogues<'a>(
    workspace: &Workspace,
    catalogues: &'a mut Vec<Catalogue>,
) -> Result<&'a [Catalogue]> {
    if catalogues.is_empty() {
        *catalogues = workspace.catalogues()?;
    }
    Ok(catalogues)
}

/// Runs `check` on every catalogue and reports every workshop that fails
/// it, not only the first.
fn every_workshop(catalogues: &[Catalogue], check: fn(&Catalogue) -> Result<()>) -> Result<()> {
    let problems: Vec<String> = catalogues
        .iter()
        .filter_map(|catalogue| check(catalogue).err())
        .map(|error| error.to_string())
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Check(problems.join("\n")))
    }
}

fn sweep(cargo: &Cargo, catalogues: &[Catalogue], seeds: u32) -> Result<()> {
    // One cargo run per seed count, so a workshop that asks for a wider sweep
    // does not make the others pay for it.
    let mut runs: Vec<(u32, Vec<String>)> = Vec::new();
    let wanted = catalogues
        .iter()
        .map(|catalogue| {
            (
                catalogue.sweep_seeds.unwrap_or(0).max(seeds),
                catalogue.package(),
            )
        })
        .chain([(seeds, "coordination".to_string())]);
    for (count, package) in wanted {
        match runs.iter_mut().find(|(seen, _)| *seen == count) {
            Some((_, packages)) => packages.push(package),
            None => runs.push((count, vec![package])),
        }
    }
    for (count, packages) in runs {
        println!(
            "    {count} seeds per swept test of {}",
            packages.join(", ")
        );
        let mut args = vec!["test", "--quiet", "--tests", "--features", "solution"];
        for package in &packages {
            args.extend(["-p", package]);
        }
        cargo
            .clone()
            .env("DWC_SEEDS", count.to_string())
            .run(&args)?;
    }
    Ok(())
}

/// Runs the capstone's scenarios over `seeds` seeds each. They are not in
/// the main sweep: each seed of a scenario moves ten thousand messages, so
/// two hundred seeds of the four would take most of an hour.
fn capstone_sweep(workspace: &Workspace, cargo: &Cargo, seeds: u32) -> Result<()> {
    let Some(capstone) = workspace.capstone()? else {
        println!("    no capstone in this repository");
        return Ok(());
    };
    let seeds = seeds.to_string();
    println!("    {seeds} seeds per scenario");
    cargo.clone().env("DWC_SEEDS", &seeds).run(&[
        "test",
        "--quiet",
        "-p",
        &capstone.package,
        "--features",
        "solution",
        "--test",
        "scenarios",
    ])
}

/// Finds or installs `nats-server`, then runs the capstone's JetStream
/// tests on the reference solutions, and the demos that need the server
/// (a short run of the side-by-side benchmark, a rehearsed run of the live
/// view) with their quick arguments, as the demos step runs the others.
fn jetstream(workspace: &Workspace, cargo: &Cargo) -> Result<()> {
    let Some(capstone) = workspace.capstone()? else {
        println!("    no capstone in this repository");
        return Ok(());
    };
    let server = nats_server::provision(workspace)?;
    let cargo = cargo.clone().env("NATS_SERVER", &server.path);
    let features = "solution,jetstream";
    cargo.run(&[
        "test",
        "--quiet",
        "-p",
        &capstone.package,
        "--features",
        features,
        "--test",
        "jetstream",
    ])?;
    // The demos that need the server (the side-by-side benchmark, the
    // live view) run here, where it is provided.
    let pictures = workspace.scratch("demo-pictures");
    std::fs::create_dir_all(&pictures).context(|| format!("creating {}", pictures.display()))?;
    for demo in &capstone.demos {
        if demo
            .features
            .iter()
            .any(|feature| feature == nats_server::FEATURE)
        {
            run_demo(&cargo, &pictures, &capstone.package, demo, features)?;
        }
    }
    Ok(())
}

/// Runs every demo with its quick arguments and `--svg`, which every demo
/// takes, and checks that it drew its picture.
fn demos(workspace: &Workspace, cargo: &Cargo, catalogues: &[Catalogue]) -> Result<()> {
    let pictures = workspace.scratch("demo-pictures");
    std::fs::create_dir_all(&pictures).context(|| format!("creating {}", pictures.display()))?;
    let capstone = workspace.capstone()?;
    let sets = catalogues
        .iter()
        .map(|catalogue| (catalogue.package(), &catalogue.demos))
        .chain(
            capstone
                .iter()
                .map(|capstone| (capstone.package.clone(), &capstone.demos)),
        );
    for (package, demos) in sets {
        for demo in demos {
            if !demo.features.is_empty() {
                println!(
                    "    {package} {}: run by the step that provides {}",
                    demo.name,
                    demo.features.join(", ")
                );
                continue;
            }
            run_demo(cargo, &pictures, &package, demo, "solution")?;
        }
    }
    println!("    pictures in {}", pictures.display());
    Ok(())
}

/// Runs `demo` of `package` with `features`, its quick arguments and
/// `--svg` into `pictures`, and checks that it drew its picture.
fn run_demo(
    cargo: &Cargo,
    pictures: &Path,
    package: &str,
    demo: &Demo,
    features: &str,
) -> Result<()> {
    let picture = pictures.join(format!("{package}-{}.svg", demo.name));
    let _ = std::fs::remove_file(&picture);
    let picture_arg = picture.to_string_lossy().into_owned();
    let mut args = vec![
        "run",
        "--quiet",
        "-p",
        package,
        "--features",
        features,
        "--example",
        &demo.name,
        "--",
    ];
    args.extend(demo.check_args.iter().map(String::as_str));
    args.extend(["--svg", &picture_arg]);
    let output = cargo.clone().env("NO_COLOR", "1").output(&args)?;
    if !output.status.success() {
        return Err(Error::Check(format!(
            "demo {package} {} failed ({}):\n{}{}",
            demo.name,
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    let drawn = std::fs::read_to_string(&picture).unwrap_or_default();
    if !drawn.starts_with("<?xml") || !drawn.contains("<svg") {
        return Err(Error::Check(format!(
            "demo {package} {} did not draw an SVG picture into {}: every demo takes \
             `--svg FILE` (see coordination::demo::save_picture)",
            demo.name,
            picture.display()
        )));
    }
    println!("    {package} {} {}", demo.name, demo.check_args.join(" "));
    Ok(())
}

fn solutions_branch(workspace: &Workspace, catalogues: &[Catalogue], style: Style) -> Result<()> {
    if solutions::working_tree_is_dirty(workspace) {
        println!(
            "    {}",
            style.yellow("note: built from HEAD; uncommitted changes are not part of it")
        );
    }
    let commit = solutions::commit_for(workspace, catalogues, "HEAD")?;
    let folder = solutions::add_worktree(workspace, &commit)?;
    println!(
        "    solutions commit {commit} checked out in {}",
        folder.display()
    );
    let cargo = Cargo::for_copy(&folder, &workspace.scratch("solutions-target"));
    let capstone = workspace.capstone()?.map(|capstone| capstone.package);
    let packages: Vec<String> = catalogues
        .iter()
        .map(Catalogue::package)
        .chain(capstone)
        .collect();
    let mut args = vec!["test", "--quiet"];
    for package in &packages {
        args.extend(["-p", package]);
    }
    let outcome = cargo.run(&args);
    solutions::remove_worktree(workspace, &folder);
    outcome
}

fn summary(done: &[(Step, Duration)], failed: Option<Step>, total: Duration, style: Style) {
    println!("\n{}", style.bold("Summary"));
    for (step, took) in done {
        println!(
            "  {} {:<18} {:>10}",
            style.pass(),
            step.name(),
            human(*took)
        );
    }
    if let Some(step) = failed {
        println!("  {} {}", style.fail(), step.name());
    }
    let verdict = match failed {
        None => style.green("all checks passed"),
        Some(_) => style.red("verification failed"),
    };
    println!("  {verdict} in {}", human(total));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--skip` finds every step by the name the summary prints.
    #[test]
    fn every_step_is_found_by_its_name() {
        for step in Step::ALL {
            assert_eq!(Step::named(step.name()).ok(), Some(step), "{step:?}");
        }
    }

    /// A misspelt step is a usage error that lists the real ones.
    #[test]
    fn an_unknown_step_is_refused_with_the_list() {
        let error = Step::named("lint").expect_err("there is no step `lint`");
        assert!(
            matches!(&error, Error::Usage(message) if message.contains("lints-solution")),
            "{error}"
        );
    }
}

//! `--parallelism N` bounds the provider calls in flight, and more than one
//! call runs at once when it allows.

use crate::support::{Workspace, assert_exit, stderr};

fn config() -> String {
    let mut text = String::from(
        "provider \"local\" {\n  simulated_latency_ms = 50\n}\n\nresource \"local_key\" \"main\" {\n  description = \"k\"\n}\n",
    );
    for index in 0..39 {
        text.push_str(&format!(
            "\nresource \"local_secret\" \"s{index}\" {{\n  name  = \"s-{index}\"\n  value = generate({{ length = 16 }})\n  key   = local_key.main.id\n}}\n"
        ));
    }
    text
}

/// Applies 40 resources with `--parallelism` and returns the peak of provider calls in flight.
fn peak_in_flight(parallelism: &str) -> usize {
    let workspace = Workspace::initialized(&config());
    let apply = workspace
        .command(&["apply", "--auto-approve", "--parallelism", parallelism])
        .env("RUST_LOG", "keyform=debug")
        .output()
        .expect("run keyform");
    assert_exit(&apply, 0);
    let text = stderr(&apply);
    let pattern = regex::Regex::new(r"peak provider calls in flight: (\d+)").expect("regex");
    let peaks: Vec<usize> = pattern
        .captures_iter(&text)
        .map(|captures| captures[1].parse().expect("a number"))
        .collect();
    assert_eq!(peaks.len(), 1, "one peak line in:\n{text}");
    let stored = std::fs::read_dir(workspace.path().join(".keyform/local-store/secrets"))
        .expect("the store")
        .count();
    assert_eq!(stored, 39, "every secret was created");
    peaks[0]
}

#[test]
fn parallelism_four_runs_calls_concurrently_and_at_most_four() {
    let peak = peak_in_flight("4");
    assert!(1 < peak && peak <= 4, "peak provider calls in flight: {peak}");
}

#[test]
fn parallelism_one_runs_one_call_at_a_time() {
    assert_eq!(peak_in_flight("1"), 1);
}

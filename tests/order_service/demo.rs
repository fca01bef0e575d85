//! The order service example, end to end: the demo runs the server as a child process, sends
//! it orders over several connections, stops it with SIGTERM partway, and checks the ledger.
//! This test runs the demo twice in a row and checks its work again from the outside.

use std::process::Command;

use super::{binary, ledger};

/// Finds the number that follows `label` in `text`.
fn number_after(text: &str, label: &str) -> u64 {
    let at = text
        .find(label)
        .unwrap_or_else(|| panic!("{label:?} not in:\n{text}"));
    text[at + label.len()..]
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn the_demo_acknowledges_only_what_the_ledger_holds_twice_in_a_row() {
    let binary = binary();
    let path = super::ledger_path("demo");
    for run in 1..=2 {
        let output = Command::new(&binary)
            .args(["--demo", "--ledger"])
            .arg(&path)
            .output()
            .expect("run the demo");
        let stdout = String::from_utf8(output.stdout).unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "run {run}: the demo failed:\n{stdout}\n{stderr}"
        );

        // Every acknowledged order stands exactly once in the ledger, every record is whole
        // and none is torn (`ledger` checks each one, and that no id stands twice).
        let acks: Vec<&str> = stdout
            .lines()
            .filter_map(|l| l.strip_prefix("ack "))
            .collect();
        let records = ledger(&path);
        assert!(
            acks.len() >= 1_000,
            "run {run}: only {} orders acknowledged",
            acks.len()
        );
        for id in &acks {
            assert!(
                records.contains_key(*id),
                "run {run}: order {id} is not in the ledger"
            );
        }

        // The server exited 0 after SIGTERM, and cancelled notifications on its way out; the
        // payments it counted are exactly the ledger's lines.
        assert!(
            stdout.contains("server exited with exit status: 0"),
            "run {run}:\n{stdout}"
        );
        let summary = stdout
            .lines()
            .find(|line| line.contains(" orders paid "))
            .unwrap_or_else(|| panic!("run {run}: no server summary:\n{stdout}"));
        assert_eq!(
            number_after(summary, "server: "),
            records.len() as u64,
            "run {run}: paid vs ledger"
        );
        assert!(
            number_after(&stdout, "timed out, ") > 0,
            "run {run}: no notification was cancelled at shutdown:\n{stdout}"
        );
        assert!(
            number_after(&stdout, "demo: ") >= acks.len() as u64,
            "run {run}: fewer sent than acknowledged"
        );
    }
    let _ = std::fs::remove_file(&path);
}

#[test]
fn the_crash_demo_loses_nothing_and_pays_nothing_twice() {
    let path = super::ledger_path("crash");
    let output = Command::new(binary())
        .args(["--demo", "--crash", "--ledger"])
        .arg(&path)
        .output()
        .expect("run the crash demo");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the crash demo failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("signal: 9 (SIGKILL)"), "{stdout}");
    assert!(
        stdout.contains("every order stands exactly once"),
        "{stdout}"
    );

    // Checked again from the outside: every planned order id once, every record whole.
    assert_eq!(
        ledger(&path).len(),
        8_000,
        "every order of the 8 clients, once"
    );
    let _ = std::fs::remove_file(&path);
}

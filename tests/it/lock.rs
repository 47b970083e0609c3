//! The state lock, held by the test process itself: a run fails at once naming
//! the holder, waits with `--lock-timeout`, and `state unlock` checks the id.

use std::time::{Duration, Instant};

use keyform::state::StateLock;

use crate::support::{Workspace, assert_exit, code, mentions, stderr};

const CONFIG: &str = r#"
resource "local_key" "main" {
  description = "k"
}

resource "local_secret" "a" {
  name  = "a"
  value = generate({ length = 16 })
  key   = local_key.main.id
}
"#;

#[test]
fn a_held_lock_stops_a_run_and_names_its_holder() {
    let workspace = Workspace::initialized(CONFIG);
    let lock = StateLock::acquire(&workspace.state_folder(), "test", Duration::ZERO).expect("lock the state");
    let info = lock.info().clone();

    let started = Instant::now();
    let apply = workspace.run(&["apply", "--auto-approve"]);
    assert_exit(&apply, 1);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "without --lock-timeout the run must fail at once"
    );
    let message = stderr(&apply);
    assert!(message.contains("KF3002"), "{message}");
    assert!(mentions(&message, &info.id), "the lock id is named: {message}");
    assert!(
        mentions(&message, &format!("pid {}", info.pid)),
        "the pid is named: {message}"
    );
    assert!(message.contains("`test`"), "the operation is named: {message}");
    assert!(
        !workspace.state_folder().join("local-store/secrets/a.json").exists(),
        "nothing was created"
    );

    for arguments in [
        &["plan"][..],
        &["destroy", "--auto-approve"],
        &["state", "rm", "local_secret.a"],
        &["state", "mv", "local_secret.a", "local_secret.b"],
    ] {
        let output = workspace.run(arguments);
        assert_exit(&output, 1);
        assert!(
            stderr(&output).contains("KF3002"),
            "{}: {}",
            arguments.join(" "),
            stderr(&output)
        );
    }

    let unlock = workspace.run(&["state", "unlock", "WRONG_ID"]);
    assert_exit(&unlock, 1);
    assert!(stderr(&unlock).contains("WRONG_ID"), "{}", stderr(&unlock));
    assert!(mentions(&stderr(&unlock), &info.id), "{}", stderr(&unlock));
    let holder = keyform::state::current_holder(&workspace.state_folder()).expect("read the lock");
    assert_eq!(holder.as_ref(), Some(&info), "a wrong id unlocks nothing");
    lock.release().expect("release the lock");
}

#[test]
fn a_run_waits_for_the_lock_with_a_timeout() {
    let workspace = Workspace::initialized(CONFIG);
    let lock = StateLock::acquire(&workspace.state_folder(), "test", Duration::ZERO).expect("lock the state");
    let started = Instant::now();
    let mut child = workspace
        .command(&["apply", "--auto-approve", "--lock-timeout", "10s"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start apply");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().expect("poll apply").is_none(),
        "apply must wait while the lock is held"
    );
    assert!(
        !workspace.state_folder().join("local-store/secrets/a.json").exists(),
        "apply ran while the lock was held"
    );
    drop(lock);
    let output = child.wait_with_output().expect("wait for apply");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(started.elapsed() >= Duration::from_millis(500));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the apply waited for the timeout"
    );
    assert!(workspace.state_folder().join("local-store/secrets/a.json").is_file());
}

//! The job queue's semantics, on a real SQLite file, with a controllable clock.

use std::collections::HashSet;
use std::sync::Arc;

use rand::SeedableRng;
use trove_core::clock::ManualClock;
use trove_core::queue::{self, FailOutcome, QueueConfig};
use trove_core::{db, Engine, EngineConfig, ItemRef, JobError, Status};

const T0: i64 = 1_800_000_000_000;

struct Fixture {
    _dir: tempfile::TempDir,
    engine: Arc<Engine>,
    _clock: ManualClock,
    path: std::path::PathBuf,
    files: std::path::PathBuf,
}

fn fixture(n: usize) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir(&files).unwrap();
    for i in 0..n {
        std::fs::write(files.join(format!("{i:05}.txt")), format!("document {i}")).unwrap();
    }
    let clock = ManualClock::new(T0);
    let path = dir.path().join("q.db");
    let engine =
        Engine::open_with_clock(&path, EngineConfig::default(), Arc::new(clock.clone())).unwrap();
    if n > 0 {
        engine.add_paths(std::slice::from_ref(&files)).unwrap();
    }
    Fixture {
        _dir: dir,
        engine,
        _clock: clock,
        path,
        files,
    }
}

fn cfg() -> QueueConfig {
    QueueConfig::default()
}

fn rng() -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(7)
}

#[test]
fn concurrent_workers_never_claim_the_same_job() {
    let f = fixture(300);
    let claimed = Arc::new(std::sync::Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..4)
        .map(|w| {
            let path = f.path.clone();
            let claimed = claimed.clone();
            std::thread::spawn(move || {
                let mut conn = db::open(&path).unwrap();
                while let Some(job) = queue::claim(&mut conn, &format!("w{w}"), &cfg(), T0).unwrap()
                {
                    assert!(queue::complete(&mut conn, &job, T0, |_| Ok(())).unwrap());
                    claimed.lock().unwrap().push(job.job_id);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let claimed = claimed.lock().unwrap();
    let unique: HashSet<_> = claimed.iter().collect();
    assert_eq!(claimed.len(), 300, "every job claimed");
    assert_eq!(unique.len(), 300, "no job claimed twice");
    assert_eq!(f.engine.counts(None).unwrap().completed, 300);
}

#[test]
fn claim_flips_the_item_to_processing_and_completion_to_completed() {
    let f = fixture(1);
    let mut conn = db::open(&f.path).unwrap();
    let job = queue::claim(&mut conn, "w", &cfg(), T0).unwrap().unwrap();
    let item = f.engine.item(job.item).unwrap();
    assert_eq!(item.status, Status::Processing);
    assert_eq!(item.job_id.as_deref(), Some(job.job_id.as_str()));
    assert_eq!(item.attempts, 1);
    assert!(queue::progress(&mut conn, &job, 40, "extracting", T0).unwrap());
    let item = f.engine.item(job.item).unwrap();
    assert_eq!(
        (item.progress, item.stage.as_deref()),
        (40, Some("extracting"))
    );
    assert!(queue::complete(&mut conn, &job, T0 + 1500, |_| Ok(())).unwrap());
    let item = f.engine.item(job.item).unwrap();
    assert_eq!((item.status, item.progress), (Status::Completed, 100));
    let info = queue::job_info(&conn, &job.job_id).unwrap().unwrap();
    assert_eq!(
        (info.state.as_str(), info.started_ms, info.finished_ms),
        ("completed", Some(T0), Some(T0 + 1500))
    );
}

#[test]
fn transient_errors_back_off_exponentially_then_fail() {
    let f = fixture(1);
    let mut conn = db::open(&f.path).unwrap();
    let c = cfg();
    let mut r = rng();
    let mut now = T0;
    let mut delays = Vec::new();
    for attempt in 1..=3u32 {
        let job = queue::claim(&mut conn, "w", &c, now)
            .unwrap()
            .expect("due job");
        assert_eq!(job.attempts, attempt);
        let out = queue::fail(
            &mut conn,
            &job,
            &JobError::transient("server answered 503"),
            &c,
            now,
            &mut r,
        )
        .unwrap();
        match out {
            FailOutcome::Retrying { run_after_ms } => {
                let delay = run_after_ms - now;
                delays.push(delay);
                let base = c.backoff_base_ms << (attempt - 1);
                assert!(
                    delay >= base * 3 / 4 && delay <= base * 5 / 4,
                    "attempt {attempt}: delay {delay} vs base {base}"
                );
                assert_eq!(
                    f.engine.item(job.item).unwrap().status,
                    Status::Pending,
                    "delayed job → item pending"
                );
                // Not due yet.
                assert!(queue::claim(&mut conn, "w", &c, run_after_ms - 1)
                    .unwrap()
                    .is_none());
                now = run_after_ms;
            }
            FailOutcome::Failed => {
                assert_eq!(attempt, 3, "fails only when attempts are used up");
                let item = f.engine.item(job.item).unwrap();
                assert_eq!(item.status, Status::Failed);
                assert_eq!(
                    item.error.as_deref(),
                    Some("server answered 503 (gave up after 3 attempts)")
                );
            }
            FailOutcome::LeaseLost => panic!("lease lost"),
        }
    }
    assert_eq!(delays.len(), 2);
    assert!(delays[1] > delays[0], "backoff grows: {delays:?}");
}

#[test]
fn permanent_errors_fail_at_once() {
    let f = fixture(1);
    let mut conn = db::open(&f.path).unwrap();
    let job = queue::claim(&mut conn, "w", &cfg(), T0).unwrap().unwrap();
    let out = queue::fail(
        &mut conn,
        &job,
        &JobError::permanent("PDF is password-protected"),
        &cfg(),
        T0,
        &mut rng(),
    )
    .unwrap();
    assert_eq!(out, FailOutcome::Failed);
    let item = f.engine.item(job.item).unwrap();
    assert_eq!(
        (item.status, item.error.as_deref(), item.attempts),
        (Status::Failed, Some("PDF is password-protected"), 1)
    );
    assert!(queue::claim(&mut conn, "w", &cfg(), T0 + 10_000_000)
        .unwrap()
        .is_none());
}

#[test]
fn retry_after_is_honoured() {
    let f = fixture(1);
    let mut conn = db::open(&f.path).unwrap();
    let job = queue::claim(&mut conn, "w", &cfg(), T0).unwrap().unwrap();
    let out = queue::fail(
        &mut conn,
        &job,
        &JobError::retry_after("server answered 429", 42_000),
        &cfg(),
        T0,
        &mut rng(),
    )
    .unwrap();
    assert_eq!(
        out,
        FailOutcome::Retrying {
            run_after_ms: T0 + 42_000
        }
    );
    assert!(queue::claim(&mut conn, "w", &cfg(), T0 + 41_999)
        .unwrap()
        .is_none());
    assert!(queue::claim(&mut conn, "w", &cfg(), T0 + 42_000)
        .unwrap()
        .is_some());
}

#[test]
fn lapsed_leases_are_requeued_and_old_holders_are_fenced_off() {
    let f = fixture(1);
    let mut conn = db::open(&f.path).unwrap();
    let c = cfg();
    let job = queue::claim(&mut conn, "w", &c, T0).unwrap().unwrap();
    // Still leased: nothing to recover.
    assert_eq!(
        queue::recover_stalled(&mut conn, &c, T0 + c.lease_ms - 1, |_| false).unwrap(),
        (0, 0)
    );
    // A heartbeat extends the lease.
    assert!(queue::heartbeat(&conn, &job, &c, T0 + 20_000).unwrap());
    assert_eq!(
        queue::recover_stalled(&mut conn, &c, T0 + c.lease_ms + 1, |_| false).unwrap(),
        (0, 0)
    );
    // Lapsed: requeued, the attempt does not count, a stall does.
    let later = T0 + 20_000 + c.lease_ms + 1;
    assert_eq!(
        queue::recover_stalled(&mut conn, &c, later, |_| false).unwrap(),
        (1, 0)
    );
    assert_eq!(f.engine.item(job.item).unwrap().status, Status::Pending);
    // The old holder can no longer write.
    assert!(!queue::complete(&mut conn, &job, later, |_| panic!("must not run")).unwrap());
    assert!(!queue::heartbeat(&conn, &job, &c, later).unwrap());
    assert_eq!(
        queue::fail(
            &mut conn,
            &job,
            &JobError::transient("x"),
            &c,
            later,
            &mut rng()
        )
        .unwrap(),
        FailOutcome::LeaseLost
    );
    let again = queue::claim(&mut conn, "w2", &c, later).unwrap().unwrap();
    assert_eq!(
        (again.job_id.as_str(), again.attempts),
        (job.job_id.as_str(), 1)
    );
}

#[test]
fn a_job_that_keeps_stalling_fails_with_a_clear_error() {
    let f = fixture(1);
    let mut conn = db::open(&f.path).unwrap();
    let c = cfg();
    let mut now = T0;
    for round in 1..=c.max_stalls + 1 {
        let job = queue::claim(&mut conn, "w", &c, now)
            .unwrap()
            .expect("claimable");
        now += c.lease_ms + 1;
        let (requeued, failed) = queue::recover_stalled(&mut conn, &c, now, |_| false).unwrap();
        if round <= c.max_stalls {
            assert_eq!((requeued, failed), (1, 0));
        } else {
            assert_eq!((requeued, failed), (0, 1));
            let item = f.engine.item(job.item).unwrap();
            assert_eq!(item.status, Status::Failed);
            assert!(item.error.unwrap().contains("interrupted 3 times"));
        }
    }
}

#[test]
fn dead_owner_is_recovered_without_waiting_for_the_lease() {
    let f = fixture(1);
    let mut conn = db::open(&f.path).unwrap();
    let c = cfg();
    queue::claim(&mut conn, "4242:dead", &c, T0)
        .unwrap()
        .unwrap();
    let (requeued, _) =
        queue::recover_stalled(&mut conn, &c, T0 + 1, |w| w == "4242:dead").unwrap();
    assert_eq!(requeued, 1);
}

#[test]
fn retry_gives_a_new_job_id_and_a_fresh_budget() {
    let f = fixture(1);
    let mut conn = db::open(&f.path).unwrap();
    let job = queue::claim(&mut conn, "w", &cfg(), T0).unwrap().unwrap();
    queue::fail(
        &mut conn,
        &job,
        &JobError::permanent("nope"),
        &cfg(),
        T0,
        &mut rng(),
    )
    .unwrap();
    let item = f.engine.retry(job.item).unwrap();
    assert_eq!(item.status, Status::Pending);
    assert_ne!(item.job_id.as_deref(), Some(job.job_id.as_str()));
    assert_eq!(item.attempts, 0);
    assert!(item.error.is_none());
    let again = queue::claim(&mut conn, "w", &cfg(), T0).unwrap().unwrap();
    assert_eq!(Some(again.job_id.as_str()), item.job_id.as_deref());
    // A processing item cannot be retried underneath its worker.
    assert!(f.engine.retry(job.item).is_err());
}

#[test]
fn retry_all_failed_requeues_only_failed_items() {
    let f = fixture(3);
    let mut conn = db::open(&f.path).unwrap();
    for _ in 0..2 {
        let job = queue::claim(&mut conn, "w", &cfg(), T0).unwrap().unwrap();
        queue::fail(
            &mut conn,
            &job,
            &JobError::permanent("bad"),
            &cfg(),
            T0,
            &mut rng(),
        )
        .unwrap();
    }
    assert_eq!(f.engine.retry_all_failed().unwrap(), 2);
    let c = f.engine.counts(None).unwrap();
    assert_eq!((c.pending, c.failed), (3, 0));
}

#[test]
fn deleting_an_item_cancels_its_running_job() {
    let f = fixture(1);
    let mut conn = db::open(&f.path).unwrap();
    let job = queue::claim(&mut conn, "w", &cfg(), T0).unwrap().unwrap();
    f.engine.delete(job.item).unwrap();
    assert!(f.engine.item(job.item).is_err());
    assert!(!queue::complete(&mut conn, &job, T0, |_| panic!("must not store")).unwrap());
    assert!(!queue::progress(&mut conn, &job, 50, "x", T0).unwrap());
    let info = queue::job_info(&conn, &job.job_id).unwrap().unwrap();
    assert_eq!(info.state, "cancelled");
}

#[test]
fn release_puts_a_job_back_without_using_an_attempt() {
    let f = fixture(1);
    let mut conn = db::open(&f.path).unwrap();
    let job = queue::claim(&mut conn, "w", &cfg(), T0).unwrap().unwrap();
    assert!(queue::release(&mut conn, &job, T0).unwrap());
    let item = f.engine.item(job.item).unwrap();
    assert_eq!((item.status, item.attempts), (Status::Pending, 0));
}

#[test]
fn adding_ten_thousand_files_is_one_transaction_of_pending_rows() {
    let f = fixture(0);
    for i in 0..10_000 {
        std::fs::write(f.files.join(format!("{i:05}.md")), "x").unwrap();
    }
    let report = f.engine.add_paths(std::slice::from_ref(&f.files)).unwrap();
    assert_eq!(report.added.len(), 10_000);
    let c = f.engine.counts(None).unwrap();
    assert_eq!((c.pending, c.total), (10_000, 10_000));
    // Adding the same folder again adds nothing and says why.
    let again = f.engine.add_paths(std::slice::from_ref(&f.files)).unwrap();
    assert!(again.added.is_empty());
    assert!(again.skipped[0]
        .reason
        .starts_with("already in the library as f"));
    let _ = ItemRef::file(1);
}

/// Every refresh of a link makes a new job; the finished ones that are no longer their
/// item's current job are collected, so 1,000 refresh rounds over 10 items keep the table
/// at the size of the library (issue 11, part 4).
#[test]
fn finished_jobs_are_collected_so_the_table_stays_bounded() {
    let f = fixture(10);
    let mut conn = db::open(&f.path).unwrap();
    let cfg = cfg();
    let items: Vec<ItemRef> = (1..=10).map(ItemRef::file).collect();
    let mut most = 0i64;
    for round in 0..1_000 {
        let now = T0 + round;
        if round > 0 {
            let tx = conn.transaction().unwrap();
            for &item in &items {
                queue::enqueue(&tx, item, 3, now).unwrap();
            }
            tx.commit().unwrap();
        }
        while let Some(job) = queue::claim(&mut conn, "w", &cfg, now).unwrap() {
            assert!(queue::complete(&mut conn, &job, now, |_| Ok(())).unwrap());
        }
        queue::gc_finished(&conn).unwrap();
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM jobs", [], |r| r.get(0))
            .unwrap();
        most = most.max(n);
    }
    assert_eq!(most, 10, "the jobs table grew past one job per item");
    // Each item still shows its current job, completed.
    for &item in &items {
        let st: String = conn
            .query_row(
                "SELECT j.state FROM knowledge_files k JOIN jobs j ON j.id = k.job_id WHERE k.id = ?1",
                [item.id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(st, "completed");
    }
}

/// Trouble around the database (disk full, read-only) postpones the job without using up
/// its attempts: a long outage never fails an item for good.
#[test]
fn postponed_jobs_keep_their_attempts() {
    let f = fixture(1);
    let mut conn = db::open(&f.path).unwrap();
    let c = cfg();
    let postpone = JobError {
        message: "Trove could not write to its database (disk full); will retry".into(),
        retry: trove_core::error::Retry::Postpone,
    };
    let mut now = T0;
    // Far more rounds than max_attempts.
    for _ in 0..(c.max_attempts * 3) {
        let job = queue::claim(&mut conn, "w", &c, now).unwrap().unwrap();
        assert_eq!(job.attempts, 1, "a postponed attempt was counted");
        let out = queue::fail(&mut conn, &job, &postpone, &c, now, &mut rng()).unwrap();
        let FailOutcome::Retrying { run_after_ms } = out else {
            panic!("postponed job ended as {out:?}");
        };
        assert!(run_after_ms > now);
        now = run_after_ms;
        assert_eq!(f.engine.item(job.item).unwrap().status, Status::Pending);
    }
}

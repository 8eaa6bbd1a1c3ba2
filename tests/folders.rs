//! Watched folders, black-box: the real binary, a real folder, a real SQLite file. The
//! library follows files created, edited, saved through a rename, moved and deleted while
//! `trove work` runs, and catches up with changes made while no worker ran.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::Value;
use trove_tests::{wait_for, Sandbox};

const SOON: Duration = Duration::from_secs(30);

/// `trove work`, stopped when dropped.
struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn worker(sb: &Sandbox) -> Worker {
    Worker(
        sb.cmd(&["work"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start trove work"),
    )
}

fn items(sb: &Sandbox) -> Vec<Value> {
    sb.json(&["list"]).as_array().unwrap().clone()
}

fn item_named(sb: &Sandbox, name: &str) -> Option<Value> {
    items(sb).into_iter().find(|i| i["name"] == name)
}

/// The names of the items a keyword search finds.
fn found(sb: &Sandbox, word: &str) -> Vec<String> {
    sb.json(&["search", "--mode", "keyword", word])["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap().to_owned())
        .collect()
}

fn jobs_of(sb: &Sandbox, id: &str) -> i64 {
    let n: i64 = id[1..].parse().unwrap();
    sb.conn()
        .query_row(
            "SELECT COUNT(*) FROM jobs WHERE item_table = 'knowledge_files' AND item_id = ?1",
            [n],
            |r| r.get(0),
        )
        .unwrap()
}

fn add_folder(sb: &Sandbox, dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["folders", "add", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    sb.json(&args)
}

#[test]
fn a_watched_folder_follows_new_edited_saved_moved_and_deleted_files() {
    let sb = Sandbox::new();
    let dir = sb.files().join("notes");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.txt"), "alpha zebracorn stands here").unwrap();
    let added = add_folder(&sb, &dir, &[]);
    assert_eq!(added["scan"]["added"], 1, "{added}");
    let _w = worker(&sb);

    let a = wait_for(SOON, || {
        item_named(&sb, "a.txt").filter(|i| i["status"] == "completed")
    })
    .expect("a.txt completed");
    let a_id = a["id"].as_str().unwrap().to_owned();
    assert_eq!(found(&sb, "zebracorn"), ["a.txt"]);

    // Edited: the new word is found, the old one is not, the item is the same.
    std::fs::write(dir.join("a.txt"), "alpha quokkafish stands here now").unwrap();
    wait_for(SOON, || {
        (found(&sb, "quokkafish") == ["a.txt"]).then_some(())
    })
    .expect("the edit is searchable");
    assert!(found(&sb, "zebracorn").is_empty());
    assert_eq!(item_named(&sb, "a.txt").unwrap()["id"], a_id.as_str());

    // Created.
    std::fs::write(dir.join("b.md"), "# New\n\nA narwhalite appears.").unwrap();
    let b = wait_for(SOON, || {
        item_named(&sb, "b.md").filter(|i| i["status"] == "completed")
    })
    .expect("b.md completed");
    assert_eq!(found(&sb, "narwhalite"), ["b.md"]);

    // Moved: the same item under its new name, not read again (no new job).
    let b_jobs = jobs_of(&sb, b["id"].as_str().unwrap());
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::rename(dir.join("b.md"), dir.join("sub/c.md")).unwrap();
    let c = wait_for(SOON, || item_named(&sb, "c.md")).expect("c.md listed");
    assert_eq!(c["id"], b["id"], "a move keeps the item");
    assert!(
        c["location"].as_str().unwrap().ends_with("/notes/sub/c.md"),
        "{c}"
    );
    assert_eq!(c["status"], "completed");
    assert_eq!(
        jobs_of(&sb, b["id"].as_str().unwrap()),
        b_jobs,
        "not processed again"
    );
    assert!(item_named(&sb, "b.md").is_none());

    // Saved the way editors do (a hidden temporary file renamed over it): one re-process.
    let a_jobs = jobs_of(&sb, &a_id);
    std::fs::write(dir.join(".a.txt.tmp"), "alpha yakwhale replaced the text").unwrap();
    std::fs::rename(dir.join(".a.txt.tmp"), dir.join("a.txt")).unwrap();
    wait_for(SOON, || (found(&sb, "yakwhale") == ["a.txt"]).then_some(()))
        .expect("the saved text is searchable");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        jobs_of(&sb, &a_id),
        a_jobs + 1,
        "one re-process for one save"
    );
    assert_eq!(items(&sb).len(), 2, "the temporary file is not an item");

    // Deleted: the item goes with its text.
    std::fs::remove_file(dir.join("sub/c.md")).unwrap();
    wait_for(SOON, || item_named(&sb, "c.md").is_none().then_some(()))
        .expect("the deleted file's item is removed");
    assert!(found(&sb, "narwhalite").is_empty());
    let folders = sb.json(&["folders", "list"]);
    assert_eq!(folders[0]["files"], 1, "{folders}");
}

#[test]
fn changes_made_while_no_worker_runs_are_caught_up_and_unreadable_files_are_counted() {
    let sb = Sandbox::new();
    let dir = sb.files().join("repo");
    std::fs::create_dir_all(dir.join("node_modules/pkg")).unwrap();
    std::fs::create_dir_all(dir.join("docs")).unwrap();
    std::fs::write(dir.join(".gitignore"), "node_modules/\n*.log\n").unwrap();
    std::fs::write(dir.join("node_modules/pkg/index.js"), "module.exports = 1;").unwrap();
    std::fs::write(dir.join("build.log"), "lots of log lines").unwrap();
    std::fs::write(
        dir.join("README.md"),
        "The repo readme mentions a capybarix.",
    )
    .unwrap();
    std::fs::write(dir.join("docs/keep.txt"), "kept text about the ocelotron").unwrap();
    std::fs::write(dir.join("docs/gone.txt"), "soon deleted: wombatrix").unwrap();
    std::fs::write(dir.join("docs/drafts.txt"), "excluded draft").unwrap();
    // A PNG (images are left out of folders unless asked for), an empty file, a zip.
    std::fs::write(
        dir.join("photo.png"),
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x00\x00\x00\x00",
    )
    .unwrap();
    std::fs::write(dir.join("empty.txt"), "").unwrap();
    std::fs::write(
        dir.join("bundle.zip"),
        b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
    )
    .unwrap();
    // The library's own folder is never read, even inside a watched folder.
    let added = add_folder(&sb, &dir, &["--exclude", "drafts.txt"]);
    assert_eq!(
        added["scan"]["added"], 3,
        "README.md, keep.txt, gone.txt: {added}"
    );
    let skipped = &added["folder"]["skipped"];
    assert_eq!(skipped["images"], 1, "{added}");
    assert_eq!(skipped["empty"], 1, "{added}");
    assert_eq!(skipped["archives"], 1, "{added}");
    let names: Vec<String> = items(&sb)
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect();
    for left_out in [
        "index.js",
        "build.log",
        "drafts.txt",
        "photo.png",
        "empty.txt",
        "bundle.zip",
    ] {
        assert!(
            !names.contains(&left_out.to_owned()),
            "{left_out} in {names:?}"
        );
    }
    sb.ok(&["work", "--until-idle"]);
    assert_eq!(found(&sb, "capybarix"), ["README.md"]);

    // Trove is closed: a file is edited, one deleted, one created.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(
        dir.join("docs/keep.txt"),
        "kept text now about the pangolino",
    )
    .unwrap();
    std::fs::remove_file(dir.join("docs/gone.txt")).unwrap();
    std::fs::write(dir.join("docs/new.txt"), "fresh file about a tapirus").unwrap();
    sb.ok(&["work", "--until-idle"]);
    assert_eq!(found(&sb, "pangolino"), ["keep.txt"]);
    assert!(found(&sb, "ocelotron").is_empty());
    assert!(found(&sb, "wombatrix").is_empty());
    assert_eq!(found(&sb, "tapirus"), ["new.txt"]);
    assert!(item_named(&sb, "gone.txt").is_none());
    assert_eq!(sb.count_status("completed"), 3);

    // The folder disappears (an unplugged drive): its items stay until it is back.
    let away = sb.files().join("repo-away");
    std::fs::rename(&dir, &away).unwrap();
    let r = sb.json(&["folders", "rescan"]);
    assert_eq!(r[0]["unavailable"], true, "{r}");
    let f = &sb.json(&["folders", "list"])[0];
    assert_eq!(f["state"], "unavailable", "{f}");
    assert_eq!(f["files"], 3);
    assert_eq!(found(&sb, "tapirus"), ["new.txt"], "still searchable");
    std::fs::rename(&away, &dir).unwrap();
    let r = sb.json(&["folders", "rescan"]);
    assert_eq!(r[0]["unchanged"], 3, "{r}");
    assert_eq!(sb.json(&["folders", "list"])[0]["state"], "ok");

    // Removing the folder removes its items (or keeps them with --keep-items).
    sb.ok(&["folders", "remove", "1"]);
    assert!(items(&sb).is_empty());
    assert!(sb.json(&["folders", "list"]).as_array().unwrap().is_empty());
}

#[test]
fn a_rescan_of_ten_thousand_unchanged_files_reads_none_of_them() {
    let sb = Sandbox::new();
    let dir = sb.files().join("many");
    for d in 0..10 {
        let sub = dir.join(format!("d{d}"));
        std::fs::create_dir_all(&sub).unwrap();
        for i in 0..1000 {
            std::fs::write(sub.join(format!("f{i:04}.txt")), format!("file {d}-{i}\n")).unwrap();
        }
    }
    let added = add_folder(&sb, &dir, &[]);
    assert_eq!(added["scan"]["added"], 10_000);
    assert_eq!(
        added["scan"]["reads"], 10_000,
        "new files: their first bytes are read"
    );
    // All added in one transaction: they share its time.
    let times: i64 = sb
        .conn()
        .query_row(
            "SELECT COUNT(DISTINCT uploaded_at) FROM knowledge_files",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(times, 1);
    let r = sb.json(&["folders", "rescan", "1"]);
    assert_eq!(r[0]["unchanged"], 10_000, "{r}");
    assert_eq!(
        r[0]["reads"], 0,
        "a rescan of unchanged files opens none: {r}"
    );
    assert_eq!(r[0]["added"], 0);
}

#[test]
fn folders_that_cannot_be_watched_are_refused_with_a_reason() {
    let sb = Sandbox::new();
    let o = sb.run(&["folders", "add", sb.db.parent().unwrap().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    let file = sb.write("plain.txt", "x");
    let o = sb.run(&["folders", "add", file.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not a folder"),
        "{o:?}"
    );
    let o = sb.run(&["folders", "add", "/no/such/dir"]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no such file or folder"),
        "{o:?}"
    );
    let dir = sb.files().join("twice");
    std::fs::create_dir_all(&dir).unwrap();
    add_folder(&sb, &dir, &[]);
    let o = sb.run(&["folders", "add", dir.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("already watched"),
        "{o:?}"
    );
}

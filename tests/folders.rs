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

#[test]
fn deleted_files_can_be_kept_as_missing_and_a_folders_rules_can_change() {
    let sb = Sandbox::new();
    sb.ok(&["config", "set", "keep-missing", "on"]);
    let dir = sb.files().join("kept");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("a.txt"), "the archive mentions a quokkaroo").unwrap();
    std::fs::write(dir.join("b.txt"), "bravo text about a numbatis").unwrap();
    std::fs::write(dir.join("c.md"), "# Charlie\n\nnotes on a dugongle").unwrap();
    add_folder(&sb, &dir, &[]);
    sb.ok(&["work", "--until-idle"]);
    let a = item_named(&sb, "a.txt").unwrap();
    assert!(a["missingSince"].is_null(), "{a}");

    // Deleted: kept, marked missing, still searchable; a second scan counts it again and
    // changes nothing.
    std::fs::remove_file(dir.join("a.txt")).unwrap();
    let r = &sb.json(&["folders", "rescan", "1"])[0];
    assert_eq!(
        (r["missing"].as_u64(), r["removed"].as_u64()),
        (Some(1), Some(0)),
        "{r}"
    );
    let gone = item_named(&sb, "a.txt").expect("kept");
    assert_eq!(gone["id"], a["id"]);
    assert!(gone["missingSince"].is_string(), "{gone}");
    assert_eq!(gone["status"], "completed");
    assert_eq!(found(&sb, "quokkaroo"), ["a.txt"]);
    let shown = sb.ok(&["show", a["id"].as_str().unwrap()]);
    assert!(shown.contains("missing"), "{shown}");
    let r = &sb.json(&["folders", "rescan", "1"])[0];
    assert_eq!(r["missing"], 1, "{r}");
    assert_eq!(
        item_named(&sb, "a.txt").unwrap()["missingSince"],
        gone["missingSince"]
    );

    // Moved back in under another name: the same item, no longer missing, not read again.
    std::fs::write(
        dir.join("sub/a-again.txt"),
        "the archive mentions a quokkaroo",
    )
    .unwrap();
    let r = &sb.json(&["folders", "rescan", "1"])[0];
    assert_eq!(r["renamed"], 1, "{r}");
    let back = item_named(&sb, "a-again.txt").unwrap();
    assert_eq!(back["id"], a["id"]);
    assert!(back["missingSince"].is_null(), "{back}");
    assert_eq!(
        jobs_of(&sb, a["id"].as_str().unwrap()),
        1,
        "not processed again"
    );

    // With the setting off, a deleted file's item goes.
    sb.ok(&["config", "set", "keep-missing", "off"]);
    std::fs::remove_file(dir.join("b.txt")).unwrap();
    let r = &sb.json(&["folders", "rescan", "1"])[0];
    assert_eq!(
        (r["removed"].as_u64(), r["missing"].as_u64()),
        (Some(1), Some(0)),
        "{r}"
    );
    assert!(item_named(&sb, "b.txt").is_none());
    assert!(found(&sb, "numbatis").is_empty());

    // New rules: only Markdown. Files still on disk that the rules now leave out are
    // removed (not "missing", even with the setting on); clearing the rule adds them again.
    sb.ok(&["config", "set", "keep-missing", "on"]);
    let e = sb.json(&["folders", "edit", "1", "--include", "*.md"]);
    assert_eq!(e["folder"]["include"], serde_json::json!(["*.md"]), "{e}");
    assert_eq!(
        (e["scan"]["removed"].as_u64(), e["scan"]["missing"].as_u64()),
        (Some(1), Some(0)),
        "{e}"
    );
    let names: Vec<Value> = items(&sb).iter().map(|i| i["name"].clone()).collect();
    assert_eq!(names, ["c.md"]);
    let e = sb.json(&["folders", "edit", "1", "--no-include", "--exclude", "sub/"]);
    assert_eq!(e["folder"]["exclude"], serde_json::json!(["sub/"]), "{e}");
    assert_eq!(e["scan"]["added"], 0, "sub/ is excluded: {e}");
    let e = sb.json(&["folders", "edit", "1", "--no-exclude"]);
    assert_eq!(e["scan"]["added"], 1, "{e}");
    assert!(item_named(&sb, "a-again.txt").is_some());
    // A bad pattern is refused with a reason, and the rules stay as they were.
    let o = sb.run(&["folders", "edit", "1", "--include", "a{b"]);
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not a valid pattern"),
        "{o:?}"
    );
    assert_eq!(
        sb.json(&["folders", "list"])[0]["include"],
        serde_json::json!([])
    );
}

/// `trove` run so that it cannot read `dir`, as a real permission error: an unprivileged
/// user can simply be denied (mode 000); root reads everything, so the folder is given to
/// an unmapped user (nobody) and `trove` runs as root of a user namespace, where root has
/// no rights over files it does not map.
fn deny(sb: &mut Sandbox, dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if is_root() {
        std::os::unix::fs::chown(dir, Some(65534), Some(65534)).unwrap();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        sb.wrapper = vec!["unshare".into(), "-U".into(), "-r".into(), "--".into()];
    } else {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
}

fn allow(sb: &mut Sandbox, dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if is_root() {
        std::os::unix::fs::chown(dir, Some(0), Some(0)).unwrap();
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    sb.wrapper.clear();
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // The owner of a file this process just made is its effective user.
    let probe = tempfile::NamedTempFile::new().unwrap();
    probe.as_file().metadata().unwrap().uid() == 0
}

#[test]
fn a_subfolder_that_cannot_be_read_is_reported_and_the_rest_goes_on() {
    let mut sb = Sandbox::new();
    let dir = sb.files().join("shared");
    let secret = dir.join("private");
    std::fs::create_dir_all(&secret).unwrap();
    std::fs::write(dir.join("open.txt"), "open text about a kinkajou").unwrap();
    std::fs::write(secret.join("inner.txt"), "private text about a fossana").unwrap();
    add_folder(&sb, &dir, &[]);
    sb.ok(&["work", "--until-idle"]);
    assert_eq!(sb.count_status("completed"), 2);

    deny(&mut sb, &secret);
    std::fs::write(dir.join("later.txt"), "a later file about an okapix").unwrap();
    let r = &sb.json(&["folders", "rescan", "1"])[0];
    assert_eq!(r["added"], 1, "the rest of the folder is scanned: {r}");
    assert_eq!(
        r["removed"], 0,
        "what cannot be read is not taken for deleted: {r}"
    );
    let f = &sb.json(&["folders", "list"])[0];
    let message = f["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("private") && message.contains("permission denied"),
        "one message names the folder and the reason: {f}"
    );
    assert_eq!(
        message.matches("private").count(),
        1,
        "reported once: {message}"
    );
    assert_eq!(f["state"], "ok", "{f}");
    sb.ok(&["work", "--until-idle"]);
    assert_eq!(found(&sb, "okapix"), ["later.txt"]);
    assert_eq!(found(&sb, "fossana"), ["inner.txt"], "its item is kept");

    allow(&mut sb, &secret);
    let r = &sb.json(&["folders", "rescan", "1"])[0];
    assert_eq!(r["unchanged"], 3, "{r}");
    assert!(sb.json(&["folders", "list"])[0]["message"].is_null());
}

#[test]
fn past_the_systems_limit_of_watches_a_folder_is_rescanned_instead_and_says_so() {
    let mut sb = Sandbox::new();
    let dir = sb.files().join("deep");
    for sub in ["a", "b", "c", "d"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        std::fs::write(dir.join(sub).join("f.txt"), format!("file in {sub}")).unwrap();
    }
    add_folder(&sb, &dir, &[]);
    sb.ok(&["work", "--until-idle"]);
    // A file made while nothing runs: the fallback's first rescan still catches it.
    std::fs::write(dir.join("a/new.txt"), "made while closed: a serowix").unwrap();
    // The real kernel limit (inotify watches per user), lowered to 2 inside a user
    // namespace of its own so the rest of the machine is untouched.
    sb.wrapper = [
        "unshare",
        "-U",
        "-r",
        "--",
        "sh",
        "-c",
        "echo 2 > /proc/sys/user/max_inotify_watches && exec \"$0\" \"$@\"",
    ]
    .map(String::from)
    .to_vec();
    let _w = worker(&sb);
    let f = wait_for(SOON, || {
        let f = sb.json(&["folders", "list"])[0].clone();
        (f["state"] == "polling").then_some(f)
    })
    .expect("the folder falls back to rescans");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("limit") && message.contains("every minute"),
        "{message}"
    );
    wait_for(SOON, || {
        (found(&sb, "serowix") == ["new.txt"]).then_some(())
    })
    .expect("caught up by the fallback's rescan");
}

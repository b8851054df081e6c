//! The example's last act: a snapshot of `doc` to a file, more edits, and
//! the snapshot read back and restored.

use super::*;

/// Snapshots `doc` to a file, edits, deletes and adds keys, then restores
/// the file and compares.
pub(crate) async fn snapshots(
    store: &StoreRef,
    watcher: &WatcherRef,
    dir: &Path,
) -> agentix::Result<()> {
    println!("\n== a snapshot of doc, more edits, then the snapshot restored");
    let snapshot = store.snapshot("doc").await?;
    let path = dir.join("doc.snapshot");
    snapshot.write_to(&path)?;
    let saved = snapshot.entries.len();
    println!("snapshot: {saved} keys, written to {}", path.display());
    let mut keys: Vec<_> = POLICIES.iter().map(|policy| plan_key(policy.0)).collect();
    keys.push("doc.scratch".into());
    let main = store.as_writer(Writer::label("main"));
    // `update` reads, changes and compares-and-sets, again if need be.
    let add = |plan: Option<&Plan>| {
        let mut plan = plan.cloned().unwrap_or_default();
        plan.steps.push("main@after-snapshot".into());
        plan
    };
    main.update(&keys[2], add).await?;
    main.put("doc.scratch", &Plan::default()).await?;
    // A blind delete is a conflicting write under first-writer-wins: only
    // a compare-and-set on the version read gets past it.
    let read = store.get_version(&keys[1])?;
    main.write(&keys[1], Write::delete().expect(read)).await?;
    settle(store, watcher, &keys).await;
    let version = |key: &String| store.get_version(key);
    let before: Vec<u64> = keys.iter().map(version).collect::<Result<_, _>>()?;
    let snapshot = Snapshot::read_from(&path)?;
    let written = main.restore(&snapshot).await?;
    println!("restore: {written} keys written back, as new versions");
    settle(store, watcher, &keys).await;
    println!("each key: its version before and after, against the snapshot");
    for (key, before) in keys.iter().zip(before) {
        let saved = snapshot.entries.iter().find(|(k, _)| k.as_str() == key);
        let saved = saved.map(|(_, saved)| saved);
        let now = store.get_raw(key)?;
        let after = now.as_ref().map_or(0, |now| now.version);
        let same = now.and_then(|now| now.value.clone()) == saved.and_then(|s| s.value.clone());
        let was = saved.map_or("absent".into(), |saved| format!("v{}", saved.version));
        let verdict = if same {
            "same value"
        } else {
            "!! not the same"
        };
        println!("  {key:<15} v{before:<2} -> v{after:<2} snapshot {was:<6} {verdict}");
    }
    Ok(())
}

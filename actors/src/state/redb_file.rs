//! The embedded default backend: one redb file, ACID, crash-safe. Each
//! commit is one redb write transaction with immediate durability (fsync
//! before `commit` returns).

use std::{
    fs::File,
    io::Read,
    panic::{AssertUnwindSafe, catch_unwind},
    path::{Path, PathBuf},
};

use redb::{
    Database, DatabaseError, ReadableDatabase, ReadableTable, StorageError as RedbStorage,
    TableDefinition, TableError,
};

use super::{Backend, CommitBatch, Counters, StorageError, Visit};

const DOCUMENTS: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("agentix.state.documents");
const META: TableDefinition<'_, &str, u64> = TableDefinition::new("agentix.state.meta");
/// Marks a file as a store, of this layout.
const FORMAT_KEY: &str = "format";
const FORMAT: u64 = 1;
const FENCE_KEY: &str = "fence";
const CONFLICTS_KEY: &str = "conflicts";
/// How every redb file begins.
const MAGIC: &[u8] = b"redb";

/// A state store in one redb file.
///
/// ```
/// use agentix_actors::state::{Backend, RedbBackend};
///
/// let dir = std::env::temp_dir().join(format!("agentix-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("state.redb");
/// let backend = RedbBackend::open(&path).unwrap();
/// assert_eq!(backend.kind(), "redb");
/// drop(backend);
/// std::fs::write(dir.join("notes.txt"), "not a store").unwrap();
/// let error = RedbBackend::open(dir.join("notes.txt")).unwrap_err();
/// assert!(error.to_string().contains("notes.txt"), "{error}");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug)]
pub struct RedbBackend {
    db: Database,
    path: PathBuf,
}

impl RedbBackend {
    /// Opens the store in `path`, creating the file when it does not
    /// exist. A file that is not a store (another program's, or a redb
    /// database of another layout) is [`StorageError::Foreign`]; one that
    /// does not read back is [`StorageError::Damaged`]; both name the path.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StorageError> {
        let path = path.as_ref().to_path_buf();
        if !path.exists() {
            create(&path)?;
        }
        check_magic(&path)?;
        // redb checks what it reads; a panic on a file damaged in a way it
        // did not foresee is still a damaged file, not a crashed swarm.
        let opened = catch_unwind(AssertUnwindSafe(|| Database::create(&path)));
        let db = match opened {
            Ok(Ok(db)) => db,
            Ok(Err(error)) => return Err(open_error(&path, error)),
            Err(_) => {
                return Err(StorageError::Damaged {
                    path,
                    reason: "the database panicked while opening it".into(),
                });
            }
        };
        let backend = Self { db, path };
        backend.check_format()?;
        Ok(backend)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A fresh file gets the store's tables and format mark; a file with
    /// tables but not the mark, or another mark, is foreign.
    fn check_format(&self) -> Result<(), StorageError> {
        let damaged = |error: &dyn std::fmt::Display| self.damaged(error);
        let read = self.db.begin_read().map_err(|e| damaged(&e))?;
        match read.open_table(META) {
            Ok(meta) => match meta.get(FORMAT_KEY).map_err(|e| damaged(&e))? {
                Some(format) if format.value() == FORMAT => Ok(()),
                Some(format) => Err(self.foreign(format!(
                    "layout {} where {FORMAT} is expected",
                    format.value()
                ))),
                None => Err(self.foreign("its meta table has no format mark".into())),
            },
            Err(TableError::TableDoesNotExist(_)) => {
                let tables = read.list_tables().map_err(|e| damaged(&e))?.count();
                if tables > 0 {
                    return Err(
                        self.foreign(format!("a redb database with {tables} other table(s)"))
                    );
                }
                drop(read);
                self.create_tables()
            }
            Err(error @ TableError::TableTypeMismatch { .. }) => {
                Err(self.foreign(error.to_string()))
            }
            Err(error) => Err(damaged(&error)),
        }
    }

    fn create_tables(&self) -> Result<(), StorageError> {
        let damaged = |error: &dyn std::fmt::Display| self.damaged(error);
        let write = self.db.begin_write().map_err(|e| damaged(&e))?;
        {
            let mut meta = write.open_table(META).map_err(|e| damaged(&e))?;
            meta.insert(FORMAT_KEY, FORMAT).map_err(|e| damaged(&e))?;
            write.open_table(DOCUMENTS).map_err(|e| damaged(&e))?;
        }
        write.commit().map_err(|e| damaged(&e))
    }

    fn foreign(&self, reason: String) -> StorageError {
        StorageError::Foreign {
            path: self.path.clone(),
            reason,
        }
    }

    fn damaged(&self, error: &dyn std::fmt::Display) -> StorageError {
        StorageError::Damaged {
            path: self.path.clone(),
            reason: error.to_string(),
        }
    }
}

impl Backend for RedbBackend {
    fn kind(&self) -> &'static str {
        "redb"
    }

    fn persistent(&self) -> bool {
        true
    }

    fn load(&self, each: &mut Visit<'_>) -> Result<Counters, StorageError> {
        let damaged = |error: &dyn std::fmt::Display| self.damaged(error);
        let read = self.db.begin_read().map_err(|e| damaged(&e))?;
        let documents = read.open_table(DOCUMENTS).map_err(|e| damaged(&e))?;
        for entry in documents.iter().map_err(|e| damaged(&e))? {
            let (key, value) = entry.map_err(|e| damaged(&e))?;
            each(key.value(), value.value())?;
        }
        let meta = read.open_table(META).map_err(|e| damaged(&e))?;
        let counter = |key| -> Result<u64, StorageError> {
            let value = meta.get(key).map_err(|e| damaged(&e))?;
            Ok(value.map_or(0, |value| value.value()))
        };
        Ok(Counters {
            fence: counter(FENCE_KEY)?,
            conflicts: counter(CONFLICTS_KEY)?,
        })
    }

    fn commit(&self, batch: &CommitBatch) -> Result<(), StorageError> {
        let failed = |error: &dyn std::fmt::Display| StorageError::Commit(error.to_string());
        let write = self.db.begin_write().map_err(|e| failed(&e))?;
        {
            let mut documents = write.open_table(DOCUMENTS).map_err(|e| failed(&e))?;
            for (key, bytes) in &batch.entries {
                documents
                    .insert(key.as_str(), bytes.as_slice())
                    .map_err(|e| failed(&e))?;
            }
            let counters = [(FENCE_KEY, batch.fence), (CONFLICTS_KEY, batch.conflicts)];
            if counters.iter().any(|(_, value)| value.is_some()) {
                let mut meta = write.open_table(META).map_err(|e| failed(&e))?;
                for (key, value) in counters {
                    let Some(value) = value else { continue };
                    // Shards commit apart: keep the largest, so a counter
                    // never goes back.
                    let kept = meta.get(key).map_err(|e| failed(&e))?.map(|v| v.value());
                    if kept.is_none_or(|kept| kept < value) {
                        meta.insert(key, value).map_err(|e| failed(&e))?;
                    }
                }
            }
        }
        write.commit().map_err(|e| failed(&e))
    }
}

/// Creates a new store file whole or not at all: it is made under a
/// temporary name, given its tables and format mark, then renamed into
/// place. A crash while creating leaves the temporary file (replaced by the
/// next attempt), never a file at `path` that is neither empty nor a store.
fn create(path: &Path) -> Result<(), StorageError> {
    let failed = |error: &dyn std::fmt::Display| StorageError::Open {
        path: path.to_path_buf(),
        reason: error.to_string(),
    };
    let mut creating = path.as_os_str().to_owned();
    creating.push(".creating");
    let creating = PathBuf::from(creating);
    // Left by a crash during an earlier attempt.
    let _ = std::fs::remove_file(&creating);
    let made = catch_unwind(AssertUnwindSafe(|| Database::create(&creating)));
    let db = match made {
        Ok(Ok(db)) => db,
        Ok(Err(error)) => return Err(failed(&error)),
        Err(_) => return Err(failed(&"the database panicked while creating it")),
    };
    let backend = RedbBackend {
        db,
        path: path.to_path_buf(),
    };
    backend.create_tables()?;
    drop(backend);
    std::fs::rename(&creating, path).map_err(|error| failed(&error))?;
    // The rename is durable once the directory is synced.
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        File::open(dir)
            .and_then(|dir| dir.sync_all())
            .map_err(|error| failed(&error))?;
    }
    Ok(())
}

/// A file that exists, has bytes and does not begin as a redb file does
/// is another program's.
fn check_magic(path: &Path) -> Result<(), StorageError> {
    let Ok(mut file) = File::open(path) else {
        // Missing (created below) or unreadable (redb says why).
        return Ok(());
    };
    let mut head = [0u8; 4];
    let mut read = 0;
    while read < head.len() {
        match file.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(_) => return Ok(()),
        }
    }
    if read == 0 || (read == MAGIC.len() && head[..] == MAGIC[..]) {
        return Ok(());
    }
    Err(StorageError::Foreign {
        path: path.to_path_buf(),
        reason: "it does not begin as a redb database does".into(),
    })
}

fn open_error(path: &Path, error: DatabaseError) -> StorageError {
    let path = path.to_path_buf();
    match error {
        DatabaseError::Storage(RedbStorage::Corrupted(reason)) => {
            StorageError::Damaged { path, reason }
        }
        DatabaseError::Storage(RedbStorage::Io(error)) => StorageError::Open {
            path,
            reason: error.to_string(),
        },
        DatabaseError::DatabaseAlreadyOpen => StorageError::Open {
            path,
            reason: "the file is open in another store".into(),
        },
        other => StorageError::Damaged {
            path,
            reason: other.to_string(),
        },
    }
}

//! Taking a snapshot of a nursery tree: each nursery's part is copied under its lock, then the
//! nested nurseries are visited with no lock held.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Core;
use crate::clock;
use crate::snapshot::{ChildSnapshot, Snapshot};

impl Core {
    /// The state of this nursery and of the nurseries opened inside its children, recursively.
    pub(crate) fn snapshot(&self) -> Snapshot {
        self.snapshot_as(false)
    }

    /// As [`snapshot`](Core::snapshot); `adopted` marks a nursery listed by its adopter.
    fn snapshot_as(&self, adopted: bool) -> Snapshot {
        // From now on, children note when they start to wait.
        self.timed.store(true, crate::sync::Ordering::Relaxed);
        let now_ms = clock::now_ms();
        // The upgraded cores are dropped after the lock is released.
        let (cancelled, deadline, entries, nested, unfinished) = {
            let inner = self.lock();
            // Read under the lock: a listed child removes its entry under this lock before it
            // stops counting, so the count is never below the number listed.
            let unfinished = self.len();
            let nested: Vec<(Arc<Core>, Option<u64>)> = inner
                .nested
                .iter()
                .filter_map(|nested| nested.core.upgrade().map(|core| (core, nested.child)))
                .collect();
            (
                inner.cancel,
                inner.deadline.as_ref().map(|deadline| deadline.at),
                inner.registry.view(),
                nested,
                unfinished,
            )
        };
        let joined = self.is_joined();
        let mut snapshot = Snapshot {
            cancelled,
            deadline: deadline.map(|at| at.saturating_duration_since(Instant::now())),
            limit: self.limit,
            joined,
            adopted,
            unfinished: if joined { 0 } else { unfinished },
            unread: self.unread(),
            children: Vec::new(),
            nurseries: Vec::new(),
        };
        if joined {
            return snapshot;
        }
        snapshot.children = entries
            .into_iter()
            .map(|entry| ChildSnapshot {
                id: entry.id,
                location: entry.site.location,
                shielded: entry.shielded,
                in_grace: entry.site.graced && cancelled.is_some(),
                cancelling: entry.cancelling,
                running_for: (entry.since_ms != clock::UNKNOWN).then(|| {
                    Duration::from_millis(clock::elapsed_ms(entry.since_ms, now_ms).into())
                }),
                nurseries: Vec::new(),
            })
            .collect();
        snapshot.children.sort_by_key(|child| child.id);
        for (core, child) in nested {
            // A dropped nursery is listed under its adopter only.
            if !core.is_live() || (child.is_some() && core.is_dropped()) {
                continue;
            }
            let nested = core.snapshot_as(child.is_none());
            let listed = child.and_then(|id| {
                snapshot
                    .children
                    .binary_search_by_key(&id, |listed| listed.id)
                    .ok()
            });
            match listed {
                Some(at) => snapshot.children[at].nurseries.push(nested),
                None => snapshot.nurseries.push(nested),
            }
        }
        snapshot
    }
}

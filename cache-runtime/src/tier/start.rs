//! Starting what keeps L1 coherent: tracking if the server takes it, else the backplane.

use std::sync::Arc;
use std::time::Duration;

use crate::observe::Coherence;
use crate::store::redis::RedisStore;
use crate::tier::backplane;
use crate::tier::marks::Marks;
use crate::tier::tracking::{self, Failure, State, Target};

/// Aborts the background task when the cache is dropped.
pub(crate) struct Task(tokio::task::JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts, on the current tokio runtime, the task that keeps `target` coherent.
///
/// With `tracking`, it turns on tracking (on every serving master of a cluster, see
/// [`cluster_tracking`](crate::tier::cluster_tracking)); the backplane then runs
/// alongside for the invalidation marks only. If the server refuses tracking at the first
/// answer, the backplane takes over L1, for the life of the cache. Without a runtime,
/// nothing starts and L1 stays off.
pub(crate) fn start(
    redis: &RedisStore,
    tracking: bool,
    target: Target,
    state: Arc<State>,
    marks: Arc<Marks>,
) -> Option<Task> {
    let handle = tokio::runtime::Handle::try_current().ok()?;
    let channel = redis.channel();
    let prefix = redis.prefix().to_owned();
    let timeout = redis.connect_timeout().max(Duration::from_millis(100));
    let tracked = tracking;
    let cluster = redis.is_cluster();
    // The nodes to connect to: one each for tracking, the backplane beside it, and the
    // backplane alone (behind sentinels, each asks for the current master).
    let (nodes, subscription, backplane_nodes) = (
        redis.subscription(),
        redis.subscription(),
        redis.subscription(),
    );
    if !tracked {
        state.set_mode(Coherence::Backplane);
    }
    Some(Task(handle.spawn(async move {
        if tracked {
            let tracker = tracking::Tracker {
                nodes,
                prefix,
                timeout,
                target: target.clone(),
                state: state.clone(),
            };
            let tracked = async {
                #[cfg(feature = "cluster")]
                if cluster {
                    return crate::tier::cluster_tracking::run(tracker).await;
                }
                let _ = cluster;
                tracking::run(tracker).await
            };
            let refused = tokio::select! {
                refused = tracked => refused,
                () = backplane::run(subscription, channel.clone(), None, marks.clone()) => return,
            };
            if let Failure::Refused(why) = refused {
                tracing::warn!(
                    "Redis refused client tracking ({why}): L1 is kept coherent by the backplane only"
                );
            }
            state.set_mode(Coherence::Backplane);
        }
        backplane::run(backplane_nodes, channel, Some(target), marks).await;
    })))
}

//! A worker that processes images, and sometimes fails.
//!
//! The resizing service behind an [`ImageWorker`] is shared and not always
//! healthy: calls fail transiently at a seeded rate (a connection reset, a 503
//! from an overloaded dependency), and with a fault plan a worker can be slow
//! or hang. Corrupt images always fail, permanently, whatever the plan.

use coordination::sim::{FaultInjector, FaultPlan};
use coordination::{Seed, WorkError, WorkItem, Worker, WorkerId, async_trait};

use crate::ImageWorkItem;

/// Processes images in simulated time, misbehaving as its [`FaultPlan`] says.
pub struct ImageWorker {
    /// Unique in its pool.
    id: WorkerId,
    /// Decides this worker's failures; seeded per worker so that one worker's
    /// bad luck does not depend on how busy the others were.
    faults: FaultInjector,
}

impl ImageWorker {
    /// Worker `id` in the run seeded by `seed`, misbehaving as `plan` says.
    pub fn new(id: u32, plan: FaultPlan, seed: Seed) -> Self {
        let id = WorkerId::new(id);
        Self {
            id,
            faults: FaultInjector::new(plan, seed, id),
        }
    }

    /// The fault plan this worker follows.
    pub fn plan(&self) -> &FaultPlan {
        self.faults.plan()
    }
}

#[async_trait]
impl Worker<ImageWorkItem> for ImageWorker {
    fn id(&self) -> WorkerId {
        self.id
    }

    async fn process(&self, image: &ImageWorkItem) -> Result<(), WorkError> {
        if image.is_corrupt() {
            // Decoding fails on the header, long before the resize would end.
            tokio::time::sleep(image.processing_time() / 10).await;
            return Err(WorkError::permanent(format!(
                "{} is corrupt: invalid JPEG header",
                image.name()
            )));
        }
        self.faults
            .perform(image.id(), image.processing_time())
            .await
    }
}

//! The gallery: the outside world the last stage publishes to.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::{Artifact, ImageId};

/// Names one intended publication: a publish with a key the gallery has
/// seen returns the first result and posts nothing (the `Idempotency-Key`
/// header of Stripe's API, which keeps keys for 24 hours).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// A key with this text.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One post users see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Post {
    /// Which image.
    pub image: ImageId,
    /// What was posted.
    pub artifact: Artifact,
    /// When, in pipeline time.
    pub at: Duration,
}

/// Everything published, as users see it.
#[derive(Debug, Clone, Default)]
pub struct Gallery {
    /// The posts, in order.
    posts: Vec<Post>,
    /// Keys seen, with the post each produced.
    keys: BTreeMap<IdempotencyKey, usize>,
}

impl Gallery {
    /// An empty gallery.
    pub fn new() -> Self {
        Self::default()
    }

    /// Posts `artifact` for `image`, every time it is called.
    pub fn publish(&mut self, image: ImageId, artifact: Artifact, now: Duration) -> Post {
        let post = Post {
            image,
            artifact,
            at: now,
        };
        self.posts.push(post);
        post
    }

    /// Posts `artifact` for `image` unless `key` was used before; either way
    /// returns the post made under `key`.
    pub fn publish_once(
        &mut self,
        key: IdempotencyKey,
        image: ImageId,
        artifact: Artifact,
        now: Duration,
    ) -> Post {
        if let Some(&position) = self.keys.get(&key) {
            return self.posts[position];
        }
        let post = self.publish(image, artifact, now);
        self.keys.insert(key, self.posts.len() - 1);
        post
    }

    /// Every post, in order.
    pub fn posts(&self) -> &[Post] {
        &self.posts
    }

    /// How many posts each image has, sorted by image.
    pub fn posts_per_image(&self) -> BTreeMap<ImageId, usize> {
        let mut counts = BTreeMap::new();
        for post in &self.posts {
            *counts.entry(post.image).or_default() += 1;
        }
        counts
    }
}

//! An exercise's id, `1.3`: the workshop's number, a dot, the exercise's
//! position in it.
//!
//! Ids arrive as text, from `exercises.toml` and from the command line, and
//! are read once here; everything after compares, orders and names packages
//! with the two numbers, so no code splits or rebuilds the text.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The cargo package of workshop `workshop`: `workshop1`.
pub fn package(workshop: u32) -> String {
    format!("workshop{workshop}")
}

/// A number written in digits only, as workshop and exercise numbers are:
/// `u32`'s own parsing would also take `+1`.
pub fn digits(text: &str) -> Option<u32> {
    text.bytes()
        .all(|byte| byte.is_ascii_digit())
        .then(|| text.parse().ok())
        .flatten()
}

/// An exercise's id: exercise `position` (from 1) of workshop `workshop`.
///
/// Ordered as the exercises are done: by workshop, then position, so `1.10`
/// comes after `1.9`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExerciseId {
    workshop: u32,
    position: u32,
}

impl ExerciseId {
    /// Exercise `position` of workshop `workshop`.
    pub fn new(workshop: u32, position: u32) -> Self {
        Self { workshop, position }
    }

    /// The workshop's number: 1 for `1.3`.
    pub fn workshop(self) -> u32 {
        self.workshop
    }

    /// The exercise's position in its workshop, from 1: 3 for `1.3`.
    pub fn position(self) -> u32 {
        self.position
    }

    /// The cargo package its file is in: `workshop1` for `1.3`.
    pub fn package(self) -> String {
        package(self.workshop)
    }
}

impl fmt::Display for ExerciseId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so a width such as `{:<4}` in a table applies.
        formatter.pad(&format!("{}.{}", self.workshop, self.position))
    }
}

/// Why a text is not an exercise id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExerciseIdError {
    /// No dot between the two numbers.
    #[error("{0:?} is not an exercise id: write the workshop, a dot and the exercise, as in 1.3")]
    NoDot(String),
    /// The part before the dot is not a workshop number.
    #[error("{text:?} is not an exercise id: {workshop:?} is not a workshop number")]
    Workshop {
        /// The whole text.
        text: String,
        /// The part before the dot.
        workshop: String,
    },
    /// The part after the dot is not an exercise's position (1 or more).
    #[error("{text:?} is not an exercise id: {position:?} is not an exercise number (1 or more)")]
    Position {
        /// The whole text.
        text: String,
        /// The part after the dot.
        position: String,
    },
}

impl FromStr for ExerciseId {
    type Err = ExerciseIdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (workshop, position) = text
            .split_once('.')
            .ok_or_else(|| ExerciseIdError::NoDot(text.to_string()))?;
        let workshop_number = digits(workshop).ok_or_else(|| ExerciseIdError::Workshop {
            text: text.to_string(),
            workshop: workshop.to_string(),
        })?;
        let position_number = digits(position)
            .filter(|position| *position >= 1)
            .ok_or_else(|| ExerciseIdError::Position {
                text: text.to_string(),
                position: position.to_string(),
            })?;
        Ok(Self::new(workshop_number, position_number))
    }
}

impl TryFrom<String> for ExerciseId {
    type Error = ExerciseIdError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<ExerciseId> for String {
    fn from(id: ExerciseId) -> Self {
        id.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_reads_back_as_it_is_written() {
        let id: ExerciseId = "2.3".parse().expect("2.3 is an id");
        assert_eq!((id.workshop(), id.position()), (2, 3));
        assert_eq!(id.to_string(), "2.3");
        assert_eq!(id.package(), "workshop2");
    }

    #[test]
    fn ids_order_by_number_not_by_text() {
        let ninth: ExerciseId = "1.9".parse().expect("an id");
        let tenth: ExerciseId = "1.10".parse().expect("an id");
        assert!(ninth < tenth);
    }

    #[test]
    fn a_malformed_id_says_which_part_is_wrong() {
        assert_eq!(
            "13".parse::<ExerciseId>(),
            Err(ExerciseIdError::NoDot("13".into()))
        );
        assert!(matches!(
            "x.1".parse::<ExerciseId>(),
            Err(ExerciseIdError::Workshop { workshop, .. }) if workshop == "x"
        ));
        for position in ["", "0", "+1", "1.2"] {
            assert!(
                matches!(
                    format!("1.{position}").parse::<ExerciseId>(),
                    Err(ExerciseIdError::Position { .. })
                ),
                "1.{position} is refused for its exercise number"
            );
        }
    }

    #[test]
    fn an_id_is_text_in_json_and_toml() {
        let id = ExerciseId::new(4, 2);
        assert_eq!(serde_json::to_string(&id).expect("serialises"), "\"4.2\"");
        let map: std::collections::BTreeMap<ExerciseId, u32> =
            serde_json::from_str("{\"4.2\": 1}").expect("an id is a map key");
        assert_eq!(map.get(&id), Some(&1));
        #[derive(Deserialize)]
        struct Entry {
            id: ExerciseId,
        }
        let entry: Entry = toml::from_str("id = \"4.2\"").expect("4.2 is an id");
        assert_eq!(entry.id, id);
        let refused = toml::from_str::<Entry>("id = \"4\"")
            .err()
            .map(|error| error.to_string());
        assert!(
            refused.is_some_and(|message| message.contains("is not an exercise id")),
            "a catalogue's malformed id is refused with the reason"
        );
    }
}

//! Moving advanced rules up and down the list (A3). The default rule is not in
//! the list: it always runs last.

use crate::ids::RuleId;
use serde::{Deserialize, Serialize};

/// Which way to move a rule in the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Towards the top: the rule runs earlier.
    Up,
    /// Towards the bottom: the rule runs later.
    Down,
}

/// Why a rule could not be moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    /// The rule is not in the list.
    #[error("rule {0} is not in the list of rules")]
    NotFound(RuleId),
    /// The rule is at the top already.
    #[error("rule {0} is already the first rule and cannot move up")]
    AlreadyFirst(RuleId),
    /// The rule is at the bottom already; only the default rule runs after it.
    #[error(
        "rule {0} is already the last rule and cannot move down (the default rule always runs last)"
    )]
    AlreadyLast(RuleId),
}

/// Swap rule `id` with its neighbour above (`Up`) or below (`Down`) in `order`,
/// which lists the advanced rules top to bottom. On error `order` is unchanged.
pub fn move_rule(order: &mut [RuleId], id: RuleId, dir: Direction) -> Result<(), MoveError> {
    let at = order
        .iter()
        .position(|r| *r == id)
        .ok_or(MoveError::NotFound(id))?;
    let other = match dir {
        Direction::Up => at.checked_sub(1).ok_or(MoveError::AlreadyFirst(id))?,
        Direction::Down => Some(at + 1)
            .filter(|i| *i < order.len())
            .ok_or(MoveError::AlreadyLast(id))?,
    };
    order.swap(at, other);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[i64]) -> Vec<RuleId> {
        v.iter().copied().map(RuleId).collect()
    }

    #[test]
    fn r_a3_rules_move_up_and_down() {
        let mut order = ids(&[1, 2, 3]);
        assert_eq!(move_rule(&mut order, RuleId(3), Direction::Up), Ok(()));
        assert_eq!(order, ids(&[1, 3, 2]));
        assert_eq!(move_rule(&mut order, RuleId(1), Direction::Down), Ok(()));
        assert_eq!(order, ids(&[3, 1, 2]));
    }

    #[test]
    fn r_a3_moves_past_either_end_are_refused_and_change_nothing() {
        let mut order = ids(&[1, 2]);
        assert_eq!(
            move_rule(&mut order, RuleId(1), Direction::Up),
            Err(MoveError::AlreadyFirst(RuleId(1)))
        );
        assert_eq!(
            move_rule(&mut order, RuleId(2), Direction::Down),
            Err(MoveError::AlreadyLast(RuleId(2)))
        );
        assert_eq!(
            move_rule(&mut order, RuleId(9), Direction::Up),
            Err(MoveError::NotFound(RuleId(9)))
        );
        assert_eq!(order, ids(&[1, 2]));
        let mut empty: Vec<RuleId> = Vec::new();
        assert!(move_rule(&mut empty, RuleId(1), Direction::Down).is_err());
    }

    #[test]
    fn move_errors_say_what_is_wrong() {
        assert_eq!(
            MoveError::AlreadyFirst(RuleId(4)).to_string(),
            "rule 4 is already the first rule and cannot move up"
        );
        assert_eq!(
            MoveError::NotFound(RuleId(4)).to_string(),
            "rule 4 is not in the list of rules"
        );
        assert!(
            MoveError::AlreadyLast(RuleId(4))
                .to_string()
                .contains("default rule always runs last")
        );
    }
}

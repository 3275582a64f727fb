//! Which content a member may see (P8): shared content and its own private
//! content; admins see all. `content_visible` is the rule `decide` applies to
//! one piece of content; `content_scope` is the same rule as a value the store
//! turns into the SQL filter of every content list. The tests below check the
//! two agree.

use super::decide::{Action, Actor, ContentFacts, Denied, decide};
use crate::ids::MemberId;

/// Whether the actor may see this content (P8).
pub(super) fn content_visible(actor: &Actor, c: &ContentFacts) -> bool {
    c.shared || c.author == actor.member || actor.is_admin()
}

/// The content lists of a member show exactly this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentScope {
    /// Shared content and the member's own private content.
    SharedAndOwn(MemberId),
    /// Everything in the account (the owner and admins).
    All,
}

impl ContentScope {
    /// Whether a piece of content is in the scope: what the SQL filter says.
    pub fn admits(self, c: &ContentFacts) -> bool {
        match self {
            ContentScope::SharedAndOwn(me) => c.shared || c.author == me,
            ContentScope::All => true,
        }
    }
}

/// The content scope of an actor, or why it may see no content at all
/// (inactive, or 2FA enrolment required): the same answer `decide` gives for
/// the member's own private content, the least anyone active sees.
pub fn content_scope(actor: &Actor) -> Result<ContentScope, Denied> {
    decide(
        actor,
        &Action::ViewContent(&ContentFacts {
            author: actor.member,
            shared: false,
        }),
    )?;
    Ok(if actor.is_admin() {
        ContentScope::All
    } else {
        ContentScope::SharedAndOwn(actor.member)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::{MemberStatus, Permission, PermissionSet, Preset};
    use crate::ids::{AccountId, UserId};

    fn actor(perms: PermissionSet, owner: bool, status: MemberStatus) -> Actor {
        Actor {
            user: UserId(1),
            member: MemberId(10),
            account: AccountId(1),
            status,
            permissions: perms,
            is_owner: owner,
            has_2fa: false,
            account_requires_2fa: false,
            teams: Vec::new(),
        }
    }

    #[test]
    fn the_list_scope_agrees_with_decide_for_every_actor_and_content() {
        let mut actors = Vec::new();
        for preset in Preset::ALL {
            for status in [
                MemberStatus::Active,
                MemberStatus::Deactivated,
                MemberStatus::Invited,
            ] {
                actors.push(actor(preset.permissions(), preset == Preset::Owner, status));
            }
        }
        actors.push(actor(
            PermissionSet::of(&[Permission::AccountManage]),
            false,
            MemberStatus::Active,
        ));
        let mut locked = actor(PermissionSet::all(), false, MemberStatus::Active);
        locked.account_requires_2fa = true;
        actors.push(locked);
        for a in &actors {
            for author in [MemberId(10), MemberId(11), MemberId(0)] {
                for shared in [false, true] {
                    let facts = ContentFacts { author, shared };
                    let decided = decide(a, &Action::ViewContent(&facts)).is_ok();
                    let listed = content_scope(a).is_ok_and(|s| s.admits(&facts));
                    assert_eq!(decided, listed, "{a:?} {facts:?}");
                }
            }
        }
    }

    #[test]
    fn members_see_shared_and_own_admins_see_all() {
        let member = actor(Preset::Member.permissions(), false, MemberStatus::Active);
        assert_eq!(
            content_scope(&member),
            Ok(ContentScope::SharedAndOwn(MemberId(10)))
        );
        let admin = actor(Preset::Admin.permissions(), false, MemberStatus::Active);
        assert_eq!(content_scope(&admin), Ok(ContentScope::All));
        let gone = actor(
            Preset::Admin.permissions(),
            false,
            MemberStatus::Deactivated,
        );
        assert_eq!(content_scope(&gone), Err(Denied::Inactive));
    }
}

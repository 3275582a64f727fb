//! The actions of a client card on a phone (issue 17's friction item "one
//! primary action per client card"): the one a viewer most likely takes
//! next with this client first, the others tucked under "More". The choice
//! follows what `decide` allowed (claim, contact); nothing is offered that
//! the desktop row would not.

/// The one action a client card offers first on a phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Primary {
    /// Unassigned, and the viewer may claim it (C2).
    Claim,
    /// The viewer's own client, with a phone number.
    Call,
    /// The viewer's own client, with an email address only.
    Email,
    /// Anything else: open the client's page.
    Open,
}

/// What a card offers: the primary action and the contact links.
#[derive(Debug, Clone)]
pub(super) struct CardActions {
    pub primary: Primary,
    /// Contact links, only for a viewer who may contact the client (its
    /// assignee, C1).
    pub tel: Option<String>,
    pub whatsapp: Option<String>,
    pub mailto: Option<String>,
}

impl CardActions {
    /// The card of a client: `can_claim` and `may_contact` as `decide`
    /// answered for the viewer.
    pub fn new(
        can_claim: bool,
        may_contact: bool,
        phone: Option<&str>,
        email: Option<&str>,
    ) -> Self {
        let phone = phone.filter(|_| may_contact);
        let tel = phone.and_then(tel_link);
        let mailto = email
            .filter(|e| may_contact && !e.trim().is_empty())
            .map(|e| format!("mailto:{e}"));
        let primary = if can_claim {
            Primary::Claim
        } else if tel.is_some() {
            Primary::Call
        } else if mailto.is_some() {
            Primary::Email
        } else {
            Primary::Open
        };
        CardActions {
            primary,
            tel,
            whatsapp: phone.and_then(whatsapp_link),
            mailto,
        }
    }

    /// Whether the primary action is `name` (claim, call, email, open), for
    /// the template.
    pub fn primary_is(&self, name: &str) -> bool {
        let me = match self.primary {
            Primary::Claim => "claim",
            Primary::Call => "call",
            Primary::Email => "email",
            Primary::Open => "open",
        };
        me == name
    }
}

/// A phone number as a `tel:` link: its `+` and digits.
pub(super) fn tel_link(phone: &str) -> Option<String> {
    let dial: String = phone
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    (dial.chars().filter(char::is_ascii_digit).count() >= 3).then(|| format!("tel:{dial}"))
}

/// A WhatsApp chat link for a phone number (wa.me takes its digits).
pub(super) fn whatsapp_link(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    (digits.len() >= 7).then(|| format!("https://wa.me/{digits}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_primary_action_is_claim_then_call_then_email_then_open() {
        let claim = CardActions::new(true, false, Some("+33 6 12 34 56 78"), None);
        assert_eq!(claim.primary, Primary::Claim);
        assert_eq!(
            claim.tel, None,
            "no contact link for a client not one's own"
        );
        let call = CardActions::new(false, true, Some("+33 6 12 34 56 78"), Some("a@b.co"));
        assert_eq!(call.primary, Primary::Call);
        assert_eq!(call.tel.as_deref(), Some("tel:+33612345678"));
        assert_eq!(call.whatsapp.as_deref(), Some("https://wa.me/33612345678"));
        assert_eq!(call.mailto.as_deref(), Some("mailto:a@b.co"));
        let email = CardActions::new(false, true, None, Some("a@b.co"));
        assert_eq!(email.primary, Primary::Email);
        let open = CardActions::new(false, false, Some("+33 6 12 34 56 78"), Some("a@b.co"));
        assert_eq!(open.primary, Primary::Open);
        assert!(open.tel.is_none() && open.whatsapp.is_none() && open.mailto.is_none());
    }
}

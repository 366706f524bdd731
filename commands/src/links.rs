//! The links messages carry. Each opens a page of the organization's portal in the web app,
//! `{public_url}/o/{code}/{page}`, and one table says which kind of message links to which page, so that a preview
//! (and a test following every link) builds the same links the messages do.

use portal_domain::values::{MessageKind, OrganizationCode};
use serde_json::Value;

use crate::templates;

/// A page of an organization's portal that a message links to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortalPage {
    /// Activates a new account from its token.
    Activate,
    /// Sets a new password from its token (a reset, or a staff member's invitation).
    ResetPassword,
    /// Confirms a new sign-in address from its token.
    ConfirmEmail,
    /// Create account.
    Register,
    /// The patient portal's sign-up, where the e-mailed activation code is entered.
    SignUp,
    /// The patient's wait list, where an offered time is accepted.
    WaitList,
}

impl PortalPage {
    /// Its path below the organization's portal.
    pub fn path(self) -> &'static str {
        match self {
            PortalPage::Activate => "activate",
            PortalPage::ResetPassword => "reset-password",
            PortalPage::ConfirmEmail => "confirm-email",
            PortalPage::Register => "register",
            PortalPage::SignUp => "sign-up",
            PortalPage::WaitList => "appointments/wait-list",
        }
    }

    /// Whether its link carries a token (a one-time link to one person's account).
    pub fn takes_token(self) -> bool {
        matches!(
            self,
            PortalPage::Activate | PortalPage::ResetPassword | PortalPage::ConfirmEmail
        )
    }
}

/// The variable of a message of `kind` that holds a link, and the page it opens; None for kinds without a link.
pub fn linked_page(kind: MessageKind) -> Option<(&'static str, PortalPage)> {
    use MessageKind::*;
    match kind {
        Activation => Some(("link", PortalPage::Activate)),
        PasswordReset | StaffInvitation | AuditorInvitation => {
            Some(("link", PortalPage::ResetPassword))
        }
        ConfirmEmail => Some(("link", PortalPage::ConfirmEmail)),
        NoAccount => Some(("register_link", PortalPage::Register)),
        PatientActivationCode => Some(("link", PortalPage::SignUp)),
        SlotOffered => Some(("link", PortalPage::WaitList)),
        _ => None,
    }
}

/// The link to `page` of the organization's portal, with its token if it takes one.
pub fn portal_link(
    public_url: &str,
    organization: &OrganizationCode,
    page: PortalPage,
    token: Option<&str>,
) -> String {
    let base = format!(
        "{}/o/{}/{}",
        public_url.trim_end_matches('/'),
        organization.as_str(),
        page.path()
    );
    match token {
        Some(token) => format!("{base}?token={token}"),
        None => base,
    }
}

/// The link of a patient's activation code e-mail: the sign-up page with the code in the fragment, which the page
/// fills in and the browser never sends to a server (so no access log holds it).
pub fn sign_up_link(public_url: &str, organization: &OrganizationCode, code: &str) -> String {
    let page = portal_link(public_url, organization, PortalPage::SignUp, None);
    let code: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!("{page}#code={code}")
}

/// The token previews put in their links: it opens the page, which says the link is not valid.
pub const PREVIEW_TOKEN: &str = "preview";

/// Data to preview a message of `kind` of this organization: every variable with a sample value, the organization's
/// name, and its link (if it has one) to the real page with a token that is no one's.
pub fn preview_data(
    kind: MessageKind,
    public_url: &str,
    organization: &OrganizationCode,
    organization_name: &str,
) -> Value {
    let mut data = templates::sample(kind);
    if let Value::Object(map) = &mut data {
        map.insert("organization".to_owned(), Value::from(organization_name));
        if let Some((variable, page)) = linked_page(kind) {
            let token = page.takes_token().then_some(PREVIEW_TOKEN);
            map.insert(
                variable.to_owned(),
                Value::from(portal_link(public_url, organization, page, token)),
            );
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code() -> OrganizationCode {
        OrganizationCode::parse("umncpd").unwrap()
    }

    #[test]
    fn every_kind_with_a_link_variable_links_to_a_page() {
        for kind in MessageKind::ALL {
            let has_link = kind.variables().iter().any(|v| v.ends_with("link"));
            assert_eq!(has_link, linked_page(*kind).is_some(), "{kind:?}");
            if let Some((variable, _)) = linked_page(*kind) {
                assert!(kind.variables().contains(&variable), "{kind:?}");
            }
        }
    }

    #[test]
    fn a_link_opens_the_page_of_the_organizations_portal() {
        let link = portal_link(
            "https://portal.example/",
            &code(),
            PortalPage::Activate,
            Some("abc"),
        );
        assert_eq!(link, "https://portal.example/o/umncpd/activate?token=abc");
        let link = portal_link("https://portal.example", &code(), PortalPage::SignUp, None);
        assert_eq!(link, "https://portal.example/o/umncpd/sign-up");
    }

    #[test]
    fn a_code_e_mail_links_to_sign_up_with_the_code_in_the_fragment() {
        let link = sign_up_link("https://portal.example", &code(), "K7QF-29XM");
        assert_eq!(
            link,
            "https://portal.example/o/umncpd/sign-up#code=K7QF-29XM"
        );
    }

    #[test]
    fn a_preview_links_to_the_real_page_with_a_token_that_is_no_ones() {
        let data = preview_data(
            MessageKind::PasswordReset,
            "https://portal.example",
            &code(),
            "UMN CPD",
        );
        assert_eq!(
            data["link"],
            "https://portal.example/o/umncpd/reset-password?token=preview"
        );
        assert_eq!(data["organization"], "UMN CPD");
        assert_eq!(data["salutation"], "[salutation]");
        let data = preview_data(
            MessageKind::NoAccount,
            "https://portal.example",
            &code(),
            "UMN CPD",
        );
        assert_eq!(
            data["register_link"],
            "https://portal.example/o/umncpd/register"
        );
    }
}

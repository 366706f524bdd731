//! How people reach an organization's help desk: every seed ends with a number to call and its hours ("please
//! email or call 612-626-7600 ... 8:00am - 4:30pm"). Staff set them; the portal shows them on its pages, in the
//! answers that send people to the help desk, and at the foot of every e-mail and text.

use serde::{Deserialize, Serialize};

use super::activity::FieldError;
use super::person_name::looks_like_link;
use super::EmailAddress;

/// The longest display name, hours text or help number, in characters.
const MAX_TEXT_CHARS: usize = 100;
/// The longest web address, in characters.
const MAX_WEB_CHARS: usize = 200;

/// An organization's help contacts; every part is optional, and an organization without any shows none.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelpContacts {
    /// The name people know the help desk or portal by (`UMN Office of CPD`); else the organization's name.
    pub display_name: Option<String>,
    /// The number to call, as people dial it (`612-626-7600 or 1-800-776-8636`).
    pub phone: Option<String>,
    /// When someone answers (`Monday to Friday, 8:00am to 4:30pm CT`).
    pub hours: Option<String>,
    /// The support e-mail address.
    pub email: Option<EmailAddress>,
    /// The organization's web address (https).
    pub web: Option<String>,
}

/// The raw help contacts, as staff typed them (empty or missing: none).
#[derive(Clone, Debug, Default)]
pub struct HelpContactsInput<'a> {
    /// Display name.
    pub display_name: Option<&'a str>,
    /// Help number.
    pub phone: Option<&'a str>,
    /// Help hours.
    pub hours: Option<&'a str>,
    /// Support e-mail address.
    pub email: Option<&'a str>,
    /// Web address.
    pub web: Option<&'a str>,
}

fn present(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|s| !s.is_empty())
}

/// One line of plain text, at most `MAX_TEXT_CHARS`: it goes into e-mail footers and texts as it is.
fn one_line(
    raw: Option<&str>,
    field: &'static str,
    rule: &'static str,
) -> Result<Option<String>, FieldError> {
    let Some(text) = present(raw) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_TEXT_CHARS || text.chars().any(char::is_control) {
        return Err(FieldError { field, rule });
    }
    Ok(Some(text.to_owned()))
}

impl HelpContacts {
    /// Checks each part; the first wrong one is refused with its field and rule.
    pub fn parse(input: HelpContactsInput<'_>) -> Result<Self, FieldError> {
        let display_name = one_line(
            input.display_name,
            "displayName",
            "is one line of at most 100 characters",
        )?;
        if display_name.as_deref().is_some_and(looks_like_link) {
            return Err(FieldError {
                field: "displayName",
                rule: "is a name, not a web address (put that in web)",
            });
        }
        let phone = one_line(
            input.phone,
            "phone",
            "is a telephone number of at most 100 characters",
        )?;
        if let Some(phone) = &phone {
            let digits = phone.chars().filter(char::is_ascii_digit).count();
            let allowed = |c: char| c.is_ascii_alphanumeric() || " +-().,/".contains(c);
            if digits < 7 || !phone.chars().all(allowed) {
                return Err(FieldError {
                    field: "phone",
                    rule: "is a telephone number: at least 7 digits, with spaces, +, -, (, ), dots or words such as \"or\" and \"ext\"",
                });
            }
        }
        let hours = one_line(
            input.hours,
            "hours",
            "is one line of at most 100 characters",
        )?;
        if hours.as_deref().is_some_and(looks_like_link) {
            return Err(FieldError {
                field: "hours",
                rule: "says when someone answers, without a web address",
            });
        }
        let email = match present(input.email) {
            Some(raw) => Some(EmailAddress::parse(raw).map_err(|_| FieldError {
                field: "email",
                rule: "is an e-mail address",
            })?),
            None => None,
        };
        let web = match present(input.web) {
            Some(raw) => Some(web_address(raw)?),
            None => None,
        };
        Ok(Self {
            display_name,
            phone,
            hours,
            email,
            web,
        })
    }

    /// Whether there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// The foot of an e-mail: who to contact and how, in one paragraph; None without contacts.
    pub fn email_footer(&self, organization: &str) -> Option<String> {
        let name = self.display_name.as_deref().unwrap_or(organization);
        let mut ways = Vec::new();
        match (&self.phone, &self.hours) {
            (Some(phone), Some(hours)) => ways.push(format!("call {phone} ({hours})")),
            (Some(phone), None) => ways.push(format!("call {phone}")),
            _ => {}
        }
        if let Some(email) = &self.email {
            ways.push(format!("write to {email}"));
        }
        if let Some(web) = &self.web {
            ways.push(format!("visit {web}"));
        }
        if ways.is_empty() {
            return None;
        }
        let last = ways.pop().unwrap_or_default();
        let ways = if ways.is_empty() {
            last
        } else {
            format!("{} or {last}", ways.join(", "))
        };
        Some(format!("Questions? Contact {name}: {ways}."))
    }

    /// The foot of a text: the number to call, and its hours; None without a number.
    pub fn text_footer(&self) -> Option<String> {
        let phone = self.phone.as_deref()?;
        Some(match &self.hours {
            Some(hours) => format!("Help: {phone}, {hours}"),
            None => format!("Help: {phone}"),
        })
    }

    /// How to reach the help desk, for an answer that sends someone to it ("contact UMN Office of CPD at
    /// 612-626-7600 (8:00am to 4:30pm) or cpd@umn.edu"); None without a number or an address.
    pub fn contact(&self, organization: &str) -> Option<String> {
        let name = self.display_name.as_deref().unwrap_or(organization);
        let phone = self.phone.as_ref().map(|phone| match &self.hours {
            Some(hours) => format!("{phone} ({hours})"),
            None => phone.clone(),
        });
        let at = match (phone, &self.email) {
            (Some(phone), Some(email)) => format!("{phone} or {email}"),
            (Some(phone), None) => phone,
            (None, Some(email)) => email.to_string(),
            (None, None) => return None,
        };
        Some(format!("contact {name} at {at}"))
    }
}

/// An https (or http) address with a host, no spaces or characters that would break out of a link.
fn web_address(raw: &str) -> Result<String, FieldError> {
    let refused = || FieldError {
        field: "web",
        rule: "is a web address starting with https:// (at most 200 characters)",
    };
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .ok_or_else(refused)?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if raw.chars().count() > MAX_WEB_CHARS
        || !host.contains('.')
        || raw
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "\"'<>\\`".contains(c))
    {
        return Err(refused());
    }
    Ok(raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn umn() -> HelpContacts {
        HelpContacts::parse(HelpContactsInput {
            display_name: Some("UMN Office of CPD"),
            phone: Some("612-626-7600 or 1-800-776-8636"),
            hours: Some("Monday to Friday, 8:00am to 4:30pm"),
            email: Some("cmeinfo@umn.edu"),
            web: Some("https://cme.umn.edu"),
        })
        .unwrap()
    }

    #[test]
    fn the_faqs_help_desk_is_accepted_and_shown_in_every_footer() {
        let help = umn();
        assert_eq!(
            help.email_footer("umncpd").unwrap(),
            "Questions? Contact UMN Office of CPD: call 612-626-7600 or 1-800-776-8636 (Monday to Friday, 8:00am to \
             4:30pm), write to cmeinfo@umn.edu or visit https://cme.umn.edu."
        );
        assert_eq!(
            help.text_footer().unwrap(),
            "Help: 612-626-7600 or 1-800-776-8636, Monday to Friday, 8:00am to 4:30pm"
        );
        assert_eq!(
            help.contact("umncpd").unwrap(),
            "contact UMN Office of CPD at 612-626-7600 or 1-800-776-8636 (Monday to Friday, 8:00am to 4:30pm) or \
             cmeinfo@umn.edu"
        );
    }

    #[test]
    fn no_contacts_show_no_footer() {
        let none = HelpContacts::parse(HelpContactsInput::default()).unwrap();
        assert!(none.is_empty());
        assert_eq!(none.email_footer("x"), None);
        assert_eq!(none.text_footer(), None);
        assert_eq!(none.contact("x"), None);
    }

    #[test]
    fn each_wrong_part_is_refused_at_its_field() {
        let field = |input: HelpContactsInput<'_>| HelpContacts::parse(input).unwrap_err().field;
        assert_eq!(
            field(HelpContactsInput {
                phone: Some("call us"),
                ..Default::default()
            }),
            "phone"
        );
        assert_eq!(
            field(HelpContactsInput {
                hours: Some("see www.example.org"),
                ..Default::default()
            }),
            "hours"
        );
        assert_eq!(
            field(HelpContactsInput {
                email: Some("not an address"),
                ..Default::default()
            }),
            "email"
        );
        assert_eq!(
            field(HelpContactsInput {
                web: Some("javascript:alert(1)"),
                ..Default::default()
            }),
            "web"
        );
        assert_eq!(
            field(HelpContactsInput {
                web: Some("https://example.org/\"onclick"),
                ..Default::default()
            }),
            "web"
        );
        assert_eq!(
            field(HelpContactsInput {
                display_name: Some("Help\nDesk"),
                ..Default::default()
            }),
            "displayName"
        );
    }
}

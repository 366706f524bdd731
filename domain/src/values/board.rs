use serde::{Deserialize, Serialize};

use super::activity::FieldError;

/// A certifying board, or a state licensing board, to which completions are reported through ACCME's PARS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertifyingBoard {
    /// American Board of Internal Medicine (MOC points).
    Abim,
    /// American Board of Anesthesiology.
    Aba,
    /// American Board of Pediatrics.
    Abp,
    /// American Board of Ophthalmology.
    Abo,
    /// American Board of Otolaryngology – Head and Neck Surgery.
    Abohns,
    /// American Board of Pathology.
    Abpath,
    /// American Board of Surgery.
    Abs,
    /// A state medical licensing board (the licence of the profile).
    StateLicensingBoard,
}

impl CertifyingBoard {
    /// The abbreviation PARS and boards use.
    pub fn abbreviation(&self) -> &'static str {
        match self {
            CertifyingBoard::Abim => "ABIM",
            CertifyingBoard::Aba => "ABA",
            CertifyingBoard::Abp => "ABP",
            CertifyingBoard::Abo => "ABO",
            CertifyingBoard::Abohns => "ABOHNS",
            CertifyingBoard::Abpath => "ABPATH",
            CertifyingBoard::Abs => "ABS",
            CertifyingBoard::StateLicensingBoard => "STATE",
        }
    }
}

/// The learner's consent to report their completions to a board, with their id at that board.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardReporting {
    /// The board.
    pub board: CertifyingBoard,
    /// The learner's id (or licence number) at the board: 1 to 30 letters, digits or hyphens.
    pub board_id: String,
}

impl BoardReporting {
    /// Checks the id and keeps it in upper case.
    pub fn new(board: CertifyingBoard, board_id: &str) -> Result<Self, FieldError> {
        let id = board_id.trim().to_ascii_uppercase();
        if id.is_empty()
            || id.len() > 30
            || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(FieldError {
                field: "boardId",
                rule: "has 1 to 30 letters, digits or hyphens",
            });
        }
        Ok(Self {
            board,
            board_id: id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn board_ids_are_kept_in_upper_case() {
        let reporting = BoardReporting::new(CertifyingBoard::Abim, " ab-123 ").unwrap();
        assert_eq!(reporting.board_id, "AB-123");
        assert!(BoardReporting::new(CertifyingBoard::Abim, "").is_err());
        assert!(BoardReporting::new(CertifyingBoard::Abim, "12 34").is_err());
    }
}
